"""Fixtures for the operations tests: worker subprocesses, PostgreSQL, Redis, SMTP.

Behaviour tests run against three set-ups ("flavours"): embedded workers on
SQLite, embedded workers on PostgreSQL, and Celery workers (Redis broker) on
PostgreSQL. Workers are real `provisioner worker` processes, stopped by PID.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import text

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))  # jobs_test_handlers is imported by name, here and in workers

import jobs_test_handlers  # noqa: E402
import jobs_test_slow  # noqa: E402,F401 - the relay here must know its kind

from provisioner.app import create_app  # noqa: E402
from provisioner.db import db  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "PROVISIONER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
FLAVOURS = ["sqlite-embedded", "postgresql-embedded", "postgresql-celery"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, timeout: float = 120.0, every: float = 0.05, what: str = "condition"):
    """Poll until predicate() is truthy; a safety net, never a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture(scope="session")
def jobs_pg_url(worker_id):
    name = f"provisioner_jobs_{worker_id}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        # Test data need not survive a PostgreSQL crash; skipping the fsync per commit
        # keeps 200-operation tests quick on a busy disk without changing any semantics.
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        db.create_all()
        jobs_test_handlers.metadata.create_all(db.engine)
        db.engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_db(worker_id):
    """A Redis database of this xdist worker's own (4, 5, ...; 8, 9, ... for side rigs).

    Benchmarks use 11 and 15, so a bench run never empties a test's queue.
    """
    index = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
    return 4 + index % 4


@pytest.fixture
def redis_url(redis_db):
    """A third database (12, 13, ...) so this test's workers share no queue with a rig's."""
    number = redis_db + 8
    client = redis.Redis(REDIS_HOST, REDIS_PORT, db=number)
    client.flushdb()
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    client.flushdb()


@pytest.fixture(scope="module")
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port; yields (url, messages)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received = []

    class Collect(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", received
    finally:
        controller.stop()


def _worker_child(args, env, log_path) -> None:
    """Runs in the forked child: the real CLI, its output in a log file, then a hard exit."""
    code = 0
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.environ.clear()
        os.environ.update(env)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        # Start with the registrations of a fresh process: the command imports its modules.
        from provisioner.jobs.registry import REGISTRY

        REGISTRY.handlers.clear()
        REGISTRY.periodic.clear()
        for name in [n for n in sys.modules if n.startswith("jobs_test_") or n.endswith(".tasks")]:
            del sys.modules[name]
        from provisioner.cli import main

        main(args, standalone_mode=False)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # never run the parent's pytest clean-up in the child


class Setup:
    """One flavour: its database, an app for the test process, and worker processes."""

    def __init__(self, flavour, database_url, broker_url, tmp_path, smtp_url=None):
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.flavour = flavour
        self.database_url = database_url
        self.broker_url = broker_url
        self.tmp_path = tmp_path
        self.smtp_url = smtp_url
        self.procs: list = []
        self.app = self.make_app(broker_url)

    @property
    def celery(self) -> bool:
        return self.broker_url is not None

    def make_app(self, broker_url):
        config = {
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SECRET_KEY": "test",
            "TESTING": True,
            "INSTANCE_PATH": str(self.tmp_path / "instance"),
            "BROKER_URL": broker_url,
            "SMTP_URL": self.smtp_url,
            "MAIL_FROM": "it@provider.example",
        }
        return create_app(config)

    def env(self, broker_url=None) -> dict:
        env = dict(os.environ)
        env.update(
            PROVISIONER_DATABASE_URL=self.database_url,
            PROVISIONER_SECRET_KEY="test",
            PROVISIONER_INSTANCE_PATH=str(self.tmp_path / "instance"),
            PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
        )
        env.pop("PROVISIONER_BROKER_URL", None)
        if broker_url or self.broker_url:
            env["PROVISIONER_BROKER_URL"] = broker_url or self.broker_url
        if self.smtp_url:
            env["PROVISIONER_SMTP_URL"] = self.smtp_url
        return env

    def start_worker(self, broker_url=None, modules=("jobs_test_handlers",)):
        """A `provisioner worker` process, forked from this already-imported interpreter.

        The child runs the real command (click entry point, its own app, engine and
        signal handlers); forking only saves the seconds a fresh interpreter spends
        importing, which matter on a busy two-core machine.
        """
        index = len(self.procs)
        log_path = self.tmp_path / f"worker-{index}.log"
        args = ["worker", "--threads", "1", "--poll-interval", "0.05"]
        for module in modules:
            args += ["--import", module]
        env = self.env(broker_url)
        proc = multiprocessing.get_context("fork").Process(
            target=_worker_child, args=(args, env, str(log_path)), daemon=False
        )
        proc.start()
        self.procs.append(proc)
        return proc

    def kill(self, proc) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():  # a Celery warm shutdown can be slow; the test is over
                os.kill(proc.pid, signal.SIGKILL)
                proc.join()

    def worker_logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def relay(self) -> None:
        """What the scheduler's relay job does every few seconds, done now (Celery only)."""
        if self.celery:
            from datetime import timedelta

            from provisioner.jobs.celery_executor import relay
            from provisioner.jobs.timing import SystemClock

            relay(self.app, SystemClock().now(), grace=timedelta(0))


def reset_database(url: str) -> None:
    tables = [
        "operation_log_lines",
        "operations",
        "job_runs",
        "test_job_effects",
        "api_tokens",
        "users",
    ]
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    else:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="module", params=FLAVOURS)
def rig_base(request, tmp_path_factory, smtp_server):
    """One flavour with two worker processes, kept for the whole module (they start slowly)."""
    flavour = request.param
    tmp_path = tmp_path_factory.mktemp(flavour)
    if flavour.startswith("sqlite"):
        # In memory-backed /dev/shm when there is one: same SQLite, no fsync wait per commit.
        shm = Path("/dev/shm")
        db_dir = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
        request.addfinalizer(lambda: shutil.rmtree(db_dir, ignore_errors=True))
        url = f"sqlite:///{db_dir / 'jobs.sqlite'}"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "t",
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / "instance"),
            }
        )
        with app.app_context():
            db.create_all()
            jobs_test_handlers.metadata.create_all(db.engine)
            db.engine.dispose()
    else:
        url = request.getfixturevalue("jobs_pg_url")
    reset_database(url)
    broker = None
    if flavour.endswith("celery"):
        redis_db = request.getfixturevalue("redis_db")
        redis.Redis(REDIS_HOST, REDIS_PORT, db=redis_db).flushdb()
        broker = f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}"
    built = Setup(flavour, url, broker, tmp_path, smtp_url=smtp_server[0])
    built.mail = smtp_server[1]
    built.start_worker()
    built.start_worker()
    try:
        yield built
    finally:
        built.stop_all()
        with built.app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def rig(rig_base):
    reset_database(rig_base.database_url)
    rig_base.mail.clear()
    return rig_base


@pytest.fixture
def side_rig(rig_base, tmp_path):
    """Workers of the test's own, on the same database; on Celery, on their own broker
    database too, so the module's workers never swallow messages meant for them."""
    broker = None
    if rig_base.celery:
        side_db = int(rig_base.broker_url.rsplit("/", 1)[1]) + 4  # 8, 9, ...
        redis.Redis(REDIS_HOST, REDIS_PORT, db=side_db).flushdb()
        broker = f"redis://{REDIS_HOST}:{REDIS_PORT}/{side_db}"
    built = Setup(rig_base.flavour, rig_base.database_url, broker, tmp_path, rig_base.smtp_url)
    try:
        yield built
    finally:
        built.stop_all()
        with built.app.app_context():
            db.session.remove()
            db.engine.dispose()


def effects_rows(app):
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT op_key, resource, seq, started_ns, ended_ns, pid, attempt "
                "FROM test_job_effects"
            )
        ).all()
        db.session.remove()
        return rows


@pytest.fixture
def make_staff():
    """Two technicians in the rig's database (the failure notice goes to both)."""

    def make(app):
        from provisioner.schools.services import add_technician

        with app.app_context():
            add_technician("tech@provider.example", "Tech")
            add_technician("boss@provider.example", "Boss", admin=True)
            db.session.remove()

    return make
