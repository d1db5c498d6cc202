"""Hosting benchmark: provisioning a full WordPress account on a local hosting
server (loop-mounted btrfs root, nginx/php-fpm/pure-ftpd on 127.0.0.1, MariaDB),
wall time and per-role breakdown from ansible-runner's events; then ansible-runner's
overhead beside running the same playbook with `ansible-playbook` directly.

    .venv/bin/python bench/bench_hosting.py        (root; ~1-2 min on an idle machine)
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provisioner.hosting.runner import (
    PLAYBOOKS_DIR,
    AnsibleRunner,
    create_account,
    extravars_yaml,
    run_or_raise,
)
from provisioner.hosting.target import HostingTarget

PAIRS = 3  # converge runs per method, alternated so load drifts hit both alike


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mount_btrfs(base: Path) -> Path:
    image, mnt = base / "hosting.img", base / "root"
    mnt.mkdir()
    subprocess.run(["truncate", "-s", "512M", str(image)], check=True)
    subprocess.run(["mkfs.btrfs", "-q", "-f", str(image)], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mnt)], check=True)
    subprocess.run(["btrfs", "quota", "enable", str(mnt)], check=True)
    return mnt


def stop_services(root: Path) -> None:
    for name in ("nginx", "php-fpm", "pure-ftpd"):
        pid_file = root / "run" / f"{name}.pid"
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text())
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except (ValueError, ProcessLookupError):
                pass


def direct_run(target: HostingTarget, variables: dict, work: Path) -> float:
    """The same playbook, inventory and variables through plain ansible-playbook."""
    inv, extra = work / "inventory.json", work / "extravars.yml"
    inv.write_text(json.dumps(target.inventory()))
    extra.write_text(extravars_yaml(variables))
    extra.chmod(0o600)
    env = dict(
        os.environ,
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
        ANSIBLE_CONFIG=str(PLAYBOOKS_DIR / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
    )
    cmd = ["ansible-playbook", "-i", str(inv), "-e", f"@{extra}", "account-create.yml"]
    started = time.monotonic()
    subprocess.run(cmd, cwd=PLAYBOOKS_DIR, env=env, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-hosting-"))
    base.chmod(0o755)  # nginx's workers (www-data) must reach the docroots
    root = mount_btrfs(base)
    target = HostingTarget("bench", root=str(root), http_port=free_port(), ftp_port=free_port())
    runner = AnsibleRunner(work_dir=str(base))
    account = f"bench{secrets.token_hex(3)}"
    variables = {
        "account": account,
        "domain": f"{account}.example.sch.uk",
        "quota_bytes": 5 * 1024**3,
        "wordpress": True,
        "db_password": secrets.token_hex(12),
        "wordpress_admin_user": f"{account}-admin",
        "wordpress_admin_password": secrets.token_hex(12),
        "wordpress_title": "Bench School",
    }
    try:
        # the first run also brings the fresh server up: that is the "server" role's share
        created = create_account(runner, target, variables)
        print(
            f"provision a WordPress account on a fresh server (wall): "
            f"{created.wall_seconds:6.1f} s (tasks changed: {created.changed})"
        )
        total = sum(created.role_seconds.values())
        for role, secs in sorted(created.role_seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {role:<10} {secs:6.1f} s  {100 * secs / total:5.1f} %")

        via_runner, direct = [], []
        for _ in range(PAIRS):
            started = time.monotonic()
            run_or_raise(runner, "account-create.yml", target, variables)
            via_runner.append(time.monotonic() - started)
            direct.append(direct_run(target, variables, base))
        best_runner, best_direct = min(via_runner), min(direct)
        print("converge run of account-create.yml (no changes), best of", PAIRS)
        print(f"  ansible-playbook directly (baseline): {best_direct:6.2f} s")
        print(
            f"  through ansible-runner:               {best_runner:6.2f} s  "
            f"ratio {best_runner / best_direct:.2f} "
            f"(overhead {100 * (best_runner / best_direct - 1):+.0f} %, aim <= +10 %)"
        )
    finally:
        runner.run("delete.yml", target, {"account": account})
        stop_services(root)
        subprocess.run(["umount", str(root)], check=False)
        (base / "hosting.img").unlink(missing_ok=True)
        for leftover in sorted(base.rglob("*"), reverse=True):
            if leftover.is_dir():
                leftover.rmdir()
            else:
                leftover.unlink()
        base.rmdir()


if __name__ == "__main__":
    main()
