"""Runs the hosting playbooks (playbooks/ at the top of the repository) through
ansible-runner, behind the small PlaybookRunner protocol.

The traps this adapter exists to avoid (docs/real-components.md, "Ansible"):
- ansible-runner reuses extravars/cmdline saved in env/ of a private data dir, so a
  --check run turned the next real run into a check run: every run gets a fresh
  private data dir, removed afterwards, and suppress_env_files=True;
- interpreter discovery picks a broken pyenv shim: the inventory pins
  ansible_python_interpreter to "{{ ansible_playbook_python }}" for local hosts;
- ansible-playbook must be on PATH: this interpreter's bin directory is prepended;
- ansible-runner turns host key checking off unless ANSIBLE_HOST_KEY_CHECKING is set:
  it is set to True, so an ssh server whose host key does not match is never reached.

Extra variables are validated (validation.playbook_variables) and written to a
0600 file in the private dir, every string tagged !unsafe so Ansible never templates
user input; they never appear on a command line or in a process list.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from provisioner.errors import ProvisionerError, ValidationError
from provisioner.hosting import validation
from provisioner.hosting.target import HostingTarget

PLAYBOOKS_DIR = Path(__file__).resolve().parents[2] / "playbooks"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_VAR_NAME = re.compile(r"[a-z_][a-z0-9_]*")

LineSink = Callable[[str], None]
# facts a playbook sets for its caller (usage.yml, server-check.yml)
_REPORTED_FACTS = ("hosting_usage", "hosting_check")


class PlaybookFailed(ProvisionerError):
    """A playbook run failed; `reason` says which step and why."""

    code = "playbook_failed"
    status = 502

    def __init__(self, message: str, *, result: RunResult, rollback: RunResult | None = None):
        super().__init__(message, fields={"playbook": result.playbook})
        self.result = result
        self.rollback = rollback


@dataclass
class RunResult:
    playbook: str
    status: str  # successful | failed | timeout | canceled
    rc: int
    check: bool
    stats: dict = field(default_factory=dict)
    role_seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    failure: str | None = None
    facts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    @property
    def changed(self) -> int:
        return sum(self.stats.get("changed", {}).values())


class PlaybookRunner(Protocol):
    def run(
        self,
        playbook: str,
        target: HostingTarget,
        variables: Mapping[str, Any],
        *,
        check: bool = False,
        on_line: LineSink | None = None,
    ) -> RunResult: ...


def extravars_yaml(variables: Mapping[str, Any]) -> str:
    """YAML for `-e @file`: strings are !unsafe (never templated), other types kept."""
    lines = []
    for key, value in variables.items():
        if not _VAR_NAME.fullmatch(key):
            raise ValidationError(f"Bad variable name {key!r}", fields={key: "name"})
        if isinstance(value, str):
            lines.append(f"{key}: !unsafe {json.dumps(value)}")
        elif isinstance(value, bool | int | float) or value is None:
            lines.append(f"{key}: {json.dumps(value)}")
        else:
            raise ValidationError(
                f"Variable {key} must be a string, number or boolean", fields={key: "type"}
            )
    return "\n".join(lines) + "\n" if lines else "{}\n"  # an empty file is no mapping


class _Events:
    """Collects what a run tells us: lines for the log, role timings, the failure."""

    def __init__(self, on_line: LineSink | None):
        self.on_line = on_line
        self.failure: str | None = None
        self.facts: dict = {}
        self.role_seconds: dict[str, float] = {}
        self._task: tuple[str, float] | None = None

    def _mark(self, role: str | None, at: float) -> None:
        if self._task:
            prev_role, started = self._task
            self.role_seconds[prev_role] = self.role_seconds.get(prev_role, 0.0) + at - started
        self._task = (role, at) if role is not None else None

    def __call__(self, event: dict) -> bool:
        data = event.get("event_data", {})
        kind = event.get("event", "")
        created = event.get("created")
        at = datetime.fromisoformat(created).timestamp() if created else time.time()
        if kind in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            # the hosting plays have no role-less tasks except their handlers
            role = data.get("role") or "handlers"
            self._mark(role, at)
        elif kind == "playbook_on_stats":
            self._mark(None, at)
        elif kind in ("runner_on_failed", "runner_on_unreachable") and not data.get(
            "ignore_errors"
        ):
            if self.failure is None:
                self.failure = self._reason(data, unreachable=kind == "runner_on_unreachable")
        elif kind == "runner_on_ok":
            facts = (data.get("res") or {}).get("ansible_facts") or {}
            for name in _REPORTED_FACTS:
                if name in facts:
                    self.facts[name] = facts[name]
        for line in _ANSI.sub("", event.get("stdout") or "").splitlines():
            if line.startswith("[ERROR]") and self.failure is None:
                self.failure = line  # e.g. a playbook Ansible could not load: no task event
            if line.strip() and self.on_line:
                self.on_line(line)
        return True  # keep ansible-runner's own artifact handling

    @staticmethod
    def _reason(data: dict, *, unreachable: bool) -> str:
        res = data.get("res") or {}
        where = f"{data.get('role') or 'play'}: {data.get('task') or 'task'}"
        if unreachable:
            # ssh's last line says why (e.g. "Host key verification failed."), after
            # any warning banner
            lines = [line.strip() for line in str(res.get("msg") or "").splitlines()]
            why = next((line for line in reversed(lines) if line), "")
            return f"{where}: host {data.get('host')} unreachable: {why}".strip()
        if res.get("censored"):
            return f"{where} failed (details hidden: the step handles a secret)"
        detail = (res.get("stderr") or "").strip().splitlines()
        msg = detail[-1] if detail else str(res.get("msg") or "failed")
        return f"{where} failed: {msg}"


class AnsibleRunner:
    """PlaybookRunner over ansible-runner; one fresh private data dir per run."""

    def __init__(self, playbooks_dir: Path = PLAYBOOKS_DIR, *, work_dir: str | None = None):
        self.playbooks_dir = Path(playbooks_dir)
        self.work_dir = work_dir

    def _env(self) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        return {
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
            "ANSIBLE_CONFIG": str(self.playbooks_dir / "ansible.cfg"),
            # ansible-runner sets this to False unless told otherwise, which puts
            # StrictHostKeyChecking=no ahead of ours (ssh keeps an option's first value)
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        }

    def run(
        self,
        playbook: str,
        target: HostingTarget,
        variables: Mapping[str, Any],
        *,
        check: bool = False,
        on_line: LineSink | None = None,
    ) -> RunResult:
        import ansible_runner  # imported here: only the hosting adapter needs it

        clean = validation.playbook_variables(playbook, dict(variables))
        inventory = target.inventory()
        private = tempfile.mkdtemp(prefix="hosting-run-", dir=self.work_dir)
        events = _Events(on_line)
        started = time.monotonic()
        control_dir = Path(private, "cp")
        try:
            env_dir = Path(private, "env")
            env_dir.mkdir(mode=0o700)
            fd = os.open(env_dir / "extravars", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(extravars_yaml(clean))
            runner = ansible_runner.run(
                private_data_dir=private,
                project_dir=str(self.playbooks_dir),
                playbook=str(self.playbooks_dir / playbook),
                inventory=inventory,
                cmdline="--check" if check else None,
                # ssh connection sharing within this run only: a later run connects
                # afresh, so its host key is checked again (e.g. after known_hosts changed)
                envvars=self._env() | {"ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir)},
                suppress_env_files=True,
                event_handler=events,
                quiet=True,
            )
            stats = runner.stats or {}
            return RunResult(
                playbook=playbook,
                status=runner.status,
                rc=runner.rc,
                check=check,
                stats=stats,
                role_seconds={k: round(v, 3) for k, v in events.role_seconds.items()},
                wall_seconds=round(time.monotonic() - started, 3),
                failure=events.failure
                or (None if runner.status == "successful" else f"ansible-runner {runner.status}"),
                facts=events.facts,
            )
        finally:
            _close_ssh_masters(control_dir)
            shutil.rmtree(private, ignore_errors=True)


def _close_ssh_masters(control_dir: Path) -> None:
    """Stop the run's shared ssh connections now rather than after ControlPersist's
    60 s idle time (they would outlive the run, holding a session on the server)."""
    if not control_dir.is_dir():
        return
    for socket_path in control_dir.iterdir():
        try:
            subprocess.run(
                ["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "hosting-server"],
                capture_output=True,
                timeout=10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pass  # the master ends by itself after ControlPersist's idle time


def run_or_raise(
    runner: PlaybookRunner,
    playbook: str,
    target: HostingTarget,
    variables: Mapping[str, Any],
    *,
    check: bool = False,
    on_line: LineSink | None = None,
) -> RunResult:
    result = runner.run(playbook, target, variables, check=check, on_line=on_line)
    if not result.ok:
        raise PlaybookFailed(f"{playbook} failed: {result.failure}", result=result)
    return result


def create_account(
    runner: PlaybookRunner,
    target: HostingTarget,
    variables: Mapping[str, Any],
    *,
    on_line: LineSink | None = None,
) -> RunResult:
    """Run account-create.yml; if it fails, run delete.yml to remove whatever it
    had created and raise PlaybookFailed with the failing step and the rollback's fate."""
    result = runner.run("account-create.yml", target, variables, on_line=on_line)
    if result.ok:
        return result
    if on_line:
        on_line(f"ROLLBACK: account creation failed ({result.failure}); removing what it created")
    rollback = runner.run("delete.yml", target, {"account": variables["account"]}, on_line=on_line)
    if rollback.ok:
        message = f"Account creation failed at {result.failure}. Rolled back: nothing remains."
    else:
        message = (
            f"Account creation failed at {result.failure}. Rollback ALSO failed at "
            f"{rollback.failure}: a technician must clean up account {variables['account']}."
        )
    raise PlaybookFailed(message, result=result, rollback=rollback)
