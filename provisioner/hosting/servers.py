"""Hosting servers: Ansible inventory hosts with a capacity, and placement.

add_server checks everything a server's inventory will carry (hosts, users, ports,
paths end up on the ssh command line) before anything is saved.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from sqlalchemy import select

from provisioner.db import db
from provisioner.errors import Conflict, NotFound, ValidationError
from provisioner.hosting import validation as v
from provisioner.hosting.models import HostingServer
from provisioner.hosting.runner import PLAYBOOKS_DIR, PlaybookFailed, PlaybookRunner

_SERVER_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")
QUOTA_BACKENDS = ("auto", "btrfs", "xfs", "ext4", "none")
QUOTA_PROBE = PLAYBOOKS_DIR / "files" / "quota-probe.sh"


def add_server(
    name: str,
    *,
    connection: str,
    root: str | None = None,
    host: str | None = None,
    ssh_user: str | None = None,
    port: int | None = None,
    identity_file: str | None = None,
    known_hosts: str | None = None,
    listen: str | None = None,
    http_port: int | None = None,
    ftp_port: int | None = None,
    capacity_bytes: int | None = None,
    quota: str = "auto",
) -> HostingServer:
    """A local server (this machine, everything under `root`) or an ssh server:
    self-contained under `root` when one is given, else the system's own services.
    `quota`: how accounts' storage limits are enforced (auto: what the filesystem
    under the root supports; none: no filesystem limit, on purpose)."""
    if not _SERVER_NAME.fullmatch(name or ""):
        raise ValidationError(
            f"Server name {name!r} must be lower-case letters, digits, dots and hyphens",
            fields={"name": "invalid"},
        )
    v.choice(connection, "connection", ("local", "ssh"))
    v.choice(quota, "quota", QUOTA_BACKENDS)
    if db.session.scalar(select(HostingServer).where(HostingServer.name == name)):
        raise Conflict(f"A hosting server named {name} already exists", fields={"name": "taken"})
    if root is not None and (not root.startswith("/") or ".." in root.split("/")):
        raise ValidationError("--root must be an absolute directory", fields={"root": root})
    if connection == "local":
        if not root:
            raise ValidationError(
                "--root must be an absolute directory for a local server", fields={"root": root}
            )
        ssh_only = {
            "host": host,
            "user": ssh_user,
            "port": port,
            "identity_file": identity_file,
            "known_hosts": known_hosts,
            "listen": listen,
        }
        for option, value in ssh_only.items():
            if value is not None:
                raise ValidationError(
                    f"--{option.replace('_', '-')} is for ssh servers only",
                    fields={option: "ssh only"},
                )
        if capacity_bytes is None:
            probe = root
            while not os.path.exists(probe):
                probe = os.path.dirname(probe)
            capacity_bytes = shutil.disk_usage(probe).total
    else:
        if not host:
            raise ValidationError(
                "--host is required for an ssh server", fields={"host": "required"}
            )
        host = v.ssh_host(host)
        ssh_user = v.ssh_user(ssh_user) if ssh_user is not None else None
        port = v.port(22 if port is None else port, "port")
        identity_file = v.local_file(identity_file, "identity_file") if identity_file else None
        known_hosts = v.local_file(known_hosts, "known_hosts") if known_hosts else None
        listen = v.listen_address(listen) if listen is not None else None
        if capacity_bytes is None:
            raise ValidationError(
                "--capacity is required for an ssh server "
                "(`provisioner hosting server check` reports the filesystem's size)",
                fields={"capacity": "required"},
            )
    for port_name, value in (("http_port", http_port), ("ftp_port", ftp_port)):
        if value is not None:
            v.port(value, port_name)
    self_contained = connection == "local" or bool(root)
    server = HostingServer(
        name=name,
        connection=connection,
        root=root,
        host=host,
        ssh_user=ssh_user,
        ssh_port=port,
        identity_file=identity_file,
        known_hosts=known_hosts,
        listen_address=listen,
        http_port=http_port or (8080 if self_contained else 80),
        ftp_port=ftp_port or (2121 if self_contained else 21),
        capacity_bytes=capacity_bytes,
        quota_backend=quota,
    )
    db.session.add(server)
    db.session.commit()
    return server


def check_server(runner: PlaybookRunner, name: str) -> dict:
    """Run the read-only server-check.yml over the server's connection: reachable,
    remote user, python, filesystem and quota backend, the service binaries."""
    server = get_server(name)
    target = server.target()
    result = runner.run("server-check.yml", target, {})
    if not result.ok:
        raise PlaybookFailed(
            f"hosting server {name} ({target.address}) failed its check: {result.failure}",
            result=result,
        )
    report = dict(result.facts.get("hosting_check") or {})
    return {
        "server": name,
        "connection": server.connection,
        "layout": target.layout,
        "address": target.address,
        "reachable": True,
        **report,
    }


def list_servers() -> list[HostingServer]:
    return list(db.session.scalars(select(HostingServer).order_by(HostingServer.name)))


def get_server(name: str) -> HostingServer:
    server = db.session.scalar(select(HostingServer).where(HostingServer.name == name))
    if server is None:
        raise NotFound(f"No hosting server named {name!r}", fields={"server": "unknown"})
    return server


def place(quota_bytes: int, server_name: str | None = None) -> HostingServer:
    """The named server, or the one with the most free capacity that fits the plan."""
    if server_name:
        candidates = [get_server(server_name)]
    else:
        candidates = list_servers()
    if not candidates:
        raise Conflict("No hosting servers: add one with `provisioner hosting server add`")
    best = max(candidates, key=lambda s: (s.free_bytes, -s.id))
    if best.free_bytes < quota_bytes:
        raise Conflict(
            f"No hosting server has {quota_bytes} bytes free (most free: {best.name}, "
            f"{best.free_bytes} bytes)",
            fields={"server": "full"},
        )
    return best


def local_quota_problem(server: HostingServer) -> str | None:
    """For a local server left to pick its quota (auto): why accounts could not be
    created under its root, or None when the filesystem can enforce their quotas.
    The same probe the account playbook runs, so the answer is the same."""
    if server.connection != "local" or server.quota_backend != "auto":
        return None
    out = subprocess.run(
        [str(QUOTA_PROBE), os.path.join(server.root, "home")],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if found.get("quota", "unavailable") != "unavailable":
        return None
    return (
        f"accounts cannot be created on {server.name} yet: "
        f"{found.get('reason') or 'the quota probe failed'}. Turn quotas on there, or "
        "add the server with --quota none to host without a filesystem limit."
    )
