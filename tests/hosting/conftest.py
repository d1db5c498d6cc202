"""Real hosting servers for the hosting tests: nginx, php-fpm, pure-ftpd and MariaDB
on 127.0.0.1, a loop-mounted btrfs image (quotas on) as the hosting root.

Everything is started by the playbooks themselves (hostctl, pid files under the
root) and stopped here by those PIDs; the image is unmounted at the end.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

APT_PACKAGES = {
    # package: a file it installs (cheaper than asking dpkg about each)
    "nginx": "/usr/sbin/nginx",
    "php-fpm": "/usr/sbin/php-fpm8.2",
    "php-mysql": "/usr/share/php8.2-mysql",
    "mariadb-server": "/usr/sbin/mariadbd",
    "wordpress": "/usr/share/wordpress/wp-settings.php",
    "wordpress-theme-twentytwentythree": "/usr/share/wordpress/wp-content/themes/twentytwentythree",
    # pure-ftpd: virtual users without PAM. Debian makes it conflict with vsftpd
    # (installing one removes the other).
    "pure-ftpd": "/usr/sbin/pure-ftpd",
    "btrfs-progs": "/usr/bin/btrfs",
    "chromium": "/usr/bin/chromium",
    "openssh-server": "/usr/sbin/sshd",
    # what the system layout's server role installs (XFS and ext4 quota tools)
    "xfsprogs": "/usr/sbin/xfs_quota",
    "quota": "/usr/sbin/setquota",
}
IMAGE_SIZE = "512M"


def _apt_install(packages: list[str]) -> None:
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True, capture_output=True)
        subprocess.run(cmd, env=env, check=True, capture_output=True)


def _mariadb_up() -> None:
    def ok() -> bool:
        probe = ["mariadb", "--batch", "-e", "SELECT 1"]
        return subprocess.run(probe, capture_output=True).returncode == 0

    if not ok():
        subprocess.run(["service", "mariadb", "start"], check=True, capture_output=True)
        for _ in range(100):
            if ok():
                return
            time.sleep(0.1)
        raise RuntimeError("MariaDB did not come up")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def hosting_packages() -> None:
    # xdist workers share the machine's dpkg: one installs, the others wait
    with open("/tmp/provisioner-hosting-apt.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [pkg for pkg, path in APT_PACKAGES.items() if not os.path.exists(path)]
        if missing:
            _apt_install(missing)
    try:
        import ansible_runner  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "ansible-core", "ansible-runner"],
            check=True,
            capture_output=True,
        )
    _mariadb_up()


def _stop_services(root: Path) -> None:
    from tests.hosting.processes import stop_pids

    pids = []
    for name in ("nginx", "php-fpm", "pure-ftpd"):
        pid_file = root / "run" / f"{name}.pid"
        if pid_file.exists() and pid_file.read_text().strip().isdigit():
            pids.append(int(pid_file.read_text()))
    stop_pids(pids)


@pytest.fixture(scope="session")
def btrfs_root(hosting_packages) -> Path:
    """A loop-mounted btrfs image with quotas enabled, used as a hosting root."""
    # not under pytest's 0700 tmp dirs: nginx's workers (www-data) must reach the docroots
    base = Path(tempfile.mkdtemp(prefix="hosting-test-"))
    base.chmod(0o755)
    image, mnt = base / "hosting.img", base / "root"
    mnt.mkdir()
    subprocess.run(["truncate", "-s", IMAGE_SIZE, str(image)], check=True)
    subprocess.run(["mkfs.btrfs", "-q", "-f", str(image)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True)
    try:
        subprocess.run(["btrfs", "quota", "enable", str(mnt)], check=True)
        yield mnt
    finally:
        _stop_services(mnt)
        subprocess.run(["umount", str(mnt)], check=False)
        image.unlink(missing_ok=True)
        mnt.rmdir()
        base.rmdir()


@pytest.fixture(scope="session")
def hosting_target(btrfs_root):
    from provisioner.hosting.target import HostingTarget

    return HostingTarget(
        name="local-test",
        connection="local",
        root=str(btrfs_root),
        http_port=free_port(),
        ftp_port=free_port(),
    )


@pytest.fixture(scope="session")
def hosting_runner(tmp_path_factory):
    from provisioner.hosting.runner import AnsibleRunner

    return AnsibleRunner(work_dir=str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="session")
def account_names(hosting_runner, hosting_target):
    """Unique account names; whatever a failing test left behind is deleted at the end."""
    made: list[str] = []

    def make(prefix: str = "t") -> str:
        name = f"{prefix}{secrets.token_hex(4)}"
        made.append(name)
        return name

    yield make
    for name in made:
        left = (Path(hosting_target.root) / "home" / name).exists() or subprocess.run(
            ["getent", "passwd", f"h-{name}"], capture_output=True
        ).returncode == 0
        if left:
            hosting_runner.run("delete.yml", hosting_target, {"account": name})


def new_password() -> str:
    return secrets.token_hex(12)


class RecordingRunner:
    """PlaybookRunner stand-in that records each run; `fail` maps a playbook to a
    failure. For the rules around the playbooks (API, operations, usage), which the
    real-server tests in test_hosting_lifecycle.py prove the playbooks for."""

    def __init__(self, fail: dict[str, str] | None = None, used_bytes: int = 123456):
        self.calls: list[tuple[str, str, dict]] = []
        self.fail = fail or {}
        self.used_bytes = used_bytes

    def run(self, playbook, target, variables, *, check=False, on_line=None):
        from provisioner.hosting.runner import RunResult

        self.calls.append((playbook, target.name, dict(variables)))
        if on_line:
            on_line(f"PLAY [{playbook}] on {target.name}")
        if playbook in self.fail:
            if on_line:
                on_line(f"fatal: [{target.name}]: FAILED! {self.fail[playbook]}")
            return RunResult(playbook, "failed", 2, check, failure=self.fail[playbook])
        facts = {}
        if playbook == "usage.yml":
            facts = {"hosting_usage": {"used_bytes": self.used_bytes, "quota_bytes": 0}}
        return RunResult(playbook, "successful", 0, check, stats={"changed": {"h": 1}}, facts=facts)


@pytest.fixture
def recording_runner(app):
    """A RecordingRunner registered as the app's hosting runner."""
    recorder = RecordingRunner()
    app.extensions["hosting_runner"] = recorder
    return recorder


@pytest.fixture
def hosted_school(app, make_school, tmp_path):
    """make(domain) -> (school, account): a school with that domain and an active
    account on a local server, provisioned through the app's runner."""
    from provisioner.hosting import servers, services
    from provisioner.registry.services import add_domain

    def make(domain: str, urn: str | None = None):
        if not servers.list_servers():
            servers.add_server(
                "h1", connection="local", root=str(tmp_path / "h1"), capacity_bytes=100 * 1024**3
            )
        school = make_school(urn)
        add_domain(school.urn, domain)
        account = services.create_account(
            app.extensions["hosting_runner"], school_urn=school.urn, domain=domain
        )
        return school, account

    return make


# The real BIND of tests/zones (a plain module there, not a package), for the
# subdomain tests: their DNS request is checked against a live zone.
_BIND_MODULE = Path(__file__).parent.parent / "zones" / "bind_server.py"


def _load_bind():
    import importlib.util

    name = "zones_bind_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _BIND_MODULE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bind = _load_bind()
bind_server = bind.bind_server


@pytest.fixture
def zoned_account(app, bind_server, recording_runner, make_school, tmp_path):
    """A school whose domain's zone BIND serves, with an active hosting account."""
    from provisioner.hosting import servers, services
    from provisioner.zones import services as zones
    from provisioner.zones.domain_setup import add_domain_with_zone

    zone = f"zoned{bind.new_zone_name().split('.')[0]}-{bind_server.port}.essex.sch.uk"
    extra = "@ 300 IN A 192.0.2.1\ntaken 300 IN A 192.0.2.9\n"
    bind_server.add_zone(zone, bind.minimal_zone(zone, extra=extra))
    school = make_school(name="St Mary's")
    zones.add_provider(
        "bind", "rfc2136", server=bind_server.address, tsig_key_file=str(bind_server.key_file)
    )
    add_domain_with_zone(school.urn, zone, "bind")
    servers.add_server(
        "h1", connection="local", root=str(tmp_path / "h1"), capacity_bytes=100 * 1024**3
    )
    account = services.create_account(recording_runner, school_urn=school.urn, domain=zone)
    return school, account
