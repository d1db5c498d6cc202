"""An ssh hosting server in the `system` layout (added without --root): the
distribution's nginx, php-fpm and pure-ftpd with their configuration under /etc,
started and reloaded as services. Reached over a real sshd that runs in a private
mount namespace, so the machine's own /etc, /run and /srv are never touched
(tests/hosting/system_server.py). One test: each step needs the one before.
"""

from __future__ import annotations

import ftplib
import io
import secrets
import subprocess
from pathlib import Path

import pytest

from provisioner.hosting import servers
from provisioner.hosting.models import GIB
from provisioner.hosting.runner import create_account, run_or_raise
from tests.hosting.conftest import free_port
from tests.hosting.system_server import inside, start_system_server
from tests.hosting.test_hosting_lifecycle import ftp_login, get, mariadb

QUOTA = 16 * 1024 * 1024


@pytest.fixture
def system_server(hosting_packages, btrfs_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("system-server")
    server = start_system_server(base, btrfs_root / f"srv-{secrets.token_hex(3)}", free_port())
    yield server
    server.stop()


def _leftovers(server, account: str) -> list[str]:
    found = []
    if (server.srv / "hosting/home" / account).exists():
        found.append("files")
    if (server.etc / "nginx/hosting" / account).exists():
        found.append("vhost")
    if (server.etc / f"php/8.2/fpm/pool.d/acct-{account}.conf").exists():
        found.append("php-fpm pool")
    if f"h-{account}:" in (server.etc / "passwd").read_text():
        found.append("system user")
    db = "h_" + account
    if mariadb(f"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='{db}'") != "0":  # noqa: S608
        found.append("database")
    return found


def test_a_system_layout_server_over_ssh(app, system_server, hosting_runner):
    ssh = system_server.ssh
    ports = {"http": free_port(), "ftp": free_port()}
    server = servers.add_server(
        "web3",
        connection="ssh",
        host="127.0.0.1",
        port=ssh.port,
        ssh_user="root",
        identity_file=str(ssh.client_key),
        known_hosts=str(ssh.known_hosts),
        listen="127.0.0.1",
        http_port=ports["http"],
        ftp_port=ports["ftp"],
        capacity_bytes=GIB,
    )
    target = server.target()
    assert target.layout == "system"

    report = servers.check_server(hosting_runner, "web3")
    assert report["quota_backend"] == "btrfs" and all(report["binaries"].values())

    account = f"sy{secrets.token_hex(4)}"
    domain = f"{account}.example.sch.uk"
    variables = {
        "account": account,
        "domain": domain,
        "quota_bytes": QUOTA,
        "wordpress": False,
        "db_password": secrets.token_hex(12),
    }
    try:
        created = create_account(hosting_runner, target, variables)
        assert created.ok
        # the distribution's services, configured under (the private) /etc
        assert (system_server.etc / "nginx/conf.d/hosting.conf").exists()
        assert (system_server.etc / f"php/8.2/fpm/pool.d/acct-{account}.conf").exists()
        assert inside(system_server, "service", "nginx", "status").returncode == 0
        # ...and not the machine's own
        assert not Path("/etc/nginx/conf.d/hosting.conf").exists()
        assert f"h-{account}:" not in Path("/etc/passwd").read_text()

        status, _, page = get(target, domain)
        assert status == 200 and domain in page
        again = run_or_raise(hosting_runner, "account-create.yml", target, variables)
        assert again.changed == 0  # idempotent in this layout too

        ftp_vars = {
            "account": account,
            "ftp_user": f"{account}.web",
            "ftp_path": "public_html",
            "ftp_password": secrets.token_hex(12),
        }
        run_or_raise(hosting_runner, "ftp.yml", target, ftp_vars)
        ftp = ftp_login(target, ftp_vars["ftp_user"], ftp_vars["ftp_password"])
        ftp.storbinary("STOR index.html", io.BytesIO(b"<h1>Sports day</h1>"))
        ftp.quit()
        assert "Sports day" in get(target, domain)[2]

        usage = run_or_raise(hosting_runner, "usage.yml", target, {"account": account})
        assert int(usage.facts["hosting_usage"]["used_bytes"]) > 0

        run_or_raise(hosting_runner, "suspend.yml", target, {"account": account})
        assert get(target, domain)[0] == 503
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp_login(target, ftp_vars["ftp_user"], ftp_vars["ftp_password"])
        run_or_raise(hosting_runner, "unsuspend.yml", target, {"account": account})
        assert "Sports day" in get(target, domain)[2]
    finally:
        deleted = hosting_runner.run("delete.yml", target, {"account": account})
    assert deleted.ok, deleted.failure
    assert _leftovers(system_server, account) == []
    try:  # no vhost left on that port: nginx no longer listens there at all
        gone = get(target, domain)[0]
    except ConnectionRefusedError:
        gone = "refused"
    assert gone in (404, "refused")
    # nothing of the account's is left in the server's view either
    assert inside(system_server, "getent", "passwd", f"h-{account}").returncode != 0
    assert subprocess.run(["getent", "passwd", f"h-{account}"]).returncode != 0
