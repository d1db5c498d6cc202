"""`provisioner hosting ...` (contract.md): parse -> call one service -> print."""

from __future__ import annotations

import click
from flask import current_app

from provisioner.cli import json_option
from provisioner.hosting import services


def _runner():
    """The app's PlaybookRunner when create_app registered one, else ansible-runner."""
    runner = current_app.extensions.get("hosting_runner")
    if runner is None:
        from provisioner.hosting.runner import AnsibleRunner

        runner = AnsibleRunner()
    return runner


def _echo_line(line: str) -> None:
    click.echo(line, err=True)


def register(main: click.Group) -> None:
    main.add_command(hosting_group)


@click.group("hosting")
def hosting_group():
    """Web hosting accounts, FTP users, subdomains and hosting servers."""


@hosting_group.group("server")
def server_group():
    """Hosting servers (Ansible inventory hosts)."""


@server_group.command("add")
@click.argument("name")
@click.option("--connection", type=click.Choice(["local", "ssh"]), required=True)
@click.option("--root", help="local: directory holding every path, config, pid and log file")
@click.option("--host", help="ssh: the server's address")
@click.option("--user", "ssh_user", help="ssh: the remote user")
@click.option("--http-port", type=int)
@click.option("--ftp-port", type=int)
@click.option("--capacity", "capacity_bytes", type=int, help="bytes (local default: disk size)")
@json_option
def server_add(name, connection, root, host, ssh_user, http_port, ftp_port, capacity_bytes):
    """Add a hosting server."""
    server = services.add_server(
        name,
        connection=connection,
        root=root,
        host=host,
        ssh_user=ssh_user,
        http_port=http_port,
        ftp_port=ftp_port,
        capacity_bytes=capacity_bytes,
    )
    return server.to_dict(), f"hosting server {server.name} added ({server.capacity_bytes} bytes)"


@server_group.command("list")
@json_option
def server_list():
    """Hosting servers and their free capacity."""
    servers = services.list_servers()
    lines = [
        f"{s.name:<20} {s.connection:<6} free {s.free_bytes} of {s.capacity_bytes}" for s in servers
    ]
    return [s.to_dict() for s in servers], "\n".join(lines) or "no hosting servers"


@hosting_group.command("create")
@click.option("--school", "school_urn", required=True)
@click.option("--domain", required=True)
@click.option("--plan", default="standard", show_default=True)
@click.option("--server", "server_name")
@click.option("--wordpress", is_flag=True)
@json_option
def create(school_urn, domain, plan, server_name, wordpress):
    """Create a hosting account; waits until it is active or failed."""
    account = services.create_account(
        _runner(),
        school_urn=school_urn,
        domain=domain,
        plan=plan,
        server_name=server_name,
        wordpress=wordpress,
        on_line=_echo_line,
    )
    text = f"account {account.name} ({account.domain}) is {account.status} on {account.server.name}"
    if account.wordpress:
        text += f"\nWordPress: finish the install at {account.wordpress_admin_url}install.php"
    return account.to_dict(), text


def _state_command(verb: str, func):
    @hosting_group.command(verb, help=f"{verb.capitalize()} a hosting account.")
    @click.argument("account")
    @json_option
    def command(account):
        result = func(_runner(), account, on_line=_echo_line)
        return result.to_dict(), f"account {result.name} is {result.status}"

    return command


suspend = _state_command("suspend", services.suspend)
unsuspend = _state_command("unsuspend", services.unsuspend)
delete = _state_command("delete", services.delete)


@hosting_group.command("usage")
@click.argument("account", required=False)
@json_option
def usage(account):
    """Bytes used and quota, per account."""
    accounts = services.refresh_usage(_runner(), account)
    lines = [
        f"{a.name:<24} {a.used_bytes or 0:>14} of {a.quota_bytes} bytes  {a.status}"
        for a in accounts
    ]
    data = [
        {"account": a.name, "used_bytes": a.used_bytes, "quota_bytes": a.quota_bytes}
        for a in accounts
    ]
    return data, "\n".join(lines) or "no hosting accounts"


@hosting_group.group("ftp")
def ftp_group():
    """FTP users of an account."""


@ftp_group.command("add")
@click.argument("account")
@click.option("--user", required=True)
@click.option("--path", default="", help="folder inside the account to chroot the user to")
@json_option
def ftp_add(account, user, path):
    """Add an FTP user; prints its password once."""
    ftp, password = services.add_ftp_account(_runner(), account, user, path, on_line=_echo_line)
    data = {"account": account, "user": ftp.user, "path": ftp.path, "password": password}
    return data, f"FTP user {ftp.user} added\npassword (shown once): {password}"


@hosting_group.group("subdomain")
def subdomain_group():
    """Subdomains of an account."""


@subdomain_group.command("add")
@click.argument("account")
@click.argument("label")
@json_option
def subdomain_add(account, label):
    """Add a subdomain (its vhost and docroot)."""
    sub = services.add_subdomain(_runner(), account, label, on_line=_echo_line)
    return {"account": account, "subdomain": sub.fqdn}, f"subdomain {sub.fqdn} added"
