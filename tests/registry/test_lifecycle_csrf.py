"""The lifecycle pages' forms carry CSRF tokens; a post without one changes nothing.
And the new API routes are in the OpenAPI document."""

from __future__ import annotations

import re

import pytest

from provisioner.db import db
from provisioner.registry.services import add_domain, get_domain


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
    )
    assert response.status_code == 302


def test_setting_a_date_needs_the_forms_token(client, make_school, make_technician):
    tech = make_technician()
    make_school(urn="115001")
    add_domain("115001", "stmarys.essex.sch.uk")
    _login(client, tech)
    page = client.get("/domains/stmarys.essex.sch.uk").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    forged = client.post("/domains/stmarys.essex.sch.uk/expiry", data={"expires_on": "2027-08-31"})
    assert forged.status_code == 400
    db.session.expire_all()
    assert get_domain("stmarys.essex.sch.uk").expires_on is None
    ok = client.post(
        "/domains/stmarys.essex.sch.uk/expiry",
        data={"expires_on": "2027-08-31", "csrf_token": token},
    )
    assert ok.status_code == 302


def test_the_openapi_document_lists_the_domain_request_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/domain-requests",
        "/domain-requests/{request_id}/approve-quote",
        "/domain-requests/{request_id}/complete",
        "/domains/{name}/expiry",
        "/domains/{name}/auto-renew",
        "/domains/expiring",
    ):
        assert path in paths, sorted(paths)
