"""A hosting server in the `system` layout (an ssh server added without --root): the
distribution's own nginx, php-fpm and pure-ftpd, configured under /etc and started
as services, reached over a real sshd.

So that the test never touches this machine's own /etc, /run, /var/log or /srv, the
sshd runs in a private mount namespace (`unshare --mount`) where those are private
copies: /etc a copy of the real one (without nginx's default port-80 site), /run and
/var/log empty, /srv a directory on the btrfs test image (so quotas work). Every
service the playbooks start there inherits that view; the network is shared, so
nginx and pure-ftpd are reached on 127.0.0.1 at the test's ports. MariaDB's socket
directory is carried into the private /run: the database role talks to the real one.

Services are started by the `service` command (no systemd here: Ansible's service
module falls back to the init scripts); they are stopped by the PIDs in their pid
files, read through /proc/<sshd>/root.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.hosting.processes import stop_pids
from tests.hosting.ssh_server import SshServer, start_sshd

# pid files, as the private /run has them
SERVICE_PIDS = ("nginx.pid", "php/php8.2-fpm.pid", "pure-ftpd/pure-ftpd.pid")

ENTER = """set -e
mount --make-rprivate /
mkdir -p "$T/keep-mysqld"
mount --bind /run/mysqld "$T/keep-mysqld"
mount --bind "$T/etc" /etc
mount -t tmpfs -o mode=0755 private-run /run
mkdir -p /run/mysqld /run/sshd
mount --move "$T/keep-mysqld" /run/mysqld
mount --bind "$T/log" /var/log
mount --bind "$SRV" /srv
exec "$@"
"""


@dataclass
class SystemServer:
    ssh: SshServer
    directory: Path  # holds etc/ (the private /etc) and log/
    srv: Path  # what the server sees as /srv (on the btrfs image)

    @property
    def etc(self) -> Path:
        return self.directory / "etc"

    def _sshd_pid(self) -> int | None:
        try:
            return int(self.ssh.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the services started in the namespace, then its sshd."""
        sshd = self._sshd_pid()
        pids = []
        if sshd is not None:
            for name in SERVICE_PIDS:
                pid_file = Path(f"/proc/{sshd}/root/run/{name}")
                try:
                    pids.append(int(pid_file.read_text().strip()))
                except (FileNotFoundError, ValueError, PermissionError):
                    continue
        stop_pids(pids)
        self.ssh.stop()


def start_system_server(directory: Path, srv: Path, port: int) -> SystemServer:
    directory.mkdir(parents=True, exist_ok=True)
    srv.mkdir(parents=True, exist_ok=True)
    etc = directory / "etc"
    shutil.copytree("/etc", etc, symlinks=True)
    # nginx's own default site listens on port 80 on every address: not here
    (etc / "nginx/sites-enabled/default").unlink(missing_ok=True)
    (directory / "log").mkdir(exist_ok=True)
    (directory / "log/nginx").mkdir(exist_ok=True)
    enter = directory / "enter.sh"
    enter.write_text(ENTER)
    wrap = ["unshare", "--mount", "--", "env", f"T={directory}", f"SRV={srv}", "sh", str(enter)]
    ssh = start_sshd(directory / "sshd", port, wrap=wrap)
    return SystemServer(ssh, directory, srv)


def inside(server: SystemServer, *argv: str) -> subprocess.CompletedProcess:
    """Run a command in the server's mount namespace (as the playbooks see it)."""
    sshd = server._sshd_pid()
    return subprocess.run(
        ["nsenter", f"--mount=/proc/{sshd}/ns/mnt", "--", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
