"""DNS change requests and the records a domain serves now."""

from __future__ import annotations

from flask import jsonify

from provisioner.dns_requests import intake, review
from provisioner.dns_requests.views import history_rows, request_dict
from provisioner.errors import NotFound, ValidationError
from provisioner.registry import services as domains
from provisioner.schools.services import get_user_by_email
from provisioner.web.api import api, api_user, json_body, require_staff
from provisioner.zones import services as zones


@api.get("/domains/<name>/records")
def domain_records(name: str):
    """Record sets the domain serves now: [{name, type, ttl, values}]."""
    user = api_user()
    domain = domains.get_domain(name)
    if not user.is_staff and domain.school_id != user.school_id:
        raise NotFound(f"no managed domain named {name!r}", fields={"domain": "unknown domain"})
    return jsonify(zones.live_records(domain))


@api.get("/domains/<name>/dns-requests")
def domain_history(name: str):
    """Every DNS change request for the domain, newest first."""
    user = api_user()
    domain = domains.get_domain(name)
    if not user.is_staff and domain.school_id != user.school_id:
        raise NotFound(f"no managed domain named {name!r}", fields={"domain": "unknown domain"})
    return jsonify(history_rows(review.history(domain=domain)))


@api.get("/dns-requests")
def list_dns_requests():
    """Open requests by due time (technicians), or the school's own history (contacts)."""
    user = api_user()
    rows = review.queue() if user.is_staff else review.history(school=user.school)
    return jsonify([request_dict(r, user) for r in rows])


@api.post("/dns-requests")
def create_dns_request():
    """Ask for a DNS change (a nominated contact; a technician names the contact)."""
    user = api_user()
    body = json_body()
    requester, logged_by, channel = user, None, "api"
    if user.is_staff:
        email = body.get("requester")
        if not isinstance(email, str) or not email.strip():
            raise ValidationError(
                "a technician names the contact who asked, as requester (their email)",
                fields={"requester": "required"},
            )
        requester, logged_by, channel = get_user_by_email(email), user, "phone"
    request = intake.submit(
        requester=requester,
        domain=body.get("domain"),
        changes=body.get("changes"),
        notes=body.get("notes"),
        apply_after=body.get("apply_after"),
        impact=body.get("impact"),
        channel=channel,
        logged_by=logged_by,
    )
    return jsonify(request_dict(request, user)), 201


@api.get("/dns-requests/<request_id>")
def get_dns_request(request_id: str):
    """One request with its plan and case."""
    user = api_user()
    return jsonify(request_dict(review.get_request(request_id, user), user))


def _staff_request(request_id: str):
    user = require_staff()
    return user, review.get_request(request_id, user)


@api.post("/dns-requests/<request_id>/approve")
def approve_dns_request(request_id: str):
    """Approve; the worker applies the change (at apply_after if set)."""
    user, request = _staff_request(request_id)
    body = json_body() if _has_body() else {}
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ValidationError("force must be true or false", fields={"force": "boolean"})
    request = review.approve(
        request,
        user,
        checksum=body.get("checksum"),
        force=force,
        forced_reason=body.get("forced_reason"),
    )
    return jsonify(request_dict(request, user)), 202


@api.post("/dns-requests/<request_id>/reject")
def reject_dns_request(request_id: str):
    """Reject with a reason the school sees."""
    user, request = _staff_request(request_id)
    body = json_body()
    return jsonify(request_dict(review.reject(request, user, body.get("reason")), user))


@api.post("/dns-requests/<request_id>/retry")
def retry_dns_request(request_id: str):
    """Apply a failed request again with its approved plan."""
    user, request = _staff_request(request_id)
    return jsonify(request_dict(review.retry(request, user), user)), 202


@api.post("/dns-requests/<request_id>/rollback")
def rollback_dns_request(request_id: str):
    """Undo an applied request: a new linked request, approved at once."""
    user, request = _staff_request(request_id)
    undo = review.rollback(request, user)
    return jsonify(request_dict(undo, user)), 202


@api.post("/dns-requests/<request_id>/edit")
def edit_dns_request(request_id: str):
    """Replace the changes before approval; the old ones stay in the history."""
    user, request = _staff_request(request_id)
    body = json_body()
    request = review.edit(request, body.get("changes"), user, notes=body.get("notes"))
    return jsonify(request_dict(request, user))


def _has_body() -> bool:
    from flask import request

    return bool(request.get_data())
