"""Cases in the JSON API: list, one case (contract shape), log a case."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, request

from provisioner.cases import queries, services
from provisioner.cases.present import case_dict, case_summary
from provisioner.errors import ValidationError
from provisioner.schools import services as schools
from provisioner.web.api import _authenticate, api_user, json_body

cases_api = Blueprint("cases_api", __name__, url_prefix="/api/v1")
# Same bearer-token check as the rest of /api/v1.
cases_api.before_request(_authenticate)


@cases_api.get("/cases")
def list_cases():
    """Cases, most urgent first: every school's for technicians, their own for contacts."""
    args = {k: request.args.get(k) or None for k in queries.FILTERS}
    return jsonify([case_summary(c) for c in queries.cases_for(api_user(), **args)])


@cases_api.get("/cases/<reference>")
def get_case(reference: str):
    """One case with its timeline (schools never see internal notes)."""
    user = api_user()
    return jsonify(case_dict(services.get_case(reference, user), user))


def _field(body: dict, key: str, default=None):
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{key} must be a string", fields={key: "must be a string"})
    return value


@cases_api.post("/cases")
def create_case():
    """Log a case: a technician for a contact (phone by default), a contact for their school."""
    user = api_user()
    body = json_body()
    if user.is_staff:
        contact = None
        if _field(body, "contact_email"):
            contact = schools.get_user_by_email(body["contact_email"])
        urn = _field(body, "school_urn")
        if not urn and contact is None:
            raise ValidationError(
                "give school_urn or contact_email", fields={"school_urn": "required"}
            )
        school = schools.get_school(urn) if urn else contact.school
        if school is None:
            raise ValidationError(
                f"{contact.email} is not a school contact", fields={"contact_email": "staff"}
            )
        case = services.open_case(
            school=school,
            contact=contact,
            subject=_field(body, "subject", ""),
            description=_field(body, "description", ""),
            category=_field(body, "category", "general"),
            channel=_field(body, "channel", "phone"),
            impact=_field(body, "impact"),
            priority=_field(body, "priority"),
            actor=user,
        )
    else:
        if body.get("priority") is not None:
            raise ValidationError(
                "schools describe the impact; a technician sets the priority",
                fields={"priority": "technicians only"},
            )
        case = services.open_case(
            school=user.school,
            contact=user,
            subject=_field(body, "subject", ""),
            description=_field(body, "description", ""),
            impact=_field(body, "impact"),
            channel="api",
            actor=user,
        )
    return jsonify(case_dict(case, user)), 201


def register(app: Flask) -> None:
    """Case pages and API; called once from provisioner.web.register_web."""
    from provisioner.web import csrf
    from provisioner.web.cases import cases

    csrf.exempt(cases_api)
    app.register_blueprint(cases)
    app.register_blueprint(cases_api)
