"""Quotes for registering and renewing: price list, availability, approval once, by whom."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.errors import (
    Conflict,
    DomainLimitReached,
    Forbidden,
    NotNominated,
    ValidationError,
)
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.lookup import RegistryLookup
from provisioner.registry.quotes import (
    approve_quote,
    request_registration,
    request_renewal,
    set_price,
)
from provisioner.registry.services import add_domain


@pytest.fixture
def lookup(rdap_server, whois_map, tmp_path):
    return RegistryLookup.from_config(
        {"RDAP_BOOTSTRAP": str(rdap_server.bootstrap(tmp_path)), "WHOIS_SERVERS": str(whois_map)},
        timeout=2,
    )


@pytest.fixture
def people(app, make_school, make_contact, make_technician):
    tech = make_technician()
    set_price("sch.uk", 1500, 1200, tech)
    set_price("uk", 1000, 900, tech)
    set_price("com", 1800, 1800, tech)
    school = make_school(urn="115001", name="St Mary's Primary")
    head = make_contact(school, "head@stmarys.example", name="Hana Head")
    office = make_contact(school, "office@stmarys.example", nominated=False, role="office")
    other = make_school(urn="115002", name="Other School")
    outsider = make_contact(other, "head@other.example")
    return {"tech": tech, "school": school, "head": head, "office": office, "outsider": outsider}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_nominated_contact_gets_a_quote_for_a_free_name(people, lookup, rdap_server):
    req = request_registration(
        people["head"], "NewSchool.Essex.sch.uk", is_available=lookup.is_available
    )
    assert (req.kind, req.name, req.status, req.price_pence, req.years) == (
        "register",
        "newschool.essex.sch.uk",
        "quoted",
        1500,  # sch.uk's price, not uk's
        1,
    )
    assert rdap_server.requests == ["/uk/domain/newschool.essex.sch.uk"]
    case = db.session.get(Case, req.case_id)
    assert (case.category, case.subject) == (
        "domain_registration",
        "Register newschool.essex.sch.uk",
    )
    assert "£15.00" in case.description


def test_a_name_someone_holds_is_refused(people, lookup):
    with pytest.raises(Conflict, match="already registered by someone else"):
        request_registration(
            people["head"], "stmarys.essex.sch.uk", is_available=lookup.is_available
        )
    assert count(RegistrationRequest) == 0


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("sch.uk", "public suffix"),
        ("co.uk", "public suffix"),
        ("www.newschool.essex.sch.uk", "register newschool.essex.sch.uk itself"),
        ("new_school.org.uk", "underscore"),
    ],
)
def test_names_that_cannot_be_registered_are_refused(people, lookup, rdap_server, name, problem):
    with pytest.raises(ValidationError, match=problem):
        request_registration(people["head"], name, is_available=lookup.is_available)
    assert count(RegistrationRequest) == 0
    assert rdap_server.requests == []


def test_a_tld_without_a_price_is_refused_clearly(people, lookup):
    with pytest.raises(ValidationError, match="no price for .org names"):
        request_registration(people["head"], "stmarys-new.org", is_available=lookup.is_available)


def test_only_nominated_contacts_may_ask(people, lookup):
    with pytest.raises(NotNominated) as caught:
        request_registration(
            people["office"], "newschool.essex.sch.uk", is_available=lookup.is_available
        )
    assert "Hana Head" in caught.value.message
    assert count(RegistrationRequest) == 0


def test_the_ten_domain_limit_holds_at_quote_time(app, people, lookup):
    for i in range(10):
        add_domain("115001", f"site{i}.essex.sch.uk")
    with pytest.raises(DomainLimitReached):
        request_registration(
            people["head"], "newschool.essex.sch.uk", is_available=lookup.is_available
        )


def test_a_quote_is_approved_once(people, lookup, make_contact):
    req = request_registration(
        people["head"], "newschool.essex.sch.uk", is_available=lookup.is_available
    )
    bursar = make_contact(people["school"], "bursar@stmarys.example", name="Bo Bursar")
    approved = approve_quote(req.id, people["head"])
    assert (approved.status, approved.approved_by.name) == ("approved", "Hana Head")
    with pytest.raises(Conflict) as caught:
        approve_quote(req.id, bursar)
    assert "already approved (approved by Hana Head)" in caught.value.message
    db.session.refresh(approved)
    assert approved.approved_by_id == people["head"].id
    events = [e.kind for e in db.session.get(Case, req.case_id).events]
    assert events.count("quote_approved") == 1


@pytest.mark.parametrize("who", ["office", "outsider", "tech"])
def test_a_quote_approved_by_someone_not_nominated_changes_nothing(people, lookup, who):
    req = request_registration(
        people["head"], "newschool.essex.sch.uk", is_available=lookup.is_available
    )
    with pytest.raises((NotNominated, Forbidden)):
        approve_quote(req.id, people[who])
    db.session.refresh(req)
    assert (req.status, req.approved_by_id) == ("quoted", None)


def test_a_second_open_request_for_the_same_name_is_refused(people, lookup):
    request_registration(people["head"], "newschool.essex.sch.uk", is_available=lookup.is_available)
    with pytest.raises(Conflict, match="already an open request"):
        request_registration(
            people["head"], "newschool.essex.sch.uk", is_available=lookup.is_available
        )


def test_renewal_quotes_use_the_renewal_price(app, people):
    add_domain("115001", "stmarys.essex.sch.uk")
    req = request_renewal(people["head"], "stmarys.essex.sch.uk")
    assert (req.kind, req.price_pence, req.domain.name) == ("renew", 1200, "stmarys.essex.sch.uk")
    assert db.session.get(Case, req.case_id).category == "domain_renewal"
    with pytest.raises(NotNominated):
        request_renewal(people["outsider"], "stmarys.essex.sch.uk")


@pytest.mark.parametrize(
    ("suffix", "register", "problem"),
    [
        ("-bad", 100, "not a domain suffix"),
        ("uk", -1, "whole number of pence"),
        ("uk", 9.5, "whole number"),
    ],
)
def test_bad_prices_are_refused(people, suffix, register, problem):
    with pytest.raises(ValidationError, match=problem):
        set_price(suffix, register, 100, people["tech"])


def test_only_technicians_set_prices(people):
    with pytest.raises(Forbidden):
        set_price("uk", 1, 1, people["head"])
