"""Completing a registration or renewal as a durable operation: the technician's click
queues it, a worker makes the registrar call (retried while AWS is still working on it),
and after the last failed attempt the request goes back to "approved" and the school is
told it is not done yet."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update

from provisioner.cases import services as cases
from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.errors import Conflict, NotFound, ValidationError
from provisioner.jobs.models import Operation
from provisioner.registry import notify
from provisioner.registry.fulfil import (
    check_can_complete,
    check_room,
    complete,
    parse_completion,
)
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.registrars import KINDS, Completion
from provisioner.schools.models import User
from provisioner.zones.provider_configs import get_provider_config

COMPLETE_KIND = "registry.complete_request"


def start_completion(
    request_id: int,
    actor: User,
    registrar_kind: str,
    details: Completion = Completion(),
    *,
    provider_name: str | None = None,
) -> tuple[RegistrationRequest, Operation | None]:
    """What a technician's "complete" does on every surface: `manual` records what
    was done at the registrar at once (the request, None); any other registrar is
    a call to make, handed to a worker (the request, its operation)."""
    if registrar_kind == "manual":
        from provisioner.registry import registrars

        registrar = registrars.build(registrar_kind, current_app.config)
        done = complete(request_id, actor, registrar, details, provider_name=provider_name)
        return done, None
    operation = queue_completion(
        request_id, actor, registrar_kind, details, provider_name=provider_name
    )
    return db.session.get(RegistrationRequest, int(request_id)), operation


def queue_completion(
    request_id: int,
    actor: User,
    registrar_kind: str,
    details: Completion = Completion(),
    *,
    provider_name: str | None = None,
):
    """Hand the registrar call to a worker; the request shows "processing" meanwhile."""
    from provisioner.jobs.service import enqueue

    request = db.session.get(RegistrationRequest, int(request_id))
    if request is None:
        raise NotFound(f"no domain request #{request_id}", fields={"request": "unknown"})
    check_can_complete(request, actor)
    if registrar_kind not in KINDS:
        raise ValidationError(f"unknown registrar {registrar_kind!r}")
    if request.kind == "register":
        check_room(request)
        if provider_name:
            get_provider_config(provider_name)  # unknown provider: refused now, not in the job
    won = db.session.execute(
        update(RegistrationRequest)
        .where(RegistrationRequest.id == request.id, RegistrationRequest.status == "approved")
        .values(status="processing")
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        db.session.rollback()
        raise Conflict(f"request #{request.id} is already being processed", code="request_busy")
    operation = enqueue(
        COMPLETE_KIND,
        {
            "request_id": request.id,
            "registrar": registrar_kind,
            "actor_id": actor.id,
            "provider": provider_name,
            "reference": details.reference,
            "cost_pence": details.cost_pence,
            "new_expiry": details.new_expiry.isoformat() if details.new_expiry else None,
            "note": details.note,
        },
        resource_key=f"domain:{request.name}",
        # A fresh key per try: after a failed job the technician may send it again.
        idempotency_key=f"registration_request:{request.id}:complete:{_tries(request) + 1}",
        case_id=request.case_id,
        requested_by=actor.id,
    )
    if request.case_id:
        case = db.session.get(Case, request.case_id)
        cases.link_operation(
            case,
            f"{request.kind.title()} {request.name} through {registrar_kind} (operation "
            f"{operation.id})",
            {"operation_id": operation.id, "request_id": request.id},
            actor=actor,
        )
    db.session.commit()
    db.session.refresh(request)
    return operation


def _tries(request: RegistrationRequest) -> int:
    return db.session.scalar(
        select(func.count(Operation.id)).where(
            Operation.kind == COMPLETE_KIND, Operation.resource_key == f"domain:{request.name}"
        )
    )


def run_completion(payload: dict, now: datetime | None = None) -> dict:
    """The operation's body (see tasks.py): build the registrar and complete the request."""
    from provisioner.registry import registrars

    request = db.session.get(RegistrationRequest, int(payload["request_id"]))
    if request is not None and request.status == "completed":
        return {"status": "completed", "request_id": request.id, "already": True}
    actor = db.session.get(User, int(payload["actor_id"]))
    kind, details = parse_completion(payload)
    registrar = registrars.build(kind, current_app.config)
    done = complete(
        payload["request_id"],
        actor,
        registrar,
        details,
        provider_name=payload.get("provider"),
        now=now,
        from_job=True,
    )
    return {
        "status": done.status,
        "request_id": done.id,
        "expires_on": done.new_expiry.isoformat(),
        "reference": done.registrar_reference,
    }


def give_up(request_id: int, error: str) -> None:
    """After the job's last attempt: back to "approved" so a technician can try again."""
    request = db.session.get(RegistrationRequest, int(request_id))
    if request is None or request.status != "processing":
        return
    request.status = "approved"
    if request.case_id:
        case = db.session.get(Case, request.case_id)
        cases.add_event(case, "note", f"Registrar job failed: {error}", public=False)
    db.session.commit()
    notify.request_delayed(request)
