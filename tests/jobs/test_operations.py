"""Operations in one process: the outbox, claiming rules, retries, retry/cancel by hand.

Time is a FixedClock: back-off schedules and lease expiry are checked without sleeping.
These run on SQLite and, in the PostgreSQL pass, on PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import jobs_test_handlers
import pytest
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.errors import ValidationError
from provisioner.jobs import claim as claiming
from provisioner.jobs import enqueue, register_handler, service
from provisioner.jobs.embedded import EmbeddedExecutor
from provisioner.jobs.errors import OperationNotFound, OperationStateConflict
from provisioner.jobs.models import Operation
from provisioner.jobs.registry import REGISTRY
from provisioner.jobs.runtime import runtime
from provisioner.jobs.timing import FixedClock
from provisioner.schools.models import School

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KINDS = ["test.noop", "test.flaky", "test.refuse"]


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def failures():
    """Operations passed to the final-failure hooks during the test."""
    seen = []

    def hook(operation):
        seen.append((operation.id, operation.status, operation.error))

    REGISTRY.final_failure_hooks.append(hook)
    jobs_test_handlers.CALLS.clear()
    yield seen
    REGISTRY.final_failure_hooks.remove(hook)


def _count(model=Operation) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_operation_commits_or_rolls_back_with_the_change_that_needs_it(app):
    db.session.add(School(urn="100001", name="St Mary's"))
    enqueue("test.noop", {}, resource_key="zone:stmarys.essex.sch.uk")
    db.session.rollback()
    assert _count() == 0 and _count(School) == 0

    runtime(app).wake.clear()
    db.session.add(School(urn="100001", name="St Mary's"))
    op = enqueue("test.noop", {"x": 1}, resource_key="zone:stmarys.essex.sch.uk", case_id=7)
    assert runtime(app).wake.is_set() is False  # nothing is told before the commit
    db.session.commit()
    assert _count() == 1 and _count(School) == 1
    assert runtime(app).wake.is_set()  # the embedded workers were woken
    assert (op.status, op.attempts, op.case_id, op.payload) == ("pending", 0, 7, {"x": 1})


def test_same_idempotency_key_gives_the_same_operation(app):
    first = enqueue("test.noop", {}, resource_key="zone:a", idempotency_key="apply-42")
    db.session.commit()
    again = enqueue("test.noop", {}, resource_key="zone:a", idempotency_key="apply-42")
    db.session.commit()
    assert again.id == first.id and _count() == 1


def test_bad_enqueue_is_refused_and_adds_nothing(app):
    with pytest.raises(ValidationError, match="resource_key"):
        enqueue("test.noop", {}, resource_key="")
    with pytest.raises(ValidationError, match="time zone"):
        enqueue("test.noop", {}, resource_key="zone:a", run_after=datetime(2026, 12, 1, 18, 0))
    db.session.commit()
    assert _count() == 0


def _claim(owner, clock, **kw):
    return claiming.claim(db.engine, owner, clock.now(), KINDS, timedelta(seconds=60), **kw)


def test_one_operation_at_a_time_per_resource_in_order_and_expired_leases_reclaimed(app, clock):
    a1 = enqueue("test.noop", {}, resource_key="zone:a").id
    a2 = enqueue("test.noop", {}, resource_key="zone:a").id
    b1 = enqueue("test.noop", {}, resource_key="zone:b").id
    db.session.commit()
    clock.advance(timedelta(seconds=1))

    assert _claim("w1", clock) == a1
    assert _claim("w2", clock) == b1  # another resource runs in parallel
    assert _claim("w3", clock) is None  # a2 waits for a1
    assert _claim("w3", clock, operation_id=a2) is None

    clock.advance(timedelta(seconds=61))  # w1 died: its lease ran out
    assert _claim("w3", clock) == a1
    op = db.session.get(Operation, a1)
    db.session.refresh(op)
    assert (op.status, op.attempts, op.lease_owner) == ("running", 2, "w3")


def test_operation_scheduled_for_later_does_not_hold_up_its_resource(app, clock):
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = enqueue("test.noop", {}, resource_key="zone:a", run_after=tomorrow).id
    now = enqueue("test.noop", {}, resource_key="zone:a").id
    db.session.commit()
    clock.set(datetime.now(UTC) + timedelta(seconds=1))
    assert _claim("w1", clock) == now
    assert _claim("w2", clock) is None
    clock.set(tomorrow + timedelta(seconds=1))
    assert _claim("w2", clock) == later


def test_unknown_kinds_wait_for_a_worker_that_knows_them(app, clock):
    enqueue("feature.not.deployed.yet", {}, resource_key="zone:a")
    db.session.commit()
    clock.set(datetime.now(UTC) + timedelta(seconds=1))
    assert _claim("w1", clock) is None
    assert db.session.execute(select(Operation.status)).scalar() == "pending"


def test_retryable_error_backs_off_exponentially_then_fails_and_calls_hooks(app, clock, failures):
    op_id = enqueue("test.flaky", {}, resource_key="hosting:acct1").id
    db.session.commit()
    clock.set(datetime.now(UTC) + timedelta(seconds=1))
    executor = EmbeddedExecutor(app, clock=clock, rng=random.Random(4))

    waits = []
    for attempt in range(1, 4):
        assert executor.run_once() == op_id
        op = db.session.get(Operation, op_id)
        db.session.refresh(op)
        assert (op.status, op.attempts) == ("pending", attempt)
        assert op.error == "the provider is throttling us"
        wait = op.next_attempt_at - clock.now()
        step = timedelta(seconds=20 * 2 ** (attempt - 1))  # base 20 s, doubling
        assert step / 2 <= wait <= step
        waits.append(wait)
        clock.set(op.next_attempt_at - timedelta(seconds=1))
        assert executor.run_once() is None  # not before its time
        clock.set(op.next_attempt_at)

    assert executor.run_once() == op_id  # the 4th and last attempt
    op = db.session.get(Operation, op_id)
    db.session.refresh(op)
    assert (op.status, op.attempts) == ("failed", 4)
    assert jobs_test_handlers.CALLS == [1, 2, 3, 4]
    assert failures == [(op_id, "failed", "the provider is throttling us")]
    assert waits[0] < waits[1] < waits[2]
    lines = [line.line for line in service.log_lines(op_id)]
    assert sum("will retry in" in line for line in lines) == 3
    assert "failed after the last attempt" in lines[-1]


def test_permanent_error_fails_at_once(app, clock, failures):
    op_id = enqueue("test.refuse", {}, resource_key="hosting:acct1").id
    db.session.commit()
    clock.set(datetime.now(UTC) + timedelta(seconds=1))
    EmbeddedExecutor(app, clock=clock).run_until_idle()
    op = db.session.get(Operation, op_id)
    db.session.refresh(op)
    assert (op.status, op.attempts, op.max_attempts) == ("failed", 1, 5)
    assert jobs_test_handlers.CALLS == [1]
    assert failures == [(op_id, "failed", "the change to hosting:acct1 is not allowed")]


def _steal(ctx):
    """Another worker takes the operation over while this one is still working."""
    enqueue("test.noop", {"side": "effect"}, resource_key="zone:other")
    db.session.execute(
        Operation.__table__.update()
        .where(Operation.__table__.c.id == ctx.id)
        .values(lease_owner="someone-else")
    )
    return {"done": True}


def test_worker_that_lost_its_lease_saves_nothing(app, clock):
    register_handler("test.steal", _steal)
    op_id = enqueue("test.steal", {}, resource_key="zone:a").id
    db.session.commit()
    clock.set(datetime.now(UTC) + timedelta(seconds=1))
    EmbeddedExecutor(app, clock=clock).run_once()
    op = db.session.get(Operation, op_id)
    db.session.refresh(op)
    assert op.status == "running" and op.lease_owner != "someone-else"  # stealing rolled back
    assert op.result is None
    assert _count() == 1  # the handler's own database work was rolled back too
    assert "lease lost" in service.log_lines(op_id)[-1].line


def test_retry_and_cancel_by_hand(app, clock):
    op_id = enqueue("test.refuse", {}, resource_key="zone:a").id
    db.session.commit()
    clock.set(datetime.now(UTC) + timedelta(seconds=1))
    EmbeddedExecutor(app, clock=clock).run_until_idle()

    with pytest.raises(OperationStateConflict, match="already failed"):
        service.cancel_operation(op_id)
    op = service.retry_operation(op_id, by="tech@provider.example")
    assert (op.status, op.attempts) == ("pending", 0)
    with pytest.raises(OperationStateConflict, match="only failed or cancelled"):
        service.retry_operation(op_id)
    op = service.cancel_operation(op_id, by="tech@provider.example")
    assert op.status == "cancelled"
    lines = [line.line for line in service.log_lines(op_id)]
    assert "retry requested by tech@provider.example" in lines
    assert lines[-1] == "cancelled by tech@provider.example"
    with pytest.raises(OperationNotFound):
        service.retry_operation(999999)


def test_running_operation_cannot_be_cancelled_half_way(app, clock):
    op_id = enqueue("test.noop", {}, resource_key="zone:a").id
    db.session.commit()
    now = datetime.now(UTC) + timedelta(seconds=1)
    clock.set(now)
    assert _claim("w1", clock) == op_id
    with pytest.raises(OperationStateConflict, match="running now"):
        service.cancel_operation(op_id, now=now)
    # Once its worker is gone (lease expired) it can be cancelled.
    op = service.cancel_operation(op_id, now=now + timedelta(minutes=2))
    assert op.status == "cancelled"


def test_a_broken_failure_hook_does_not_stop_the_others(app, clock, failures):
    def broken(operation):
        raise RuntimeError("timeline service exploded")

    REGISTRY.final_failure_hooks.insert(0, broken)
    try:
        op_id = enqueue("test.refuse", {}, resource_key="zone:a").id
        db.session.commit()
        clock.set(datetime.now(UTC) + timedelta(seconds=1))
        EmbeddedExecutor(app, clock=clock).run_once()
    finally:
        REGISTRY.final_failure_hooks.remove(broken)
    assert [f[0] for f in failures] == [op_id]  # the next hook still ran
    lines = [line.line for line in service.log_lines(op_id)]
    assert any("hook failed" in line and "timeline service exploded" in line for line in lines)
