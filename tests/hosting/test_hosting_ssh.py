"""Hosting servers reached over ssh: a real OpenSSH sshd on 127.0.0.1 (its own host
key, known_hosts, client key), and a self-contained hosting root (--root) on the
btrfs image, so the accounts' nginx, php-fpm and pure-ftpd are started by hostctl
over that ssh connection and never touch the machine's own /etc/nginx.

The `system` layout (an ssh server without --root: the system's own services) is in
test_hosting_system_layout.py.
"""

from __future__ import annotations

import ftplib
import io
import json
import secrets
from pathlib import Path

import pytest

from provisioner.errors import ValidationError
from provisioner.hosting import servers
from provisioner.hosting.models import GIB
from provisioner.hosting.runner import PlaybookFailed, create_account, run_or_raise
from provisioner.hosting.target import HostingTarget
from tests.hosting.conftest import _stop_services, free_port
from tests.hosting.ssh_server import start_sshd
from tests.hosting.test_hosting_lifecycle import ftp_login, get, leftovers

QUOTA = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def sshd(hosting_packages, tmp_path_factory):
    server = start_sshd(tmp_path_factory.mktemp("sshd"), free_port())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ssh_root(btrfs_root) -> Path:
    """A second hosting root on the btrfs image; its services stopped at the end."""
    root = btrfs_root / f"ssh-{secrets.token_hex(3)}"
    yield root
    _stop_services(root)


@pytest.fixture(scope="module")
def ssh_ports():
    return {"http": free_port(), "ftp": free_port()}


def _options(sshd, root: Path, ports: dict, **override) -> dict:
    options = {
        "host": "127.0.0.1",
        "port": sshd.port,
        "ssh_user": "root",
        "identity_file": str(sshd.client_key),
        "known_hosts": str(sshd.known_hosts),
        "root": str(root),
        "listen": "127.0.0.1",
        "http_port": ports["http"],
        "ftp_port": ports["ftp"],
        "capacity_bytes": GIB,
    }
    return options | override


@pytest.fixture(scope="module")
def made_accounts(sshd, ssh_root, ssh_ports, hosting_runner):
    """Account names; whatever a failing test left is deleted over ssh at the end."""
    made: list[str] = []
    yield made
    target = HostingTarget(
        name="ssh-cleanup", connection="ssh", **_target_options(sshd, ssh_root, ssh_ports)
    )
    for name in made:
        if leftovers(target, name):
            hosting_runner.run("delete.yml", target, {"account": name})


def _target_options(sshd, root, ports) -> dict:
    """The same server as HostingTarget fields."""
    options = _options(sshd, root, ports)
    options["user"] = options.pop("ssh_user")
    del options["capacity_bytes"]
    return options


def _cli_args(name: str, options: dict) -> list[str]:
    args = ["hosting", "server", "add", name, "--connection", "ssh"]
    flags = {"ssh_user": "--user", "capacity_bytes": "--capacity"}
    for key, value in options.items():
        args += [flags.get(key, "--" + key.replace("_", "-")), str(value)]
    return args


def test_cli_adds_an_ssh_server_and_checks_it(runner, sshd, ssh_root, ssh_ports):
    result = runner.invoke(_cli_args("web1", _options(sshd, ssh_root, ssh_ports)) + ["--json"])
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert added["layout"] == "self_contained" and added["listen"] == "127.0.0.1"
    assert added["port"] == sshd.port and added["user"] == "root"
    assert added["identity_file"] == str(sshd.client_key)
    assert added["known_hosts"] == str(sshd.known_hosts)

    listed = runner.invoke(["hosting", "server", "list"])
    assert f"root@127.0.0.1:{sshd.port}" in listed.output and "self_contained" in listed.output

    result = runner.invoke(["hosting", "server", "check", "web1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report["reachable"] is True and report["user"] == "root"
    assert report["python_version"].startswith("3.")
    # the root does not exist yet: its nearest existing parent is probed
    assert report["filesystem"] == "btrfs" and report["quota_backend"] == "btrfs"
    assert report["binaries"] == {"nginx": True, "php-fpm": True, "pure-ftpd": True}
    assert report["filesystem_bytes"] > 0
    assert "Accepted publickey for root from 127.0.0.1" in sshd.log(), "it went over ssh"

    text = runner.invoke(["hosting", "server", "check", "web1"]).output
    assert f"web1 (root@127.0.0.1:{sshd.port}) is reachable" in text
    assert "quota backend btrfs" in text


def test_account_lifecycle_over_ssh(app, sshd, ssh_root, ssh_ports, hosting_runner, made_accounts):
    server = servers.add_server("web2", connection="ssh", **_options(sshd, ssh_root, ssh_ports))
    target = server.target()
    hostvars = target.inventory()["all"]["hosts"]["web2"]
    assert (
        hostvars["ansible_connection"] == "ssh" and hostvars["hosting_layout"] == "self_contained"
    )
    assert "StrictHostKeyChecking=yes" in hostvars["ansible_ssh_common_args"]

    account = f"ss{secrets.token_hex(4)}"
    made_accounts.append(account)
    domain = f"{account}.example.sch.uk"
    create_vars = {
        "account": account,
        "domain": domain,
        "quota_bytes": QUOTA,
        "wordpress": False,
        "db_password": secrets.token_hex(12),
    }
    created = create_account(hosting_runner, target, create_vars)
    assert created.ok and created.changed > 0
    assert (ssh_root / "run" / "nginx.pid").exists(), "hostctl started the root's own nginx"
    status, _, page = get(target, domain)
    assert status == 200 and f"{domain} is ready for its website" in page

    ftp_vars = {
        "account": account,
        "ftp_user": f"{account}.web",
        "ftp_path": "public_html",
        "ftp_password": secrets.token_hex(12),
    }
    run_or_raise(hosting_runner, "ftp.yml", target, ftp_vars)
    ftp = ftp_login(target, ftp_vars["ftp_user"], ftp_vars["ftp_password"])
    ftp.storbinary("STOR index.html", io.BytesIO(b"<p>Welcome back</p>\n"))
    ftp.quit()
    assert get(target, domain) == (200, None, "<p>Welcome back</p>\n")

    usage = run_or_raise(hosting_runner, "usage.yml", target, {"account": account})
    report = usage.facts["hosting_usage"]
    assert report["quota_bytes"] == QUOTA and 0 < report["used_bytes"] < QUOTA

    run_or_raise(hosting_runner, "suspend.yml", target, {"account": account})
    status, _, page = get(target, domain)
    assert status == 503 and "temporarily unavailable" in page
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp_login(target, ftp_vars["ftp_user"], ftp_vars["ftp_password"])

    run_or_raise(hosting_runner, "delete.yml", target, {"account": account})
    assert leftovers(target, account) == []
    assert get(target, domain)[0] == 404


def test_a_host_key_that_does_not_match_stops_the_run(
    sshd, ssh_root, ssh_ports, hosting_runner, made_accounts
):
    options = _target_options(sshd, ssh_root, ssh_ports)
    options["known_hosts"] = str(sshd.other_known_hosts())
    target = HostingTarget(name="impostor", connection="ssh", **options)
    account = f"hk{secrets.token_hex(4)}"
    made_accounts.append(account)
    variables = {
        "account": account,
        "domain": f"{account}.example.sch.uk",
        "quota_bytes": QUOTA,
        "wordpress": False,
        "db_password": secrets.token_hex(12),
    }
    with pytest.raises(PlaybookFailed) as exc:
        create_account(hosting_runner, target, variables)
    failure = exc.value.result.failure
    assert "unreachable" in failure and "Host key verification failed" in failure, failure
    assert leftovers(target, account) == []


def test_an_unreachable_server_fails_its_check_naming_the_host(runner, sshd, ssh_root, ssh_ports):
    closed = free_port()  # nothing listens there
    options = _options(sshd, ssh_root, ssh_ports, port=closed)
    assert runner.invoke(_cli_args("gone", options)).exit_code == 0
    result = runner.invoke(["hosting", "server", "check", "gone"])
    assert result.exit_code == 1
    assert f"gone (root@127.0.0.1:{closed}) failed its check" in result.output
    assert "unreachable" in result.output and "Connection refused" in result.output


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"identity_file": "keys/id_ed25519"}, "identity_file", "must be an absolute path"),
        ({"identity_file": "/nonexistent/id_ed25519"}, "identity_file", "not an existing file"),
        ({"known_hosts": "known_hosts"}, "known_hosts", "must be an absolute path"),
        ({"port": 0}, "port", "--port must be a port number 1-65535"),
        ({"ssh_user": "root;reboot"}, "user", "must be a POSIX user name"),
        ({"host": "bad host"}, "host", "is not an IP address or host name"),
        ({"host": "-oProxyCommand=x"}, "host", "is not an IP address or host name"),
        ({"listen": "localhost"}, "listen", "must be an IPv4 address"),
    ],
    ids=[
        "relative-key",
        "missing-key",
        "relative-known-hosts",
        "port-0",
        "user-metachar",
        "host-space",
        "host-option",
        "listen-name",
    ],
)
def test_bad_ssh_options_are_refused_and_nothing_is_saved(
    runner, sshd, ssh_root, ssh_ports, override, field, message
):
    options = _options(sshd, ssh_root, ssh_ports, **override)
    with pytest.raises(ValidationError) as exc:
        servers.add_server("bad", connection="ssh", **options)
    assert exc.value.status == 422 and field in exc.value.fields
    assert message in exc.value.message

    result = runner.invoke(_cli_args("bad", options))
    assert result.exit_code == 1 and message in result.output
    assert servers.list_servers() == []
