"""A real OpenSSH sshd on 127.0.0.1 for the ssh hosting tests.

Everything it uses is under one temporary directory: its own host key, config,
pid file, log and authorized_keys, plus a client key and a known_hosts file that
holds the host key for `[127.0.0.1]:PORT`. Only root may log in, by that key.
Stopped by the PID in its pid file.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.hosting.processes import stop_pids

SSHD = "/usr/sbin/sshd"


def _keygen(path: Path) -> str:
    """A new ed25519 key pair at path (no passphrase); returns the public key line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.with_suffix(".pub").read_text().strip()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class SshServer:
    port: int
    directory: Path
    client_key: Path  # the private key the tests log in with
    known_hosts: Path  # holds this server's host key
    host_key_line: str  # "ssh-ed25519 AAAA..." of the host key

    @property
    def pid_file(self) -> Path:
        return self.directory / "sshd.pid"

    def other_known_hosts(self) -> Path:
        """A known_hosts naming this host and port with a key that is not its own."""
        path = self.directory / "known_hosts_wrong"
        if not path.exists():
            wrong = _keygen(self.directory / "not_the_host_key").split()[:2]
            path.write_text(f"[127.0.0.1]:{self.port} {' '.join(wrong)}\n")
        return path

    def log(self) -> str:
        return (self.directory / "sshd.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.pid_file.exists():
            stop_pids([int(self.pid_file.read_text())])


def start_sshd(directory: Path, port: int, wrap: list[str] | None = None) -> SshServer:
    """`wrap`: a command prefix sshd runs under (e.g. entering a mount namespace)."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key = directory / "ssh_host_ed25519_key"
    host_line = " ".join(_keygen(host_key).split()[:2])
    client_key = directory / "client_key"
    (directory / "authorized_keys").write_text(_keygen(client_key) + "\n")
    known_hosts = directory / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_line}\n")
    config = directory / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\n"
        "AllowUsers root\n"
        "UsePAM no\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        # the temp dir's modes are not sshd's business here
        "StrictModes no\n"
        # Ansible copies templates and files over sftp
        "Subsystem sftp internal-sftp\n"
        "LogLevel VERBOSE\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    subprocess.run([SSHD, "-t", "-f", str(config)], check=True, capture_output=True)
    # without -D sshd detaches and writes its pid file
    subprocess.run(
        [*(wrap or []), SSHD, "-f", str(config), "-E", str(directory / "sshd.log")],
        check=True,
        timeout=30,
    )
    server = SshServer(port, directory, client_key, known_hosts, host_line)
    deadline = time.monotonic() + 10
    while not (_port_open(port) and server.pid_file.exists()):
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"sshd did not start on port {port}:\n{server.log()}")
        time.sleep(0.05)
    return server
