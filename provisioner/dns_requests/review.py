"""What technicians do with a request: edit, approve (now or at the time asked),
reject, retry, undo. Each checks first and commits once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update

from provisioner.cases import services as cases
from provisioner.db import db, utcnow
from provisioner.dns_requests import intake
from provisioner.dns_requests.models import APPROVABLE, DnsChangeRequest, DnsRequestEvent
from provisioner.errors import Conflict, Forbidden, NotFound, ValidationError
from provisioner.zones import services as zones
from provisioner.zones.errors import PlanChanged

APPLY_KIND = "dns_request.apply"


def _require_staff(actor) -> None:
    if actor is None or not actor.is_staff:
        raise Forbidden("only technicians may do this")


def get_request(request_id, viewer=None) -> DnsChangeRequest:
    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        raise NotFound(f"no DNS request {request_id}") from None
    request = db.session.get(DnsChangeRequest, request_id)
    if request is None or (
        viewer is not None and not viewer.is_staff and request.school_id != viewer.school_id
    ):
        # Another school's request is "not found", so ids cannot be probed.
        raise NotFound(f"no DNS request {request_id}", fields={"id": "unknown request"})
    return request


def queue(statuses=("submitted", "approved", "applying", "applied", "failed")) -> list:
    """Open requests, the most urgent case first."""
    from provisioner.cases.models import Case

    query = (
        select(DnsChangeRequest)
        .join(Case, DnsChangeRequest.case_id == Case.id)
        .where(DnsChangeRequest.status.in_(statuses))
        .order_by(Case.due_at, DnsChangeRequest.id)
    )
    return list(db.session.scalars(query))


def history(*, school=None, domain=None, limit: int = 500) -> list[DnsChangeRequest]:
    query = select(DnsChangeRequest).order_by(DnsChangeRequest.id.desc()).limit(limit)
    if school is not None:
        query = query.where(DnsChangeRequest.school_id == school.id)
    if domain is not None:
        query = query.where(DnsChangeRequest.domain_id == domain.id)
    return list(db.session.scalars(query))


def _claim(request: DnsChangeRequest, allowed: tuple[str, ...], new_status: str) -> None:
    """Move status with a conditional UPDATE, so two technicians cannot both act."""
    moved = db.session.execute(
        update(DnsChangeRequest)
        .where(DnsChangeRequest.id == request.id, DnsChangeRequest.status.in_(allowed))
        .values(status=new_status)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        db.session.refresh(request)
        raise Conflict(
            f"DNS request {request.id} is {request.status_label.lower()}; it cannot be "
            f"{new_status} now",
            code="request_state",
        )
    request.status = new_status


def _commit_moving_case(request: DnsChangeRequest, actor, status: str, text: str) -> None:
    """Commit, moving the case to `status` in the same transaction when it is not there."""
    case = request.case
    if case.status != status and case.status != "closed":
        cases.set_status(case, status, actor, text=text)  # commits
    else:
        db.session.commit()


def edit(request: DnsChangeRequest, changes, actor, *, notes=None, live=zones.live_zone):
    """Change what will be applied before approval; the old changes stay in the history."""
    _require_staff(actor)
    if request.status not in APPROVABLE:
        raise Conflict(
            f"DNS request {request.id} is {request.status_label.lower()}; only a request "
            "waiting for review (or failed) can be edited",
            code="request_state",
        )
    if not isinstance(changes, list) or not changes:
        raise ValidationError("a request needs at least one change", fields={"changes": "empty"})
    found = intake.preview(request.domain, changes, live=live)
    before = request.changes
    request.changes = [dict(c) for c in changes]
    request.plan, request.plan_checksum = found.plan.to_dict(), found.plan.checksum
    request.warnings = list(found.warnings)
    if notes is not None:
        request.notes = intake.clean_notes(notes)
    intake.add_event(request, "edited", f"Changes edited by {actor.name}", actor, before, changes)
    cases.add_event(request.case, "note", f"{actor.name} edited the requested changes", actor=actor)
    db.session.commit()
    return request


def approve(
    request: DnsChangeRequest,
    actor,
    *,
    checksum: str | None = None,
    force: bool = False,
    forced_reason: str | None = None,
    now: datetime | None = None,
    live=zones.live_zone,
    enqueue: Callable | None = None,
) -> DnsChangeRequest:
    """Approve the plan as it stands against the live zone now; the change is applied
    by an operation, at apply_after if the school asked for a time.

    `checksum` is the plan the technician looked at: if the zone moved since, the
    approval is refused so nobody approves a plan they have not seen.
    """
    _require_staff(actor)
    now = now or utcnow()
    if request.status not in APPROVABLE:
        raise Conflict(
            f"DNS request {request.id} is {request.status_label.lower()}; it cannot be approved",
            code="request_state",
        )
    found = intake.preview(request.domain, request.changes, live=live)
    if checksum and checksum != found.plan.checksum:
        raise PlanChanged(
            f"The live zone {request.domain.name} changed since you looked at this request; "
            "review the new plan and approve again.",
            fields={"expected": checksum, "actual": found.plan.checksum},
        )
    if not found.plan:
        raise Conflict(
            f"{request.domain.name} already serves these changes; nothing to apply "
            "(reject the request with that reason)",
            code="nothing_to_change",
        )
    reason = (forced_reason or "").strip()
    unsafe = found.plan.unsafe_reasons()
    if unsafe and not force:
        found.plan.raise_if_unsafe()
    if force and unsafe and not reason:
        raise ValidationError(
            "forcing an unsafe plan needs a reason", fields={"forced_reason": "required"}
        )
    _claim(request, APPROVABLE, "approved")
    request.plan, request.plan_checksum = found.plan.to_dict(), found.plan.checksum
    request.warnings = list(found.warnings)
    request.approved_by, request.approved_at = actor, now
    request.forced_reason = reason if (force and unsafe) else None
    request.error = None
    later = request.apply_after is not None and request.apply_after > now
    when = f" for {request.apply_after.isoformat()}" if later else ""
    forced = f" (unsafe plan forced: {reason})" if request.forced_reason else ""
    intake.add_event(
        request,
        "scheduled" if later else "approved",
        f"Approved by {actor.name}{when}{forced}",
        actor,
        after=request.plan,
    )
    cases.link_operation(
        request.case,
        f"DNS change approved by {actor.name}"
        + (f"; it will be applied at {request.apply_after.isoformat()}" if later else ""),
        {"request_id": request.id, "checksum": request.plan_checksum},
        actor=actor,
    )
    (enqueue or _enqueue)(request, actor, _attempt(request))
    request.queued_at = now
    _commit_moving_case(request, actor, "in_progress", "DNS change approved")
    return request


def _attempt(request: DnsChangeRequest) -> int:
    """How many times the request has been sent to be applied (the idempotency key)."""
    return db.session.scalar(
        select(func.count(DnsRequestEvent.id)).where(
            DnsRequestEvent.request_id == request.id,
            DnsRequestEvent.kind.in_(("approved", "scheduled", "retried")),
        )
    )


def _enqueue(request: DnsChangeRequest, actor, attempt: int) -> None:
    from provisioner.jobs.service import enqueue

    enqueue(
        APPLY_KIND,
        {"request_id": request.id},
        resource_key=f"zone:{request.domain.name}",
        idempotency_key=f"dns_request:{request.id}:apply:{attempt}",
        case_id=request.case_id,
        requested_by=actor.id if actor else None,
        run_after=request.apply_after,
    )


def retry(request: DnsChangeRequest, actor, *, enqueue: Callable | None = None):
    """Apply a failed request again with the plan already approved (after a
    server was down, say). If the zone moved, the apply fails again: approve anew."""
    _require_staff(actor)
    if request.plan_checksum is None or request.approved_at is None:
        raise Conflict(f"DNS request {request.id} was never approved", code="request_state")
    _claim(request, ("failed",), "approved")
    request.error = None
    intake.add_event(request, "retried", f"Retry asked by {actor.name}", actor)
    cases.link_operation(request.case, f"{actor.name} asked to apply the DNS change again")
    (enqueue or _enqueue)(request, actor, _attempt(request))
    db.session.commit()
    return request


def reject(request: DnsChangeRequest, actor, reason, *, notify: Callable | None = None):
    """Refuse the request with a reason the school sees; the case is resolved."""
    _require_staff(actor)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError("say why the request is rejected", fields={"reason": "required"})
    if len(reason) > intake.NOTES_LIMIT:
        raise ValidationError("the reason is too long", fields={"reason": "too long"})
    _claim(request, ("submitted", "approved", "failed"), "rejected")
    request.rejected_reason = reason
    intake.add_event(request, "rejected", f"Rejected by {actor.name}: {reason}", actor)
    case = request.case
    cases.add_event(case, "reply", f"DNS change not made: {reason}", actor=actor)
    _commit_moving_case(request, actor, "resolved", "DNS change request rejected")
    if notify is None:
        from provisioner.dns_requests.notify import rejected as notify
    notify(request)
    return request


def inverse_changes(request: DnsChangeRequest) -> list[dict]:
    """Changes that put back every record set the applied plan touched."""
    out = []
    for change in (request.plan or {}).get("changes", []):
        old = change.get("old")
        base = {"name": change["name"], "type": change["type"]}
        if old is None:
            out.append({"action": "delete", **base})
        else:
            out.append({"action": "replace", **base, "ttl": old["ttl"], "values": old["values"]})
    return out


def rollback(
    request: DnsChangeRequest,
    actor,
    *,
    now: datetime | None = None,
    live=zones.live_zone,
    enqueue: Callable | None = None,
    notify: Callable | None = None,
) -> DnsChangeRequest:
    """Undo an applied request in one action: a new request, linked to this one,
    with its own case, approved at once. Refused if the record sets it touched
    changed since (someone else's later edit is not silently undone)."""
    _require_staff(actor)
    if request.status not in ("applied", "verified"):
        raise Conflict(
            f"DNS request {request.id} is {request.status_label.lower()}; only an applied "
            "request can be undone",
            code="request_state",
        )
    done = db.session.scalar(
        select(DnsChangeRequest.id).where(
            DnsChangeRequest.rollback_of_id == request.id,
            DnsChangeRequest.status.notin_(("rejected", "failed")),
        )
    )
    if done:
        raise Conflict(f"DNS request {request.id} is already being undone by request {done}")
    zone = live(request.domain)
    current = {(r.name, r.type): r for r in zone.records}
    moved = []
    for change in (request.plan or {}).get("changes", []):
        name = change["name"]
        full = request.domain.name if name == "@" else f"{name}.{request.domain.name}"
        now_there = current.get((full, change["type"]))
        new = change.get("new")
        served = (now_there.ttl, list(now_there.values)) if now_there else None
        if served != ((new["ttl"], list(new["values"])) if new else None):
            moved.append(f"{change['type']} {name}")
    if moved:
        raise Conflict(
            f"cannot undo DNS request {request.id}: changed since it was applied: "
            + ", ".join(moved)
            + ". Make a new request for what is needed now.",
            fields={"changed": moved},
            code="conflict",
        )
    undo = intake.submit(
        requester=request.requester,
        domain=request.domain,
        changes=inverse_changes(request),
        notes=f"Undo of DNS request {request.id}",
        impact=request.impact,
        channel="system",
        logged_by=actor,
        rollback_of=request,
        check_nominated=False,
        now=now,
        live=lambda _domain: zone,
        notify=notify or (lambda _r: None),
    )
    intake.add_event(request, "rollback_requested", f"Undone by {actor.name}: request {undo.id}")
    cases.link_operation(
        request.case,
        f"{actor.name} undid this change: request {undo.id}, case {undo.case.reference}",
        {"request_id": request.id, "undo_request_id": undo.id},
        actor=actor,
    )
    db.session.commit()
    return approve(undo, actor, now=now, live=live, enqueue=enqueue)
