"""1,000 no-op operations end to end: embedded executor vs Celery with two workers.

Each operation is committed on its own (as a web request would), then run by
  * embedded, 2 threads inside this process, woken by the commit (what
    `provisioner serve` runs);
  * embedded, 2 `provisioner worker` processes without a broker, woken by
    PostgreSQL NOTIFY (the peer Celery is compared with);
  * Celery: 2 `provisioner worker` processes (Redis broker, 127.0.0.1:6379
    db 15), told of each commit by a published id.
Both use the same temporary PostgreSQL database. Latency is commit -> the
row's finished_at; throughput is operations / (last finish - first commit).

Run: .venv/bin/python bench/bench_operations.py [--count 1000]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("PROVISIONER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "provisioner_bench_operations"
BROKER = "redis://127.0.0.1:6379/15"
KIND = "bench.noop"


def _register() -> None:
    from provisioner.jobs import register_handler

    register_handler(KIND, lambda ctx: {})


_register()  # also run when a worker process imports this module by name


def _database_url() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{DB_NAME}"


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _app(url: str, broker: str | None, instance: str):
    from provisioner.app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": instance,
            "BROKER_URL": broker,
        }
    )


def _reset(app) -> None:
    from sqlalchemy import text

    from provisioner.db import db

    with app.app_context():
        db.create_all()
        db.session.execute(text("TRUNCATE operations, operation_log_lines RESTART IDENTITY"))
        db.session.commit()


def _submit(app, count: int, resources: int) -> dict[int, datetime]:
    from provisioner.db import db
    from provisioner.jobs import enqueue

    committed = {}
    with app.app_context():
        for n in range(count):
            op = enqueue(KIND, {"n": n}, resource_key=f"bench:{n % resources}")
            op_id = op.id
            db.session.commit()
            committed[op_id] = datetime.now(UTC)
    return committed


def _wait_done(app, count: int, progress) -> dict[int, datetime]:
    from sqlalchemy import func, select

    from provisioner.db import db
    from provisioner.jobs.models import Operation

    with app.app_context():
        while True:
            done = db.session.execute(
                select(func.count()).where(Operation.status == "succeeded")
            ).scalar()
            progress(done)
            if done >= count:
                break
            db.session.rollback()
            time.sleep(0.1)
        rows = db.session.execute(select(Operation.id, Operation.finished_at)).all()
        db.session.remove()
    return dict(rows)


def _figures(committed: dict, finished: dict) -> dict:
    latencies = sorted((finished[i] - committed[i]).total_seconds() for i in committed)
    span = (max(finished.values()) - min(committed.values())).total_seconds()
    return {
        "throughput": len(committed) / span,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "span": span,
        "submit": len(committed)
        / max((max(committed.values()) - min(committed.values())).total_seconds(), 1e-9),
    }


def _run(label, app, count, resources, progress_factory) -> dict:
    with progress_factory(label, count) as progress:
        started = time.perf_counter()
        committed = _submit(app, count, resources)
        finished = _wait_done(app, count, progress)
        elapsed = time.perf_counter() - started
    figures = _figures(committed, finished)
    figures["wall"] = elapsed
    return figures


def _worker_processes(url: str, instance: str, n: int, broker: str | None):
    env = dict(os.environ)
    env.pop("PROVISIONER_BROKER_URL", None)
    if broker:
        env["PROVISIONER_BROKER_URL"] = broker
    env.update(
        PROVISIONER_DATABASE_URL=url,
        PROVISIONER_SECRET_KEY="bench",
        PROVISIONER_INSTANCE_PATH=instance,
        PYTHONPATH=os.pathsep.join([str(REPO / "bench"), env.get("PYTHONPATH", "")]),
    )
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", instance))
    log = open(log_dir / "workers.log", "ab")  # noqa: SIM115
    return [
        subprocess.Popen(
            [
                str(REPO / ".venv/bin/provisioner"),
                "worker",
                "--threads",
                "1",
                "--import",
                "bench_operations",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        for _ in range(n)
    ]


def _warm_up(app) -> None:
    """One operation through the worker processes, so their start-up is not measured."""
    count = 0
    from provisioner.db import db
    from provisioner.jobs import enqueue
    from provisioner.jobs.models import Operation

    with app.app_context():
        op_id = enqueue(KIND, {}, resource_key="bench:warm-up").id
        db.session.commit()
        while db.session.get(Operation, op_id).status != "succeeded":
            db.session.rollback()
            db.session.expire_all()
            time.sleep(0.2)
            count += 1
            if count > 600:
                raise SystemExit("the workers did not start; see workers.log")


def _stop(workers: list[subprocess.Popen]) -> None:
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
    for proc in workers:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    import redis
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from provisioner.jobs.embedded import EmbeddedExecutor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--resources", type=int, default=50)
    args = parser.parse_args()
    console = Console()

    class Bar:
        def __init__(self, label, total):
            self.progress = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                transient=True,
            )
            self.task = self.progress.add_task(label, total=total)

        def __enter__(self):
            self.progress.start()
            return lambda done: self.progress.update(self.task, completed=done)

        def __exit__(self, *exc):
            self.progress.stop()

    url = _database_url()
    results = {}
    with tempfile.TemporaryDirectory() as instance:
        try:
            app = _app(url, None, instance)
            _reset(app)
            executor = EmbeddedExecutor(app, threads=2)
            executor.start()
            try:
                results["embedded (2 threads)"] = _run(
                    "embedded", app, args.count, args.resources, Bar
                )
            finally:
                executor.stop()

            for label, broker in [
                ("embedded (2 worker processes)", None),
                ("Celery (2 workers)", BROKER),
            ]:
                redis.Redis.from_url(BROKER).flushdb()
                app = _app(url, broker, instance)
                _reset(app)
                workers = _worker_processes(url, instance, 2, broker)
                try:
                    _warm_up(app)
                    _reset(app)
                    results[label] = _run(label, app, args.count, args.resources, Bar)
                finally:
                    _stop(workers)
                    redis.Redis.from_url(BROKER).flushdb()
        finally:
            _drop_database()

    threads, processes, celery = (results[label] for label in results)
    table = Table(title=f"{args.count} no-op operations, commit -> done (PostgreSQL)")
    table.add_column("figure")
    for label in results:
        table.add_column(label, justify="right")
    table.add_column("Celery / embedded threads", justify="right")
    table.add_column("Celery / embedded processes", justify="right")
    rows = [
        ("throughput", "ops/s", "{:.0f}"),
        ("submit", "commits/s", "{:.0f}"),
        ("p50", "ms", "{:.0f}"),
        ("p95", "ms", "{:.0f}"),
        ("wall", "s", "{:.1f}"),
    ]
    for key, unit, fmt in rows:
        table.add_row(
            f"{key} ({unit})",
            *(fmt.format(figures[key]) for figures in (threads, processes, celery)),
            f"{celery[key] / threads[key]:.2f}x",
            f"{celery[key] / processes[key]:.2f}x",
        )
    console.print(table)
    console.print(
        "Embedded threads are woken in-process by the commit; worker processes by "
        "PostgreSQL NOTIFY; Celery workers by the id published to Redis."
    )


if __name__ == "__main__":
    sys.exit(main())
