"""The apply operation: approved -> applying -> applied -> verified (or failed).

Runs in a worker (embedded or Celery). Idempotent: after a crash it looks at
the request's status and at the live zone before acting, so a change that
already reached the server is verified, not sent twice. Each status is
committed as it is reached, so the school and the technician see progress.
"""

from __future__ import annotations

import logging
from datetime import datetime

from provisioner.cases import services as cases
from provisioner.db import db, utcnow
from provisioner.dns_requests import intake
from provisioner.dns_requests.models import DnsChangeRequest
from provisioner.errors import ProvisionerError
from provisioner.jobs.errors import RetryableError
from provisioner.zones import plan as planning
from provisioner.zones import services as zones
from provisioner.zones.errors import PlanChanged, ProviderError
from provisioner.zones.validate import desired_from_changes

log = logging.getLogger("provisioner.dns_requests")


class ApplyFailed(ProvisionerError):
    """The change cannot be applied as approved; a technician has to look."""

    code = "apply_failed"
    status = 409


class ApplyNotDue(RetryableError):
    """The operation ran before the time the school asked for: try again later."""

    code = "apply_not_due"


def _served(live_records, request: DnsChangeRequest) -> bool:
    """Does the live zone already hold what the approved plan produces?"""
    current = {(r.name, r.type): r for r in live_records}
    zone = request.domain.name
    for change in request.plan.get("changes", []):
        full = zone if change["name"] == "@" else f"{change['name']}.{zone}"
        now_there = current.get((full, change["type"]))
        new = change.get("new")
        want = (new["ttl"], tuple(new["values"])) if new else None
        have = (now_there.ttl, now_there.values) if now_there else None
        if have != want:
            return False
    return True


def _event(request, kind: str, text: str, *, public=True, data=None) -> None:
    intake.add_event(request, kind, text)
    cases.link_operation(request.case, text, data or {"request_id": request.id}, public=public)


def apply_request(request_id: int, *, now: datetime | None = None, log_line=None) -> dict:
    """Apply and verify one approved request. Returns a summary for the operation."""
    say = log_line or (lambda line: log.info("request %s: %s", request_id, line))
    now = now or utcnow()
    request = db.session.get(DnsChangeRequest, int(request_id))
    if request is None:
        raise ApplyFailed(f"DNS request {request_id} does not exist")
    if request.status in ("verified", "rejected"):
        say(f"request is already {request.status}; nothing to do")
        return {"status": request.status}
    if request.status not in ("approved", "applying", "applied"):
        raise ApplyFailed(f"DNS request {request_id} is {request.status}, not approved")
    if request.apply_after and request.apply_after > now:
        raise ApplyNotDue(
            f"DNS request {request_id} is to be applied at {request.apply_after.isoformat()}"
        )
    domain = request.domain
    try:
        if request.status != "applied":
            _apply(request, now, say)
        return _verify(request, say)
    except ProviderError as exc:  # the server could not be reached: retried by the worker
        _note_retry(request, exc)
        raise
    except ProvisionerError as exc:  # a conflict, a changed zone, an unsafe plan: a person
        _fail(request, exc.message)
        raise ApplyFailed(exc.message) from exc
    finally:
        say(f"zone {domain.name}: request {request.id} is {request.status}")


def _apply(request: DnsChangeRequest, now: datetime, say) -> None:
    domain = request.domain
    live = zones.live_zone(domain)
    if request.status == "applying" and _served(live.records, request):
        # A previous attempt got the change to the server and then stopped.
        say("the live zone already holds the approved change; verifying it")
        _mark_applied(request, None, now)
        return
    desired = desired_from_changes(domain.name, request.changes, live.records)
    fresh = planning.plan(desired, live)
    if fresh.checksum != request.plan_checksum:
        reviewed = set(_lines(request.plan))
        now_lines = set(fresh.describe())
        details = [f"approved: {x}" for x in sorted(reviewed - now_lines)]
        details += [f"now: {x}" for x in sorted(now_lines - reviewed)]
        raise PlanChanged(
            f"Conflict: the live zone {domain.name} changed since the request was approved, "
            "so nothing was applied. Review the new plan and approve again. "
            + "; ".join(details[:10]),
            fields={"differences": details},
        )
    request.status = "applying"
    _event(request, "applying", "Applying the DNS change")
    db.session.commit()
    say(f"applying {len(fresh.changes)} change(s) to {domain.name}")

    def mark_applied(_provider, _zone, _plan):
        # Called by apply_reviewed once the server took the change, before it commits
        # its zone history: "applied" is saved in that same transaction.
        _mark_applied(request, None, now, commit=False)
        return None  # verified below, with the request's own status moves

    applied = zones.apply_reviewed(
        domain,
        fresh,
        force=bool(request.forced_reason),
        forced_reason=request.forced_reason,
        actor=request.approved_by,
        source="request",
        reference=str(request.id),
        verify=mark_applied,
    )
    if applied.change is not None:
        request.zone_change_id = applied.change.id  # saved with the verification


def _lines(plan: dict | None) -> list[str]:
    from provisioner.dns_requests.notify import describe_plan

    return describe_plan(plan)


def _mark_applied(request: DnsChangeRequest, change, now: datetime, commit=True) -> None:
    request.status = "applied"
    request.applied_at = utcnow()
    if change is not None:
        request.zone_change_id = change.id
    _event(request, "applied", "DNS change applied on the server; checking every nameserver")
    if commit:
        db.session.commit()


def _verify(request: DnsChangeRequest, say) -> dict:
    from provisioner.zones.plan import Plan

    provider = zones.provider_for(request.domain)
    # The expectation is the approved plan itself: its "new" side per record set.
    reviewed = Plan(request.domain.name, _changes_of(request), request.plan_checksum)
    result = zones.verify_served(provider, request.domain.name, reviewed)
    if result is not None and not result["ok"]:
        raise ApplyFailed(
            f"the change was applied but is not served everywhere yet: {result['summary']}"
        )
    summary = result["summary"] if result else "no nameservers to check"
    say(summary)
    request.status = "verified"
    request.verified_at = utcnow()
    request.error = None
    lines = "\n".join(_lines(request.plan))
    _event(request, "verified", f"Served by every nameserver:\n{summary}")
    resolver = request.approved_by
    text = f"DNS change for {request.domain.name} applied and verified:\n{lines}"
    if request.case.is_open and resolver is not None:
        cases.set_status(request.case, "resolved", resolver, text=text)  # commits
    else:
        db.session.commit()
    from provisioner.dns_requests.notify import completed

    completed(request)
    return {"status": "verified", "request_id": request.id, "verification": summary}


def _changes_of(request: DnsChangeRequest):
    from provisioner.zones.plan import Create, Delete, Update
    from provisioner.zones.records import Record

    zone = request.domain.name
    out = []
    for change in request.plan.get("changes", []):
        full = zone if change["name"] == "@" else f"{change['name']}.{zone}"
        old, new = change.get("old"), change.get("new")
        old_r = Record(full, change["type"], old["ttl"], tuple(old["values"])) if old else None
        new_r = Record(full, change["type"], new["ttl"], tuple(new["values"])) if new else None
        if old_r and new_r:
            out.append(Update(old_r, new_r))
        elif new_r:
            out.append(Create(new_r))
        else:
            out.append(Delete(old_r))
    return tuple(out)


def _fail(request: DnsChangeRequest, message: str) -> None:
    db.session.rollback()
    db.session.refresh(request)
    request.status = "failed"
    request.error = message
    _event(request, "failed", f"DNS change failed: {message}", public=False)
    db.session.commit()


def _note_retry(request: DnsChangeRequest, exc: ProvisionerError) -> None:
    """The server could not be reached: the operation will try again."""
    db.session.rollback()
    db.session.refresh(request)
    request.error = f"{exc.message} (will retry)"
    if request.status == "applying":
        request.status = "approved"
    intake.add_event(request, "attempt_failed", f"Attempt failed, will retry: {exc.message}")
    cases.link_operation(
        request.case, f"Applying the DNS change failed, will retry: {exc.message}", public=False
    )
    db.session.commit()


def fail_after_last_attempt(request_id: int, message: str) -> None:
    """The operation gave up (retries exhausted): the request fails visibly."""
    request = db.session.get(DnsChangeRequest, int(request_id))
    if request is None or request.status in ("verified", "rejected", "failed"):
        return
    _fail(request, message)
