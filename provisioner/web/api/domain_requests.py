"""Domain registration and renewal requests, expiry dates and auto-renew over the API."""

from __future__ import annotations

from flask import current_app, jsonify, request

from provisioner.errors import NotFound, ValidationError
from provisioner.registry import (
    auto_renew,
    fulfil,
    overview,
    quotes,
    registrar_jobs,
    scheduled,
)
from provisioner.registry import services as domains
from provisioner.registry.lifecycle import set_expiry_manually
from provisioner.web.api import api, api_user, json_body, require_staff


def _name(body: dict, key: str = "name") -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{key} is required: a domain name", fields={key: "required"})
    return value


@api.get("/domain-requests")
def list_domain_requests():
    """Registration and renewal requests (a contact: their school's), newest first."""
    open_only = request.args.get("open") in ("1", "true", "yes")
    return jsonify(
        [fulfil.request_dict(r) for r in fulfil.list_requests(api_user(), open_only=open_only)]
    )


@api.post("/domain-requests")
def create_domain_request():
    """A quote to register a new name or renew a managed one: {kind: register|renew, name}.
    Nominated contacts only; 201 with the price; 403 not_nominated; 409 not_available."""
    user, body = api_user(), json_body()
    kind, name = body.get("kind"), _name(body)
    if kind == "register":
        lookup = scheduled.build_lookup(current_app.config)
        made = quotes.request_registration(
            user, name, is_available=lookup.is_available, channel="api"
        )
    elif kind == "renew":
        made = quotes.request_renewal(user, name, channel="api")
    else:
        raise ValidationError(
            "kind must be 'register' or 'renew'", fields={"kind": "register or renew"}
        )
    return jsonify(fulfil.request_dict(made)), 201


@api.get("/domain-requests/<request_id>")
def get_domain_request(request_id: str):
    """One request with its quote and, once done, the registrar's reference and new expiry."""
    return jsonify(fulfil.request_dict(fulfil.get_request(request_id, api_user())))


@api.post("/domain-requests/<request_id>/approve-quote")
def approve_domain_quote(request_id: str):
    """The school accepts the price: a nominated contact, once. 409 quote_closed after."""
    user = api_user()
    made = fulfil.get_request(request_id, user)
    return jsonify(fulfil.request_dict(quotes.approve_quote(made.id, user)))


@api.post("/domain-requests/<request_id>/complete")
def complete_domain_request(request_id: str):
    """A technician registers or renews: {registrar: manual, reference, cost_pence,
    new_expiry, provider?, note?} is done at once (200); {registrar: route53domains} runs
    as an operation (202 {operation})."""
    user = require_staff()
    made = fulfil.get_request(request_id, user)
    body = json_body()
    kind, details = fulfil.parse_completion(body)
    done, operation = registrar_jobs.start_completion(
        made.id, user, kind, details, provider_name=body.get("provider") or None
    )
    if operation is None:
        return jsonify(fulfil.request_dict(done))
    return jsonify({**fulfil.request_dict(done), "operation": operation.id}), 202


def _scoped_domain(name: str):
    user = api_user()
    domain = domains.get_domain(name)
    if not user.is_staff and domain.school_id != user.school_id:
        raise NotFound(f"no managed domain named {name!r}", fields={"domain": "unknown domain"})
    return domain


@api.get("/domains/<name>/expiry")
def domain_expiry(name: str):
    """{expires_on, source, checked_at, no_registry_expiry, auto_renew, reminders_sent}."""
    domain = _scoped_domain(name)
    return jsonify(
        {
            "name": domain.name,
            "expires_on": domain.expires_on.isoformat() if domain.expires_on else None,
            "source": domain.expiry_source,
            "checked_at": domain.expiry_checked_at.isoformat()
            if domain.expiry_checked_at
            else None,
            "no_registry_expiry": domain.no_registry_expiry,
            "auto_renew": domain.auto_renew,
            "reminders_sent": [
                {
                    **r,
                    "expiry_date": r["expiry_date"].isoformat(),
                    "sent_at": r["sent_at"].isoformat(),
                }
                for r in overview.reminders_sent(domain)
            ],
        }
    )


@api.put("/domains/<name>/expiry")
def put_domain_expiry(name: str):
    """A technician's date, e.g. for a .sch.uk name with no registry expiry: {expires_on}."""
    user = require_staff()
    domain = _scoped_domain(name)
    set_expiry_manually(domain, json_body().get("expires_on"), user)
    return domain_expiry(domain.name)


@api.put("/domains/<name>/auto-renew")
def put_auto_renew(name: str):
    """{enabled: true|false}. On: a nominated contact (standing approval of the renewal
    price). Off: such a contact or a technician."""
    enabled = json_body().get("enabled")
    if not isinstance(enabled, bool):
        raise ValidationError("enabled must be true or false", fields={"enabled": "boolean"})
    domain = auto_renew.set_auto_renew(_scoped_domain(name), enabled, api_user())
    return jsonify({"name": domain.name, "auto_renew": domain.auto_renew})


@api.get("/domains/expiring")
def expiring_domains():
    """Domains expiring within ?days= (default 90), soonest first; scoped to the school."""
    user = api_user()
    try:
        days = int(request.args.get("days", overview.PANEL_DAYS))
    except ValueError:
        raise ValidationError("days must be a whole number", fields={"days": "integer"}) from None
    if not 0 <= days <= 3660:
        raise ValidationError("days must be between 0 and 3660", fields={"days": "0-3660"})
    rows = overview.expiring_soon(None if user.is_staff else user.school, days=days)
    return jsonify(
        [
            {
                "name": r["domain"].name,
                "school_urn": r["domain"].school.urn,
                "expires_on": r["domain"].expires_on.isoformat(),
                "days_left": r["days_left"],
                "auto_renew": r["domain"].auto_renew,
            }
            for r in rows
        ]
    )
