"""Taking operations atomically: one worker per operation, one operation per resource.

An operation is claimable when it is pending and due, or running under an
expired lease (its worker died). It must also be the head of its resource's
queue: no other operation on that resource_key is running under a live lease,
and none with a smaller id is waiting its turn. Pending operations scheduled
for later (attempts = 0, not yet due) do not hold the queue up.

PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, then a transaction-scoped
advisory lock on the resource and a fresh re-check, so two workers can never
start two operations on one resource even when rows commit out of id order.
SQLite: one conditional UPDATE ... RETURNING; SQLite runs one writer at a time
and the statement takes the write lock before it reads.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update

from provisioner.jobs.models import PENDING, RUNNING, Operation

OPS = Operation.__table__


# The lease a claim starts with; the runner sets the kind's own lease straight after.
CLAIM_LEASE = timedelta(seconds=60)


def _claimable():
    """The claimable condition over bind parameters :now and :kinds (built once, cached)."""
    now = bindparam("now", type_=OPS.c.next_attempt_at.type)
    other = OPS.alias("other")
    ready = or_(
        and_(OPS.c.status == PENDING, OPS.c.next_attempt_at <= now),
        and_(OPS.c.status == RUNNING, OPS.c.lease_expires_at < now),
    )
    busy = exists().where(
        other.c.resource_key == OPS.c.resource_key,
        other.c.id != OPS.c.id,
        other.c.status == RUNNING,
        other.c.lease_expires_at >= now,
    )
    earlier = exists().where(
        other.c.resource_key == OPS.c.resource_key,
        other.c.id < OPS.c.id,
        or_(
            other.c.status == RUNNING,
            and_(
                other.c.status == PENDING,
                or_(other.c.attempts > 0, other.c.next_attempt_at <= now),
            ),
        ),
    )
    return and_(ready, OPS.c.kind.in_(bindparam("kinds", expanding=True)), ~busy, ~earlier)


@functools.cache
def _statements(variant: str) -> dict:
    """Claim statements per variant ("any", "id", "resource"), compiled once by SQLAlchemy."""
    condition = _claimable()
    if variant == "id":
        condition = and_(condition, OPS.c.id == bindparam("only_id"))
    elif variant == "resource":
        condition = and_(condition, OPS.c.resource_key == bindparam("only_resource"))
    order = (OPS.c.next_attempt_at, OPS.c.id)
    head = select(OPS.c.id).where(condition).order_by(*order).limit(1)
    take = {
        "status": RUNNING,
        "lease_owner": bindparam("owner"),
        "lease_expires_at": bindparam("until", type_=OPS.c.lease_expires_at.type),
        "attempts": OPS.c.attempts + 1,
        "started_at": bindparam("now", type_=OPS.c.started_at.type),
    }
    return {
        "condition": condition,
        # The head is chosen from the whole table, not correlated to the UPDATE's row.
        "single_writer": update(OPS)
        .where(OPS.c.id == head.correlate(None).scalar_subquery())
        .values(**take)
        .returning(OPS.c.id),
        "candidates": select(OPS.c.id, OPS.c.resource_key)
        .where(condition)
        .order_by(*order)
        .limit(10)
        .with_for_update(skip_locked=True),
        "recheck": select(OPS.c.id).where(condition, OPS.c.id == bindparam("candidate")),
        "take_one": update(OPS).where(OPS.c.id == bindparam("candidate")).values(**take),
        "ready": select(OPS.c.id).where(condition).order_by(*order).limit(bindparam("limit")),
    }


def claimable_ids(conn, now: datetime, kinds: list[str], limit: int = 100) -> list[int]:
    """Heads of queue ready now, without taking them (the Celery relay publishes these)."""
    if not kinds:
        return []
    params = {"now": now, "kinds": kinds, "limit": limit}
    return list(conn.execute(_statements("any")["ready"], params).scalars())


def claim(
    engine,
    owner: str,
    now: datetime,
    kinds: list[str],
    lease: timedelta,
    *,
    operation_id: int | None = None,
    resource_key: str | None = None,
) -> int | None:
    """Take the next claimable operation (optionally only this id or this resource)."""
    if not kinds:
        return None
    params = {"now": now, "kinds": kinds, "owner": owner, "until": now + lease}
    variant = "any"
    if operation_id is not None:
        variant, params["only_id"] = "id", operation_id
    elif resource_key is not None:
        variant, params["only_resource"] = "resource", resource_key
    statements = _statements(variant)
    if engine.dialect.name == "postgresql":
        return _claim_postgresql(engine, statements, params)
    with engine.begin() as conn:
        return conn.execute(statements["single_writer"], params).scalar()


def _claim_postgresql(engine, statements: dict, params: dict) -> int | None:
    with engine.begin() as conn:
        for op_id, resource in conn.execute(statements["candidates"], params).all():
            locked = conn.execute(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"),
                {"k": f"provisioner.operations:{resource}"},
            ).scalar()
            if not locked:
                continue  # another worker is claiming on this resource right now
            # A fresh statement sees everything committed before we got the lock.
            if conn.execute(statements["recheck"], {**params, "candidate": op_id}).scalar():
                conn.execute(statements["take_one"], {**params, "candidate": op_id})
                return op_id
    return None


def renew(engine, op_id: int, owner: str, until: datetime) -> bool:
    """Extend our lease; False means another worker has taken the operation over."""
    with engine.begin() as conn:
        result = conn.execute(
            update(OPS)
            .where(OPS.c.id == op_id, OPS.c.lease_owner == owner, OPS.c.status == RUNNING)
            .values(lease_expires_at=until)
        )
        return result.rowcount == 1


def queue_depth(conn) -> dict[str, int]:
    rows = conn.execute(select(OPS.c.status, func.count()).group_by(OPS.c.status)).all()
    return {status: count for status, count in rows}
