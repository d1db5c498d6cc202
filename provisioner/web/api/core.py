"""me, schools and domains."""

from __future__ import annotations

from flask import jsonify

from provisioner.errors import Forbidden, ValidationError
from provisioner.registry import services as domains
from provisioner.schools import services as schools
from provisioner.web.api import api, api_user, json_body, require_staff
from provisioner.zones import provider_configs


def _school_dict(school, with_contacts: bool) -> dict:
    data = {
        "urn": school.urn,
        "name": school.name,
        "local_authority": school.local_authority,
        "domain_count": school.domain_count,
        "warnings": schools.nomination_warnings(school),
    }
    if with_contacts:
        data["contacts"] = [
            {"name": c.name, "email": c.email, "role": c.contact_role, "nominated": c.nominated}
            for c in school.contacts
        ]
    return data


@api.get("/me")
def me():
    """Who the token belongs to."""
    user = api_user()
    return jsonify(
        email=user.email,
        name=user.name,
        role=user.role,
        school_urn=user.school.urn if user.school else None,
        nominated=bool(user.nominated),
    )


@api.get("/schools")
def list_schools():
    """Schools: every school for technicians, their own for contacts."""
    user = api_user()
    rows = schools.list_schools() if user.is_staff else [user.school]
    return jsonify([_school_dict(s, with_contacts=False) for s in rows])


@api.post("/schools")
def create_school():
    """Add a school (technicians)."""
    require_staff()
    body = json_body()
    school = schools.add_school(body.get("urn"), body.get("name"), body.get("local_authority"))
    return jsonify(_school_dict(school, with_contacts=True)), 201


@api.get("/schools/<urn>")
def get_school(urn: str):
    """One school with its contacts."""
    user = api_user()
    school = schools.get_school(urn)
    if not user.is_staff and school.id != user.school_id:
        raise Forbidden("you can only see your own school")
    return jsonify(_school_dict(school, with_contacts=True))


@api.get("/domains")
def list_domains():
    """Domains: every domain for technicians, their school's for contacts."""
    return jsonify([d.to_dict() for d in domains.domains_visible_to(api_user())])


@api.post("/domains")
def create_domain():
    """Add a managed domain to a school (technicians); at most ten per school."""
    require_staff()
    body = json_body()
    for key in ("school_urn", "name"):
        if not isinstance(body.get(key), str) or not body.get(key).strip():
            raise ValidationError(f"{key} is required", fields={key: "required"})
    provider = None
    if body.get("provider"):
        provider = provider_configs.get_provider_config(body["provider"])
    domain = domains.add_domain(body["school_urn"], body["name"], provider=provider)
    return jsonify(domain.to_dict()), 201
