"""Refreshing stored expiry dates from local RDAP and WHOIS servers, by service and CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from provisioner.db import db
from provisioner.errors import Forbidden, ValidationError
from provisioner.registry import lifecycle
from provisioner.registry.lifecycle_models import ExpiryCheck
from provisioner.registry.models import Domain
from provisioner.registry.scheduled import build_lookup
from provisioner.registry.services import add_domain

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config, rdap_server, whois_map, tmp_path):
    return {
        **app_config,
        "RDAP_BOOTSTRAP": str(rdap_server.bootstrap(tmp_path)),
        "WHOIS_SERVERS": str(whois_map),
        "REGISTRY_MIN_INTERVAL": 0,
        "REGISTRY_TIMEOUT": 2,
    }


@pytest.fixture
def domains(app, make_school):
    school = make_school(urn="115001", name="St Mary's Primary")
    for name in (
        "www.stmarys.essex.sch.uk",
        "stmarys.essex.sch.uk",
        "example-academy.com",
        "stmarys-pta.org",
    ):
        add_domain(school.urn, name)
    return {d.name: d for d in db.session.scalars(select(Domain))}


def refresh(app, names=None, **kw):
    rows = db.session.scalars(select(Domain).order_by(Domain.name)).all()
    rows = [d for d in rows if names is None or d.name in names]
    return lifecycle.refresh_expiry(rows, build_lookup(app.config).lookup, now=NOW, **kw)


def held(name):
    d = db.session.scalar(select(Domain).where(Domain.name == name))
    return d.expires_on, d.expiry_source, d.expiry_checked_at


def test_dates_source_and_check_time_are_stored(app, domains, rdap_server):
    ticks = []
    refresh(app, progress=lambda done, total, name: ticks.append((done, total)))
    assert held("stmarys.essex.sch.uk") == (date(2027, 9, 4), "rdap", NOW)
    assert held("www.stmarys.essex.sch.uk") == (date(2027, 9, 4), "rdap", NOW)
    assert held("example-academy.com") == (date(2026, 8, 13), "rdap", NOW)
    assert held("stmarys-pta.org") == (date(2027, 3, 2), "rdap", NOW)
    # www.x and x share a registrable name: the registry is asked once.
    assert sorted(rdap_server.requests).count("/uk/domain/stmarys.essex.sch.uk") == 1
    assert ticks[-1] == (3, 3)


def test_registry_down_or_garbage_leaves_the_stored_date_and_says_why(
    app, domains, rdap_server, whois_server
):
    refresh(app)
    rdap_server.serve("/uk/domain/stmarys.essex.sch.uk", "<html>maintenance</html>")
    whois_server.answers["stmarys.essex.sch.uk"] = ""
    rdap_server.serve("/verisign/domain/example-academy.com", status=503, body="")
    whois_server.answers["example-academy.com"] = (
        "Domain Name: EXAMPLE-ACADEMY.COM\nRegistry Expiry Date: 1970-01-01T00:00:00Z\n"
    )
    later = datetime(2026, 12, 6, tzinfo=UTC)
    results = lifecycle.refresh_expiry(
        db.session.scalars(select(Domain)).all(), build_lookup(app.config).lookup, now=later
    )
    assert held("stmarys.essex.sch.uk") == (date(2027, 9, 4), "rdap", NOW)
    assert held("example-academy.com") == (date(2026, 8, 13), "rdap", NOW)
    by_name = {r.name: r for r in results}
    assert by_name["stmarys.essex.sch.uk"].outcome == "failed"
    assert "not JSON" in by_name["stmarys.essex.sch.uk"].reason
    assert "empty answer" in by_name["stmarys.essex.sch.uk"].reason
    assert by_name["example-academy.com"].outcome == "rejected"
    assert "1970-01-01 is before any domain existed" in by_name["example-academy.com"].reason
    check = db.session.scalars(
        select(ExpiryCheck)
        .join(Domain)
        .where(Domain.name == "example-academy.com")
        .order_by(ExpiryCheck.id)
    ).all()[-1]
    assert (check.outcome, check.reported_on, check.expires_on) == (
        "rejected",
        date(1970, 1, 1),
        date(2026, 8, 13),
    )


def test_a_delegated_sch_uk_name_is_marked_and_a_technician_sets_its_date(
    app, make_school, make_technician, make_contact
):
    school = make_school(urn="115002")
    domain = add_domain(school.urn, "delegated.essex.sch.uk")
    [result] = refresh(app)
    assert result.outcome == "no_registry_expiry"
    db.session.refresh(domain)
    assert domain.no_registry_expiry is True and domain.expires_on is None
    tech = make_technician()
    lifecycle.set_expiry_manually(domain, date(2027, 7, 31), tech, now=NOW)
    assert held("delegated.essex.sch.uk") == (date(2027, 7, 31), "manual", NOW)
    # A later refresh keeps the technician's date: the registry still has none.
    [again] = refresh(app)
    assert again.outcome == "no_registry_expiry"
    assert held("delegated.essex.sch.uk")[:2] == (date(2027, 7, 31), "manual")


def test_manual_dates_are_checked_and_only_technicians_set_them(
    app, make_school, make_contact, make_technician
):
    school = make_school(urn="115003")
    domain = add_domain(school.urn, "delegated.essex.sch.uk")
    with pytest.raises(ValidationError, match="more than 10 years away"):
        lifecycle.set_expiry_manually(domain, date(2099, 1, 1), make_technician(), now=NOW)
    with pytest.raises(Forbidden):
        lifecycle.set_expiry_manually(
            domain, date(2027, 1, 1), make_contact(school, "head@x.example"), now=NOW
        )
    assert held("delegated.essex.sch.uk") == (None, None, None)


def test_cli_refresh_prints_each_domain(app, runner, domains):
    result = runner.invoke(["whois", "refresh", "stmarys.essex.sch.uk", "example-academy.com"])
    assert result.exit_code == 0, result.output
    assert "stmarys.essex.sch.uk" in result.output and "2027-09-04 rdap" in result.output
    assert "2026-08-13 rdap" in result.output
    assert held("stmarys-pta.org") == (None, None, None)  # not asked for


def test_cli_refresh_json_and_all_domains(app, runner, domains):
    result = runner.invoke(["whois", "refresh", "--json"])
    rows = {r["domain"]: r for r in json.loads(result.output)}
    assert set(rows) == set(domains)
    assert rows["stmarys-pta.org"]["expires_on"] == "2027-03-02"


def test_cli_refresh_of_an_unknown_domain_is_refused(app, runner, domains):
    result = runner.invoke(["whois", "refresh", "nosuch.essex.sch.uk"])
    assert result.exit_code == 1
    assert "no managed domain named 'nosuch.essex.sch.uk'" in result.output
