"""A real `provisioner` server in a subprocess, for the browser and `make run` tests.

Each server gets a temporary instance folder (SQLite database, secret key), a
free loopback port and its own log file, and is stopped by its PID.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVISIONER = Path(sys.executable).parent / "provisioner"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    instance: Path
    env: dict
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path | None = None
    outputs: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Runs `provisioner ARGS` against this server's instance, as cron would."""
        result = subprocess.run(
            [str(PROVISIONER), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO_ROOT,
        )
        self.outputs.append(result)
        if check:
            assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result

    def start(self, *serve_args: str) -> None:
        self.port = free_port()
        self.log = self.instance / "serve.log"
        self.process = subprocess.Popen(
            [str(PROVISIONER), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + list(serve_args),
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/login", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise AssertionError(f"server did not answer within 60 s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def server(tmp_path):
    """An unstarted server on a fresh instance folder; the test migrates and starts it."""
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVISIONER_")}
    env["PROVISIONER_INSTANCE_PATH"] = str(instance)
    env["PATH"] = f"{PROVISIONER.parent}:{env.get('PATH', '')}"
    srv = Server(instance=instance, env=env)
    yield srv
    srv.stop()


class Browserless:
    """A cookie-keeping HTTP client that logs in through the real form."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str):
        try:
            response = self.opener.open(self.base + path, timeout=30)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.url
        return response.status, response.read().decode(), response.url

    def post(self, path: str, data: dict):
        body = urlencode(data).encode()
        try:
            response = self.opener.open(self.base + path, data=body, timeout=30)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.url
        return response.status, response.read().decode(), response.url

    def login(self, email: str, password: str):
        _, page, _ = self.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return self.post("/login", {"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def http():
    return Browserless
