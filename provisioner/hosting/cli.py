"""`provisioner hosting ...` (contract.md): parse -> call one service -> print."""

from __future__ import annotations

import click

from provisioner.cli import json_option
from provisioner.db import db
from provisioner.hosting import operations as ops
from provisioner.hosting import services
from provisioner.hosting.models import HostingAccount

_runner = ops.app_runner


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


def _wait(operation):
    """Run or wait for the operation, echo its log to stderr, raise if it failed."""
    from provisioner.jobs.service import log_lines

    operation = ops.run_and_wait(operation.id)
    for line in log_lines(operation.id):
        _echo_line(line.line)
    ops.raise_if_failed(operation)
    return operation


@hosting_group.command("create")
@click.option("--school", "school_urn", required=True)
@click.option("--domain", required=True)
@click.option("--plan", default="standard", show_default=True)
@click.option("--server", "server_name")
@click.option("--wordpress", is_flag=True)
@json_option
def create(school_urn, domain, plan, server_name, wordpress):
    """Create a hosting account; waits until it is active or failed. With --wordpress,
    prints the WordPress admin user and password (shown once)."""
    account, case, operation, admin_password = ops.request_create(
        school_urn=school_urn,
        domain=domain,
        plan=plan,
        server_name=server_name,
        wordpress=wordpress,
    )
    name, reference = account.name, case.reference
    _wait(operation)
    account = services.get_account(name)
    text = (
        f"case {reference}\n"
        f"account {account.name} ({account.domain}) is {account.status} on {account.server.name}"
    )
    data = account.to_dict() | {"case": reference, "operation": operation.id}
    if account.wordpress:
        admin = services.wordpress_admin_user(account)
        text += (
            f"\nWordPress admin: {account.wordpress_admin_url}\n"
            f"WordPress admin user {admin}\n"
            f"password (shown once): {admin_password}"
        )
        data |= {"wordpress_admin_user": admin, "wordpress_admin_password": admin_password}
    return data, text


def _state_command(verb: str):
    @hosting_group.command(verb, help=f"{verb.capitalize()} a hosting account; waits for it.")
    @click.argument("account")
    @json_option
    def command(account):
        result, case, operation = ops.request_state_change(account, verb)
        reference = case.reference
        _wait(operation)
        result = db.session.get(HostingAccount, result.id)
        data = result.to_dict() | {"case": reference, "operation": operation.id}
        return data, f"case {reference}\naccount {result.name} is {result.status}"

    return command


suspend = _state_command("suspend")
unsuspend = _state_command("unsuspend")
delete = _state_command("delete")


@hosting_group.command("usage")
@click.argument("account", required=False)
@json_option
def usage(account):
    """Bytes used and quota, per account (measured now; quota warnings sent if due)."""
    from provisioner.hosting import usage as usage_module

    accounts = usage_module.collect(_runner(), account)
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
    case, operation, password = ops.request_ftp_account(account, user, path)
    reference, user, path = case.reference, operation.payload["user"], operation.payload["path"]
    _wait(operation)
    data = {"account": account, "user": user, "path": path, "password": password}
    data |= {"case": reference, "operation": operation.id}
    return data, f"case {reference}\nFTP user {user} added\npassword (shown once): {password}"


@hosting_group.group("subdomain")
def subdomain_group():
    """Subdomains of an account."""


@subdomain_group.command("add")
@click.argument("account")
@click.argument("label")
@json_option
def subdomain_add(account, label):
    """Add a subdomain (its vhost and docroot); waits for it."""
    case, operation, fqdn = ops.request_subdomain(account, label)
    reference = case.reference
    _wait(operation)
    data = {"account": account, "subdomain": fqdn, "case": reference, "operation": operation.id}
    return data, f"case {reference}\nsubdomain {fqdn} added"
