"""`provisioner hosting ...` (contract.md): parse -> call one service -> print."""

from __future__ import annotations

from contextlib import contextmanager

import click

from provisioner.cli import json_option
from provisioner.hosting import operations as ops
from provisioner.hosting import school_changes as changes
from provisioner.hosting import servers, services
from provisioner.hosting import validation as v

_runner = ops.app_runner
# The CLI is the provider's own: no actor to check, the case's channel is
# "system", and each command waits until its change has finished.
_CLI = {"channel": "system", "wait": None}


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
@click.option(
    "--root",
    help="directory holding every path, config, pid and log file (self-contained; "
    "required for local; ssh without it: the system's own services and /srv/hosting)",
)
@click.option("--host", help="ssh: the server's host name or IP address")
@click.option("--user", "ssh_user", help="ssh: the remote user (not root: uses sudo)")
@click.option("--port", type=int, help="ssh: port (default 22)")
@click.option("--identity-file", help="ssh: absolute path of the private key on this machine")
@click.option("--known-hosts", help="ssh: known_hosts file holding the server's host key")
@click.option("--listen", help="ssh: IPv4 address nginx and pure-ftpd bind to")
@click.option("--http-port", type=int)
@click.option("--ftp-port", type=int)
@click.option("--capacity", "capacity_bytes", type=int, help="bytes (local default: disk size)")
@click.option(
    "--quota",
    type=click.Choice(servers.QUOTA_BACKENDS),
    default="auto",
    show_default=True,
    help="how account quotas are enforced; auto: btrfs qgroups, XFS project or ext4 user "
    "quotas, whichever the root's filesystem has; none: no filesystem limit",
)
@json_option
def server_add(name, connection, **options):
    """Add a hosting server. Host keys are always checked (--known-hosts, else the
    user's ~/.ssh/known_hosts)."""
    server = servers.add_server(name, connection=connection, **options)
    data = server.to_dict()
    text = f"hosting server {server.name} added ({server.capacity_bytes} bytes)"
    problem = servers.local_quota_problem(server)
    if problem:
        click.echo(f"warning: {problem}", err=True)
        data["warning"] = problem
    return data, text


@server_group.command("list")
@json_option
def server_list():
    """Hosting servers and their free capacity."""
    rows = servers.list_servers()
    lines = [
        f"{s.name:<20} {s.connection:<6} {s.target().layout:<15} {s.target().address:<28} "
        f"free {s.free_bytes} of {s.capacity_bytes}"
        for s in rows
    ]
    return [s.to_dict() for s in rows], "\n".join(lines) or "no hosting servers"


@server_group.command("check")
@click.argument("name")
@json_option
def server_check(name):
    """Reach the server and report what it has (changes nothing)."""
    report = servers.check_server(_runner(), name)
    binaries = report.get("binaries", {})
    text = "\n".join(
        [
            f"hosting server {name} ({report['address']}) is reachable",
            f"remote user {report.get('user')}, python {report.get('python_version')}",
            f"{report.get('probed_path')}: {report.get('filesystem')} "
            f"({report.get('filesystem_bytes')} bytes), quota backend "
            f"{report.get('quota_backend')}",
            "installed: " + ", ".join(f"{k} {'yes' if ok else 'NO'}" for k, ok in binaries.items()),
        ]
    )
    return report, text


def _echo_log(operation_id: int) -> None:
    from provisioner.jobs.service import log_lines

    for line in log_lines(operation_id):
        _echo_line(line.line)


@contextmanager
def _log_if_it_fails():
    """A change that failed: its operation's log to stderr before the error."""
    try:
        yield
    except ops.HostingChangeFailed as exc:
        _echo_log(exc.operation_id)
        raise


def _done(done, data: dict, text: str):
    """Echo the finished change's log to stderr; (data, text) with its case."""
    _echo_log(done.operation_id)
    data |= {"case": done.case_reference, "operation": done.operation_id}
    return data, f"case {done.case_reference}\n{text}"


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
    with _log_if_it_fails():
        account, done = changes.create_account(
            None,
            school_urn=school_urn,
            domain=domain,
            plan=plan,
            server=server_name,
            wordpress=wordpress,
            **_CLI,
        )
    text = f"account {account.name} ({account.domain}) is {account.status} on {account.server.name}"
    data = account.to_dict()
    if account.wordpress:
        admin = services.wordpress_admin_user(account)
        text += (
            f"\nWordPress admin: {account.wordpress_admin_url}\n"
            f"WordPress admin user {admin}\n"
            f"password (shown once): {done.password}"
        )
        data |= {"wordpress_admin_user": admin, "wordpress_admin_password": done.password}
    return _done(done, data, text)


def _state_command(verb: str):
    @hosting_group.command(verb, help=f"{verb.capitalize()} a hosting account; waits for it.")
    @click.argument("account")
    @json_option
    def command(account):
        with _log_if_it_fails():
            result, done = changes.change_state(None, services.get_account(account), verb, **_CLI)
        return _done(done, result.to_dict(), f"account {result.name} is {result.status}")

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


@ftp_group.command("list")
@click.argument("account")
@json_option
def ftp_list(account):
    """The FTP users of an account and the folders they are kept to."""
    users = services.get_account(account).ftp_accounts
    data = [{"user": f.user, "path": f.path} for f in users]
    lines = [f"{f.user:<32} /{f.path}" for f in users]
    return data, "\n".join(lines) or f"account {account} has no FTP users"


@ftp_group.command("add")
@click.argument("account")
@click.option("--user", required=True)
@click.option("--path", default="", help="folder inside the account to chroot the user to")
@json_option
def ftp_add(account, user, path):
    """Add an FTP user; prints its password once."""
    with _log_if_it_fails():
        done = changes.add_ftp_user(None, services.get_account(account), user, path, **_CLI)
    user, path = v.ftp_user(user), v.relative_path(path)
    data = {"account": account, "user": user, "path": path, "password": done.password}
    return _done(done, data, f"FTP user {user} added\npassword (shown once): {done.password}")


@ftp_group.command("reset")
@click.argument("account")
@click.argument("user")
@json_option
def ftp_reset(account, user):
    """Give an FTP user a new password; prints it once."""
    with _log_if_it_fails():
        done = changes.reset_ftp_password(None, services.get_account(account), user, **_CLI)
    data = {"account": account, "user": user, "password": done.password}
    text = f"FTP user {user}: new password (shown once): {done.password}"
    return _done(done, data, text)


@ftp_group.command("delete")
@click.argument("account")
@click.argument("user")
@json_option
def ftp_delete(account, user):
    """Delete an FTP user (its files stay in the account)."""
    with _log_if_it_fails():
        done = changes.delete_ftp_user(None, services.get_account(account), user, **_CLI)
    return _done(done, {"account": account, "user": user}, f"FTP user {user} deleted")


@hosting_group.group("subdomain")
def subdomain_group():
    """Subdomains of an account."""


@subdomain_group.command("add")
@click.argument("account")
@click.argument("label")
@click.option(
    "--contact",
    help="email of the nominated contact its DNS request is filed for "
    "(needed when the school has several)",
)
@json_option
def subdomain_add(account, label, contact):
    """Add a subdomain (its vhost and docroot) and file the DNS change request for its
    record on the school's zone; waits for the subdomain."""
    target = services.get_account(account)
    with _log_if_it_fails():
        done = changes.add_subdomain(None, target, label, contact=contact, **_CLI)
    request = done.dns_request
    fqdn = f"{v.subdomain_label(label)}.{target.domain}"
    data = {"account": account, "subdomain": fqdn}
    data["dns_request"] = request.id if request else None
    text = f"subdomain {fqdn} added\n{changes.dns_request_note(done, target)}"
    return _done(done, data, text)
