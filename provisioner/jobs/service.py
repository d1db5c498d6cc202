"""The operations service: enqueue (the outbox), look, retry, cancel.

enqueue() adds the row to the caller's session and does NOT commit: the
operation commits, or rolls back, with the change that needs it. After the
commit a session hook nudges the executor (wakes the embedded threads, or
publishes the id to Celery); if the nudge fails the row is still there and
the polling workers or the Celery relay pick it up.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from provisioner.db import db, utcnow
from provisioner.errors import ValidationError
from provisioner.jobs.errors import OperationNotFound, OperationStateConflict
from provisioner.jobs.models import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    STATUSES,
    Operation,
    OperationLogLine,
)
from provisioner.jobs.registry import REGISTRY

_SESSION_KEY = "provisioner.jobs.enqueued"
NOTIFY_CHANNEL = "provisioner_operations"


def enqueue(
    kind: str,
    payload: dict,
    *,
    resource_key: str,
    idempotency_key: str | None = None,
    case_id: int | None = None,
    requested_by: int | None = None,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
    session: Session | None = None,
) -> Operation:
    """Add an operation to the current transaction; the caller commits.

    With an idempotency_key already used, returns that operation and adds nothing.
    """
    session = session or db.session
    if not kind or not isinstance(kind, str):
        raise ValidationError("an operation needs a kind", fields={"kind": "required"})
    if not resource_key:
        raise ValidationError(
            "an operation needs a resource_key such as 'zone:example.sch.uk'",
            fields={"resource_key": "required"},
        )
    if not isinstance(payload, dict):
        raise ValidationError("an operation payload must be a dict", fields={"payload": "dict"})
    if run_after is not None and run_after.tzinfo is None:
        raise ValidationError("run_after must carry a time zone", fields={"run_after": "aware"})
    if idempotency_key:
        existing = session.execute(
            select(Operation).where(Operation.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    spec = REGISTRY.handlers.get(kind)
    now = utcnow()
    operation = Operation(
        kind=kind,
        payload=payload,
        status=PENDING,
        attempts=0,
        max_attempts=max_attempts or (spec.max_attempts if spec else 5),
        next_attempt_at=max(run_after, now) if run_after else now,
        idempotency_key=idempotency_key,
        resource_key=resource_key,
        case_id=case_id,
        requested_by=requested_by,
        created_at=now,
    )
    session.add(operation)
    session.flush()  # the id is what the executor is told about after the commit
    if session.get_bind().dialect.name == "postgresql":
        # Delivered only if and when this transaction commits: wakes workers elsewhere.
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
    session.info.setdefault(_SESSION_KEY, []).append(
        (current_app._get_current_object(), operation.id)
    )
    return operation


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session: Session) -> None:
    enqueued = session.info.pop(_SESSION_KEY, None)
    if not enqueued:
        return
    from provisioner.jobs.runtime import nudge

    by_app: dict = {}
    for app, op_id in enqueued:
        by_app.setdefault(app, []).append(op_id)
    for app, ids in by_app.items():
        nudge(app, ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def get_operation(op_id) -> Operation:
    try:
        op_id = int(op_id)
    except (TypeError, ValueError):
        raise OperationNotFound(op_id) from None
    operation = db.session.get(Operation, op_id)
    if operation is None:
        raise OperationNotFound(op_id)
    return operation


def get_operation_for(user, op_id) -> Operation:
    """Staff see every operation; a contact only those serving their own school's cases.

    Anything else is reported as missing, so ids of other schools' work do not leak.
    """
    operation = get_operation(op_id)
    if user.is_staff:
        return operation
    if operation.case_id is not None and operation.case_id in _school_case_ids(user):
        return operation
    raise OperationNotFound(op_id)


def _school_cases(user):
    from provisioner.cases.models import Case  # cases depend on jobs, not the reverse

    return select(Case.id).where(Case.school_id == user.school_id)


def _school_case_ids(user) -> set[int]:
    if user.school_id is None:
        return set()
    return set(db.session.execute(_school_cases(user)).scalars())


def list_operations_for(user, **filters) -> list[Operation]:
    if user.is_staff:
        return list_operations(**filters)
    return list_operations(**filters, case_ids=_school_cases(user))


def list_operations(
    *,
    status: str | None = None,
    kind: str | None = None,
    resource_key: str | None = None,
    case_id: int | None = None,
    limit: int = 100,
    case_ids=None,
) -> list[Operation]:
    query = select(Operation).order_by(Operation.id.desc()).limit(max(1, min(limit, 1000)))
    if status:
        if status not in STATUSES:
            raise ValidationError(
                f"unknown status {status!r}; use one of {', '.join(STATUSES)}",
                fields={"status": status},
            )
        query = query.where(Operation.status == status)
    if kind:
        query = query.where(Operation.kind == kind)
    if resource_key:
        query = query.where(Operation.resource_key == resource_key)
    if case_id is not None:
        query = query.where(Operation.case_id == case_id)
    if case_ids is not None:
        query = query.where(Operation.case_id.in_(case_ids))
    return list(db.session.execute(query).scalars())


def log_lines(op_id: int, after_id: int = 0, limit: int = 500) -> list[OperationLogLine]:
    query = (
        select(OperationLogLine)
        .where(OperationLogLine.operation_id == op_id, OperationLogLine.id > after_id)
        .order_by(OperationLogLine.id)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def _add_line(op_id: int, line: str) -> None:
    db.session.add(OperationLogLine(operation_id=op_id, at=utcnow(), line=line))


def retry_operation(op_id, *, by: str = "a technician") -> Operation:
    """Run a failed or cancelled operation again, with a fresh set of attempts."""
    operation = get_operation(op_id)
    changed = db.session.execute(
        update(Operation)
        .where(Operation.id == operation.id, Operation.status.in_((FAILED, CANCELLED)))
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
            finished_at=None,
            lease_owner=None,
            lease_expires_at=None,
            published_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise OperationStateConflict(
            f"operation {operation.id} is {get_operation(op_id).status}; "
            "only failed or cancelled operations can be retried"
        )
    _add_line(operation.id, f"retry requested by {by}")
    session_info = db.session.info.setdefault(_SESSION_KEY, [])
    session_info.append((current_app._get_current_object(), operation.id))
    db.session.commit()
    db.session.refresh(operation)
    return operation


def cancel_operation(op_id, *, by: str = "a technician", now: datetime | None = None) -> Operation:
    """Cancel an operation that has not started, or whose worker has died.

    A running operation with a live lease cannot be stopped half-way (that would
    leave a zone or an account half-changed); it is refused with a clear message.
    """
    operation = get_operation(op_id)
    now = now or utcnow()
    changed = db.session.execute(
        update(Operation)
        .where(
            Operation.id == operation.id,
            (Operation.status == PENDING)
            | ((Operation.status == RUNNING) & (Operation.lease_expires_at < now)),
        )
        .values(status=CANCELLED, finished_at=now, lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        current = get_operation(op_id)
        if current.status == RUNNING:
            message = (
                f"operation {current.id} is running now and cannot be stopped half-way; "
                "cancel it if it fails, or once its worker has stopped"
            )
        else:
            message = f"operation {current.id} has already {current.status}"
        raise OperationStateConflict(message)
    _add_line(operation.id, f"cancelled by {by}")
    db.session.commit()
    db.session.refresh(operation)
    return operation


def operation_dict(operation: Operation, with_log: bool = False) -> dict:
    data = {
        "id": operation.id,
        "kind": operation.kind,
        "status": operation.status,
        "resource_key": operation.resource_key,
        "attempts": operation.attempts,
        "max_attempts": operation.max_attempts,
        "next_attempt_at": _iso(operation.next_attempt_at),
        "lease_owner": operation.lease_owner,
        "lease_expires_at": _iso(operation.lease_expires_at),
        "payload": operation.payload,
        "result": operation.result,
        "error": operation.error,
        "case_id": operation.case_id,
        "requested_by": operation.requested_by,
        "created_at": _iso(operation.created_at),
        "started_at": _iso(operation.started_at),
        "finished_at": _iso(operation.finished_at),
    }
    if with_log:
        data["log"] = [line_dict(line) for line in log_lines(operation.id)]
    return data


def line_dict(line: OperationLogLine) -> dict:
    return {"id": line.id, "at": _iso(line.at), "line": line.line}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
