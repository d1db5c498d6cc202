"""How a request looks to API clients and templates (no I/O)."""

from __future__ import annotations

from provisioner.dns_requests.models import DnsChangeRequest
from provisioner.dns_requests.notify import describe_plan


def _iso(value):
    return value.isoformat() if value else None


def case_summary(case) -> dict:
    return {
        "reference": case.reference,
        "priority": case.priority,
        "due_at": _iso(case.due_at),
        "status": case.status,
    }


def request_dict(request: DnsChangeRequest, viewer=None) -> dict:
    staff = viewer is not None and viewer.is_staff
    data = {
        "id": request.id,
        "status": request.status,
        "domain": request.domain.name,
        "school_urn": request.domain.school.urn,
        "channel": request.channel,
        "requester": request.requester.email,
        "changes": request.changes,
        "notes": request.notes,
        "apply_after": _iso(request.apply_after),
        "impact": request.impact,
        "short_notice": request.short_notice,
        "plan": request.plan,
        "plan_lines": describe_plan(request.plan),
        "warnings": request.warnings or [],
        "case": case_summary(request.case),
        "created_at": _iso(request.created_at),
        "approved_at": _iso(request.approved_at),
        "applied_at": _iso(request.applied_at),
        "verified_at": _iso(request.verified_at),
        "rollback_of": request.rollback_of_id,
    }
    if request.rejected_reason:
        data["rejected_reason"] = request.rejected_reason
    if request.error and (staff or request.status == "failed"):
        data["error"] = request.error
    if staff:
        data["approved_by"] = request.approved_by.email if request.approved_by else None
        data["forced_reason"] = request.forced_reason
    return data


def history_rows(requests) -> list[dict]:
    """Per-school / per-domain history: who asked, who approved, when, before and after."""
    rows = []
    for r in requests:
        rows.append(
            {
                "id": r.id,
                "domain": r.domain.name,
                "status": r.status,
                "requested_by": r.requester.name,
                "requested_at": _iso(r.created_at),
                "approved_by": r.approved_by.name if r.approved_by else None,
                "applied_at": _iso(r.applied_at),
                "verified_at": _iso(r.verified_at),
                "changes": describe_plan(r.plan),
                "case": r.case.reference,
            }
        )
    return rows
