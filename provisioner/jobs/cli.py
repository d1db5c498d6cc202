"""CLI: operations (list, show, retry, cancel), worker, scheduler, jobs run-due."""

from __future__ import annotations

import signal
import threading

import click
from flask import current_app
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from provisioner.cli import json_option
from provisioner.db import db
from provisioner.jobs import service
from provisioner.jobs.claim import queue_depth
from provisioner.jobs.registry import REGISTRY, load_task_modules
from provisioner.jobs.runtime import runtime


def register(main: click.Group) -> None:
    main.add_command(operations_group)
    main.add_command(worker)
    main.add_command(scheduler)
    main.add_command(jobs_group)


@click.group("operations")
def operations_group():
    """Background operations: see them, retry or cancel them."""


@operations_group.command("list")
@click.option("--status", help="pending, running, succeeded, failed or cancelled")
@click.option("--kind")
@click.option("--resource", "resource_key", help="e.g. zone:stmarys.essex.sch.uk")
@click.option("--limit", default=50, show_default=True, type=int)
@json_option
def operations_list(status, kind, resource_key, limit):
    """List operations, newest first."""
    rows = service.list_operations(status=status, kind=kind, resource_key=resource_key, limit=limit)
    data = [service.operation_dict(op) for op in rows]
    text = "\n".join(
        f"{op.id:>7}  {op.status:<10} {op.attempts}/{op.max_attempts}  {op.kind:<24} "
        f"{op.resource_key}" + (f"  error: {op.error}" if op.error else "")
        for op in rows
    )
    return data, text or "no operations"


@operations_group.command("show")
@click.argument("op_id")
@json_option
def operations_show(op_id):
    """One operation with its log."""
    data = service.operation_dict(service.get_operation(op_id), with_log=True)
    lines = [f"{key}: {data[key]}" for key in data if key != "log"]
    lines.append("log:")
    lines += [f"  {line['at']}  {line['line']}" for line in data["log"]]
    return data, "\n".join(lines)


@operations_group.command("retry")
@click.argument("op_id")
@json_option
def operations_retry(op_id):
    """Run a failed or cancelled operation again."""
    op = service.retry_operation(op_id, by="the command line")
    return service.operation_dict(op), f"operation {op.id} is pending again"


@operations_group.command("cancel")
@click.argument("op_id")
@json_option
def operations_cancel(op_id):
    """Cancel an operation that has not started (or whose worker died)."""
    op = service.cancel_operation(op_id, by="the command line")
    return service.operation_dict(op), f"operation {op.id} is cancelled"


def _stop_on_signals(stop) -> None:
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop())


@click.command()
@click.option("--threads", default=2, show_default=True, help="Operations run at once.")
@click.option("--poll-interval", default=1.0, show_default=True, help="Seconds between polls.")
@click.option("--import", "modules", multiple=True, help="Extra module registering handlers.")
@click.option("--until-idle", is_flag=True, help="Run what is ready now, then exit.")
@click.option("--pool", default="threads", show_default=True, help="Celery pool.")
def worker(threads, poll_interval, modules, until_idle, pool):
    """Run queued operations: a Celery worker if a broker is set, else embedded threads."""
    from provisioner.jobs.embedded import EmbeddedExecutor

    app = current_app._get_current_object()
    load_task_modules(modules)
    if runtime(app).uses_celery and not until_idle:
        from provisioner.jobs.celery_executor import start_worker

        start_worker(app, concurrency=threads, pool=pool)
        return
    executor = EmbeddedExecutor(app, threads=threads, poll_interval=poll_interval)
    if until_idle:
        _drain_with_progress(executor)
        return
    click.echo(
        f"worker {executor.name}: {threads} thread(s), kinds: {', '.join(REGISTRY.handlers)}"
    )
    _stop_on_signals(executor.stopping.set)
    executor.start()
    executor.stopping.wait()
    executor.stop()


def _drain_with_progress(executor) -> None:
    with db.engine.connect() as conn:
        ready = queue_depth(conn).get("pending", 0)
    columns = (TextColumn("operations"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("run", total=ready or None)
        count = executor.run_until_idle(on_done=lambda _id: progress.advance(task))
    click.echo(f"ran {count} operation(s)")


@click.command()
@click.option("--tick", default=1.0, show_default=True, help="Seconds between passes.")
@click.option("--import", "modules", multiple=True, help="Extra module registering jobs.")
def scheduler(tick, modules):
    """Run periodic jobs until stopped (safe to run on several machines)."""
    from provisioner.jobs.scheduler import Scheduler

    load_task_modules(modules)
    sched = Scheduler(current_app._get_current_object(), tick=tick)
    click.echo(f"scheduler {sched.owner}: {', '.join(sorted(REGISTRY.periodic))}")
    _stop_on_signals(sched.stopping.set)
    sched.run_forever()


@click.group("jobs")
def jobs_group():
    """Periodic jobs."""


@jobs_group.command("run-due")
@click.option("--import", "modules", multiple=True, help="Extra module registering jobs.")
@json_option
def jobs_run_due(modules):
    """Run every periodic job that is due, once (for cron)."""
    from provisioner.jobs.scheduler import Scheduler

    load_task_modules(modules)
    sched = Scheduler(current_app._get_current_object())
    outcomes = sched.run_due()
    data = [{"name": o.name, "status": o.status, "error": o.error} for o in outcomes]
    text = "\n".join(
        f"{o.name:<32} {o.status}" + (f": {o.error}" if o.error else "") for o in outcomes
    )
    return data, text or "no periodic jobs are registered"


@jobs_group.command("list")
@json_option
def jobs_list():
    """Periodic jobs and when each runs next."""
    from provisioner.jobs.scheduler import job_rows

    load_task_modules()
    rows = {row.name: row for row in job_rows()}
    data = []
    for name, job in sorted(REGISTRY.periodic.items()):
        row = rows.get(name)
        data.append(
            {
                "name": name,
                "every": str(job.every) if job.every else None,
                "daily_at": job.daily_at.isoformat() if job.daily_at else None,
                "next_due_at": row.next_due_at.isoformat() if row else None,
                "last_status": row.last_status if row else None,
                "runs": row.runs if row else 0,
            }
        )
    text = "\n".join(
        f"{d['name']:<32} {d['every'] or 'daily ' + d['daily_at']:<16} next {d['next_due_at']}"
        f"  last {d['last_status']}"
        for d in data
    )
    return data, text
