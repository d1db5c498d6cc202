"""Registering through Route 53 Domains as a durable operation (moto's server on
127.0.0.1): the API answers 202, a worker does the registrar call, the domain is added,
its zone created and the case resolved; a refusal puts the request back, nothing kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.jobs.models import Operation
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.models import Domain
from provisioner.registry.quotes import set_price
from provisioner.schools.models import School
from tests.registry.conftest import CONTACT


@pytest.fixture
def contact_configured():
    return True


@pytest.fixture
def app_config(app_config, rdap_server, whois_map, moto_domains, tmp_path, contact_configured):
    config = {
        **app_config,
        "RDAP_BOOTSTRAP": str(rdap_server.bootstrap(tmp_path)),
        "WHOIS_SERVERS": str(whois_map),
        "REGISTRY_MIN_INTERVAL": 0,
        "ZONES_DIRECTORY": str(tmp_path / "zones"),
        "ROUTE53DOMAINS_ENDPOINT_URL": moto_domains,
    }
    if contact_configured:
        config["ROUTE53DOMAINS_CONTACT"] = json.dumps(CONTACT)
    return config


@pytest.fixture
def worker(app):
    from provisioner.jobs.embedded import EmbeddedExecutor
    from provisioner.jobs.registry import load_task_modules

    load_task_modules()
    return lambda: EmbeddedExecutor(app).run_until_idle()


@pytest.fixture
def approved(app, api, make_school, make_contact, make_technician):
    tech = make_technician()
    set_price("com", 2400, 2400, tech, years=2)  # moto refuses 1-year registrations
    school = make_school(urn="115001", name="St Mary's Primary")
    head = make_contact(school, "head@stmarys.example", name="Hana Head")
    made = api(head).post(
        "/api/v1/domain-requests", json={"kind": "register", "name": "newschool-academy.com"}
    )
    assert made.status_code == 201, made.json  # RDAP 404: free
    rid = made.json["id"]
    assert api(head).post(f"/api/v1/domain-requests/{rid}/approve-quote").status_code == 200
    return tech, school, rid


def test_route53domains_registration_runs_as_an_operation(api, approved, worker):
    tech, school, rid = approved
    queued = api(tech).post(
        f"/api/v1/domain-requests/{rid}/complete",
        json={"registrar": "route53domains", "cost_pence": 2200},
    )
    assert queued.status_code == 202, queued.json
    assert queued.json["status"] == "processing"
    again = api(tech).post(
        f"/api/v1/domain-requests/{rid}/complete", json={"registrar": "route53domains"}
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "request_busy"
    assert worker() == 1
    db.session.expire_all()
    operation = db.session.get(Operation, queued.json["operation"])
    assert operation.status == "succeeded", operation.error
    req = api(tech).get(f"/api/v1/domain-requests/{rid}").json
    assert (req["status"], req["registrar"], req["cost_pence"]) == (
        "completed",
        "route53domains",
        2200,
    )
    domain = db.session.scalar(select(Domain).where(Domain.name == "newschool-academy.com"))
    expected = datetime.now(UTC).date() + timedelta(days=730)
    assert abs((domain.expires_on - expected).days) <= 1
    assert domain.expiry_source == "route53domains"
    assert db.session.get(School, school.id).domain_count == 1
    case = db.session.get(Case, db.session.get(RegistrationRequest, rid).case_id)
    assert case.status == "resolved"


@pytest.mark.parametrize("contact_configured", [False])
def test_a_registrar_refusal_puts_the_request_back_and_keeps_nothing(
    app, api, approved, worker, contact_configured
):
    tech, school, rid = approved
    queued = api(tech).post(
        f"/api/v1/domain-requests/{rid}/complete", json={"registrar": "route53domains"}
    )
    assert queued.status_code == 202
    worker()
    db.session.expire_all()
    operation = db.session.get(Operation, queued.json["operation"])
    assert operation.status == "failed"
    assert "ROUTE53DOMAINS_CONTACT" in operation.error
    assert db.session.get(RegistrationRequest, rid).status == "approved"
    assert db.session.scalar(select(func.count()).select_from(Domain)) == 0
    assert db.session.get(School, school.id).domain_count == 0
    # nor the zone it had made for the name on the school's DNS provider
    assert not (Path(app.config["ZONES_DIRECTORY"]) / "newschool-academy.com.db").exists()

    # Once the technician has fixed the cause, sending it again makes a new operation.
    retry = api(tech).post(
        f"/api/v1/domain-requests/{rid}/complete", json={"registrar": "route53domains"}
    )
    assert retry.status_code == 202 and retry.json["operation"] != queued.json["operation"]
    assert worker() == 1
