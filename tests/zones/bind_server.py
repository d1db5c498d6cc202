"""A private BIND 9.18 for tests, driven through the scripts in dns/.

Plain functions plus pytest fixtures, so other areas can reuse it. From another
area's conftest.py (test dirs are not packages under --import-mode=importlib):

    import importlib.util, sys
    from pathlib import Path
    _path = Path(__file__).parents[1] / "zones" / "bind_server.py"
    _spec = importlib.util.spec_from_file_location("zones_bind_server", _path)
    bind = sys.modules.setdefault("zones_bind_server", importlib.util.module_from_spec(_spec))
    if not hasattr(bind, "start_bind"):
        _spec.loader.exec_module(bind)
    bind_server = bind.bind_server      # session fixture: one named per xdist worker
    bind_zone = bind.bind_zone          # a fresh zone name loaded on it

or call start_bind(tmp_dir) / server.add_zone(...) / server.stop() directly.
Every server listens on 127.0.0.1 on a free port, keeps its state in a tmp dir and
is stopped by its PID. BIND is installed with apt when `named` is missing.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DNS_DIR = REPO / "dns"
APT_PACKAGES = ["bind9", "bind9-utils", "bind9-dnsutils"]
_ENV = {**os.environ, "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin"}


def _named_path() -> str | None:
    return shutil.which("named", path=_ENV["PATH"])


def ensure_bind_installed() -> None:
    """Install BIND with apt if `named` is missing (serialised across xdist workers)."""
    if _named_path() and shutil.which("nsupdate", path=_ENV["PATH"]):
        return
    with open("/tmp/provisioner-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _named_path() and shutil.which("nsupdate", path=_ENV["PATH"]):
            return
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", *APT_PACKAGES]
        env = {**_ENV, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
            subprocess.run(cmd, env=env, capture_output=True, check=True)


def free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (DNS needs both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free TCP+UDP port on 127.0.0.1")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=_ENV, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout}{proc.stderr}")
    return proc


@dataclass
class BindServer:
    dir: Path
    port: int
    rndc_port: int

    host = "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def key_name(self) -> str:
        return (self.dir / "key-name").read_text().strip()

    @property
    def key_file(self) -> Path:
        return self.dir / "keys" / f"{self.key_name}.key"

    @property
    def pid(self) -> int:
        return int((self.dir / "named.pid").read_text())

    def add_zone(self, zone: str, text: str | None = None) -> None:
        """Add the zone (or reset it: the journal is removed) from zone-file text."""
        cmd = [str(DNS_DIR / "add-zone.sh"), str(self.dir), zone]
        if text is not None:
            src = self.dir / f"{zone}.src"
            src.write_text(text)
            cmd.append(str(src))
        _run(cmd)

    reset_zone = add_zone

    def rndc(self, *args: str) -> str:
        return _run(["rndc", "-c", str(self.dir / "rndc.conf"), *args]).stdout

    def nsupdate(self, commands: str, key_file: Path | None = None) -> None:
        """Run nsupdate with the run's key (as an administrator editing by hand would)."""
        script = f"server {self.host} {self.port}\n{commands.strip()}\nsend\n"
        _run(["nsupdate", "-k", str(key_file or self.key_file)], input=script)

    def stop(self) -> None:
        _run([str(DNS_DIR / "stop-bind.sh"), str(self.dir)])


def start_bind(directory: Path) -> BindServer:
    ensure_bind_installed()
    port, rndc_port = free_port(), free_port()
    _run([str(DNS_DIR / "run-bind.sh"), str(directory), str(port), str(rndc_port)])
    return BindServer(Path(directory).resolve(), port, rndc_port)


def minimal_zone(zone: str, serial: int = 1, extra: str = "") -> str:
    return (
        f"$ORIGIN {zone}.\n$TTL 300\n"
        f"@ IN SOA ns1.{zone}. hostmaster.{zone}. {serial} 3600 600 86400 300\n"
        f"@ IN NS ns1.{zone}.\nns1 IN A 127.0.0.1\n{extra}"
    )


_zone_numbers = itertools.count(1)


def new_zone_name() -> str:
    """A zone name not used before in this process (zones are never reused)."""
    return f"z{next(_zone_numbers)}.example.test"


@pytest.fixture(scope="session")
def bind_server(tmp_path_factory):
    server = start_bind(tmp_path_factory.mktemp("bind"))
    yield server
    server.stop()


@pytest.fixture
def bind_zone(bind_server):
    """A fresh zone name on the session's BIND, loaded with minimal_zone()."""
    zone = new_zone_name()
    bind_server.add_zone(zone, minimal_zone(zone))
    return zone
