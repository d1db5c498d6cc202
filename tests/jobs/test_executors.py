"""Behaviour of the executors with real worker processes.

Each test runs on embedded workers over SQLite, embedded workers over
PostgreSQL, and Celery workers (Redis broker) over PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from conftest import effects_rows, wait_for
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.jobs import enqueue
from provisioner.jobs.models import Operation, OperationLogLine


def _enqueue(app, items):
    with app.app_context():
        ids = [
            enqueue(kind, payload, resource_key=resource).id for kind, payload, resource in items
        ]
        db.session.commit()
        return ids


def _ops(app, ids=None):
    with app.app_context():
        query = select(Operation).order_by(Operation.id)
        if ids is not None:
            query = query.where(Operation.id.in_(ids))
        rows = list(db.session.execute(query).scalars())
        db.session.expunge_all()
        db.session.remove()
        return rows


def _log(app, op_id):
    with app.app_context():
        lines = (
            db.session.execute(
                select(OperationLogLine.line)
                .where(OperationLogLine.operation_id == op_id)
                .order_by(OperationLogLine.id)
            )
            .scalars()
            .all()
        )
        db.session.remove()
        return lines


def _unfinished(app) -> int:
    with app.app_context():
        count = db.session.execute(
            select(func.count()).where(Operation.status.in_(("pending", "running")))
        ).scalar()
        db.session.remove()
        return count


def _all_finished(rig, ids):
    ops = _ops(rig.app, ids)
    return all(op.finished for op in ops) and ops


def test_killed_worker_operation_finishes_exactly_once_after_lease_expiry(side_rig):
    modules = ("jobs_test_handlers", "jobs_test_slow")
    workers = [side_rig.start_worker(modules=modules), side_rig.start_worker(modules=modules)]
    [op_id] = _enqueue(side_rig.app, [("test.slow_first_time", {"key": "k1"}, "zone:a.sch.uk")])
    started = wait_for(
        lambda: [line for line in _log(side_rig.app, op_id) if "started attempt 1" in line],
        what="the first attempt to start",
    )
    pid = int(started[0].rsplit(" ", 1)[1])
    [busy] = [w for w in workers if w.pid == pid]
    side_rig.kill(busy)  # SIGKILL mid-operation: no clean-up, the lease is left to expire

    def done():
        side_rig.relay()  # Celery: the scheduler's relay re-sends an operation whose worker died
        [op] = _ops(side_rig.app, [op_id])
        return op if op.finished else None

    op = wait_for(done, what="the operation to finish on the other worker", every=0.2)
    assert op.status == "succeeded"
    assert op.attempts == 2
    rows = effects_rows(side_rig.app)
    assert [(r.op_key, r.attempt) for r in rows] == [("k1", 2)]
    assert rows[0].pid != pid
    log = _log(side_rig.app, op_id)
    assert sum("started attempt" in line for line in log) == 2
    assert log[-1] == "succeeded"


def test_two_workers_run_200_operations_once_each_in_order_per_resource(rig):
    items = [
        ("test.record", {"key": f"op{i}", "seq": i // 20}, f"zone:school{i % 20}.sch.uk")
        for i in range(200)
    ]
    ids = _enqueue(rig.app, items)
    wait_for(lambda: _unfinished(rig.app) == 0, every=0.25, what="200 operations to finish")
    ops = _ops(rig.app, ids)

    assert {op.status for op in ops} == {"succeeded"}
    rows = effects_rows(rig.app)
    assert len(rows) == 200
    assert sorted(r.op_key for r in rows) == sorted(f"op{i}" for i in range(200))
    per_resource = defaultdict(list)
    for row in rows:
        per_resource[row.resource].append(row)
    assert len(per_resource) == 20
    for resource, runs in per_resource.items():
        runs.sort(key=lambda r: r.started_ns)
        assert [r.seq for r in runs] == list(range(10)), f"{resource} ran out of order"
        for before, after in itertools.pairwise(runs):
            assert after.started_ns > before.ended_ns, f"two operations on {resource} overlapped"
    assert len({r.pid for r in rows}) == 2, "both workers should have taken a share"


def test_permanent_error_fails_after_one_attempt_and_tells_technicians(rig, make_staff):
    make_staff(rig.app)
    [op_id] = _enqueue(rig.app, [("test.refuse", {}, "hosting:acct1")])
    [op] = wait_for(lambda: _all_finished(rig, [op_id]), what="the refused operation")

    assert op.status == "failed"
    assert op.attempts == 1
    assert op.error == "the change to hosting:acct1 is not allowed"
    wait_for(lambda: rig.mail, what="the failure notice")
    [notice] = rig.mail
    assert f"Operation {op_id} failed" in notice["Subject"]
    assert "tech@provider.example" in notice["To"] and "boss@provider.example" in notice["To"]
    assert "not allowed" in notice.get_payload()


def test_request_accepted_while_broker_is_down_runs_once_broker_is_back(
    jobs_pg_url, redis_url, tmp_path
):
    from conftest import Setup, free_port, reset_database

    reset_database(jobs_pg_url)
    down = Setup("postgresql-celery", jobs_pg_url, f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    [op_id] = _enqueue(down.app, [("test.record", {"key": "while-down"}, "zone:b.sch.uk")])
    [op] = _ops(down.app, [op_id])
    assert op.status == "pending"  # accepted and saved, though nothing could be told

    up = Setup("postgresql-celery", jobs_pg_url, redis_url, tmp_path)
    try:
        up.start_worker()

        def done():
            up.relay()  # the scheduler's relay job: publishes rows the broker never saw
            [op] = _ops(up.app, [op_id])
            return op if op.finished else None

        op = wait_for(done, every=0.2, what="the operation to run once the broker is back")
        assert (op.status, op.attempts) == ("succeeded", 1)
        assert [r.op_key for r in effects_rows(up.app)] == ["while-down"]
    finally:
        up.stop_all()
