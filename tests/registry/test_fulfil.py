"""Registration and renewal end to end over the API: quote, approval by a nominated
contact (once), a technician's completion through a registrar, the ten-domain limit,
the zone on the school's provider (zone files here), the case resolved, and a renewal
that starts a fresh reminder series (real SMTP: aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.mail.outbound import send_mail
from provisioner.registry import lifecycle
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.models import Domain
from provisioner.registry.quotes import set_price
from provisioner.registry.services import add_domain, get_domain
from provisioner.schools.models import School


@pytest.fixture
def app_config(registry_app_config):
    return registry_app_config


@pytest.fixture
def people(app, make_school, make_contact, make_technician):
    tech = make_technician()
    set_price("sch.uk", 1500, 1200, tech)
    set_price("uk", 1000, 900, tech)
    school = make_school(urn="115001", name="St Mary's Primary")
    head = make_contact(school, "head@stmarys.example", name="Hana Head")
    office = make_contact(school, "office@stmarys.example", nominated=False, role="office")
    other = make_school(urn="115002", name="Other School")
    outsider = make_contact(other, "head@other.example")
    return {"tech": tech, "school": school, "head": head, "office": office, "outsider": outsider}


def ask(api, user, name, kind="register"):
    return api(user).post("/api/v1/domain-requests", json={"kind": kind, "name": name})


MANUAL = {"registrar": "manual", "reference": "NOM-778", "cost_pence": 500}


def test_registration_end_to_end(app, api, people):
    head, office, tech = people["head"], people["office"], people["tech"]
    quoted = ask(api, head, "NewSchool.Essex.sch.uk")
    assert quoted.status_code == 201, quoted.json
    req = quoted.json
    assert (req["status"], req["price"], req["name"]) == (
        "quoted",
        "£15.00",
        "newschool.essex.sch.uk",
    )

    # Not yet approved: the technician cannot go ahead.
    early = api(tech).post(
        f"/api/v1/domain-requests/{req['id']}/complete",
        json={**MANUAL, "new_expiry": "2028-11-29"},
    )
    assert early.status_code == 409 and early.json["error"]["code"] == "quote_not_approved"
    assert "Hana Head" in early.json["error"]["message"]

    refused = api(office).post(f"/api/v1/domain-requests/{req['id']}/approve-quote")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "not_nominated"
    assert "Hana Head" in refused.json["error"]["message"]
    assert api(head).get(f"/api/v1/domain-requests/{req['id']}").json["status"] == "quoted"

    approved = api(head).post(f"/api/v1/domain-requests/{req['id']}/approve-quote")
    assert approved.status_code == 200 and approved.json["approved_by"] == "Hana Head"
    twice = api(head).post(f"/api/v1/domain-requests/{req['id']}/approve-quote")
    assert twice.status_code == 409 and twice.json["error"]["code"] == "quote_closed"

    # A contact cannot complete; a technician must say what was done.
    assert (
        api(head).post(f"/api/v1/domain-requests/{req['id']}/complete", json=MANUAL).status_code
        == 403
    )
    vague = api(tech).post(
        f"/api/v1/domain-requests/{req['id']}/complete", json={"registrar": "manual"}
    )
    assert vague.status_code == 422
    assert set(vague.json["error"]["fields"]) == {"reference", "cost_pence", "new_expiry"}
    bad_date = api(tech).post(
        f"/api/v1/domain-requests/{req['id']}/complete", json={**MANUAL, "new_expiry": "29/11/2028"}
    )
    assert bad_date.status_code == 422 and "YYYY-MM-DD" in bad_date.json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(Domain)) == 0

    done = api(tech).post(
        f"/api/v1/domain-requests/{req['id']}/complete",
        json={**MANUAL, "new_expiry": "2028-11-29", "note": "Registered at Nominet"},
    )
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["new_expiry"], done.json["registrar"]) == (
        "completed",
        "2028-11-29",
        "manual",
    )
    domain = get_domain("newschool.essex.sch.uk")
    assert (domain.school.urn, domain.expires_on, domain.expiry_source) == (
        "115001",
        date(2028, 11, 29),
        "manual",
    )
    assert db.session.get(School, people["school"].id).domain_count == 1
    # The zone exists on the school's provider (the embedded zone files here).
    zone_file = Path(app.config["ZONES_DIRECTORY"]) / "newschool.essex.sch.uk.db"
    assert "SOA" in zone_file.read_text()
    records = api(head).get("/api/v1/domains/newschool.essex.sch.uk/records")
    assert records.status_code == 200
    case = db.session.get(Case, db.session.get(RegistrationRequest, req["id"]).case_id)
    assert case.status == "resolved"
    again = api(tech).post(
        f"/api/v1/domain-requests/{req['id']}/complete", json={**MANUAL, "new_expiry": "2028-11-29"}
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "request_closed"


def test_the_ten_domain_limit_holds_when_completing(app, api, people):
    head, tech = people["head"], people["tech"]
    for i in range(8):
        add_domain("115001", f"site{i}.essex.sch.uk")
    ids = []
    for name in ("ninth.essex.sch.uk", "tenth.essex.sch.uk"):
        rid = ask(api, head, name).json["id"]
        api(head).post(f"/api/v1/domain-requests/{rid}/approve-quote")
        ids.append(rid)
    add_domain("115001", "added-by-phone.essex.sch.uk")  # the ninth, meanwhile
    first = api(tech).post(
        f"/api/v1/domain-requests/{ids[0]}/complete", json={**MANUAL, "new_expiry": "2028-01-01"}
    )
    assert first.status_code == 200
    second = api(tech).post(
        f"/api/v1/domain-requests/{ids[1]}/complete", json={**MANUAL, "new_expiry": "2028-01-01"}
    )
    assert second.status_code == 409 and second.json["error"]["code"] == "domain_limit"
    assert "already has 10 domains" in second.json["error"]["message"]
    assert db.session.get(RegistrationRequest, ids[1]).status == "approved"
    assert db.session.get(School, people["school"].id).domain_count == 10
    assert db.session.scalar(select(Domain.id).where(Domain.name == "tenth.essex.sch.uk")) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"kind": "register", "name": "stmarys.notatld"}, "top-level domain is not known"),
        ({"kind": "register", "name": "co.uk"}, "public suffix"),
        ({"kind": "register", "name": "sch.uk"}, "public suffix"),
        ({"kind": "register", "name": "www.newschool.essex.sch.uk"}, "register newschool"),
        ({"kind": "buy", "name": "newschool.essex.sch.uk"}, "'register' or 'renew'"),
        ({"kind": "register"}, "name is required"),
        ({"kind": "renew", "name": "notours.essex.sch.uk"}, "no managed domain"),
    ],
)
def test_bad_requests_are_named_and_change_nothing(api, people, body, problem):
    response = api(people["head"]).post("/api/v1/domain-requests", json=body)
    assert 400 <= response.status_code < 500
    assert problem in response.json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(RegistrationRequest)) == 0
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_contact_sees_only_their_schools_requests(api, people):
    rid = ask(api, people["head"], "newschool.essex.sch.uk").json["id"]
    assert api(people["outsider"]).get(f"/api/v1/domain-requests/{rid}").status_code == 404
    assert api(people["outsider"]).get("/api/v1/domain-requests").json == []
    assert [r["id"] for r in api(people["tech"]).get("/api/v1/domain-requests").json] == [rid]
    outsider = api(people["outsider"]).post(f"/api/v1/domain-requests/{rid}/approve-quote")
    assert outsider.status_code == 404


def test_renewal_records_the_new_date_and_starts_a_fresh_reminder_series(api, people, smtp_server):
    head, tech = people["head"], people["tech"]
    old = date(2027, 3, 1)
    domain = add_domain("115001", "stmarys.org.uk")
    domain.expires_on, domain.expiry_source = old, "rdap"
    db.session.commit()
    assert lifecycle.run_reminders(old - timedelta(days=30), send_mail).reminders == 1

    rid = ask(api, head, "stmarys.org.uk", kind="renew").json["id"]
    assert api(head).get(f"/api/v1/domain-requests/{rid}").json["price"] == "£9.00"
    api(head).post(f"/api/v1/domain-requests/{rid}/approve-quote")
    not_later = api(tech).post(
        f"/api/v1/domain-requests/{rid}/complete", json={**MANUAL, "new_expiry": "2027-03-01"}
    )
    assert not_later.status_code == 422 and "past 2027-03-01" in not_later.json["error"]["message"]
    done = api(tech).post(
        f"/api/v1/domain-requests/{rid}/complete", json={**MANUAL, "new_expiry": "2028-03-01"}
    )
    assert done.status_code == 200, done.json
    expiry = api(head).get("/api/v1/domains/stmarys.org.uk/expiry").json
    assert (expiry["expires_on"], expiry["source"]) == ("2028-03-01", "manual")
    assert [r["slot"] for r in expiry["reminders_sent"]] == ["30 days before expiry"]

    # The old series is over; the new date's 30-day reminder goes out in its turn.
    assert lifecycle.run_reminders(old - timedelta(days=14), send_mail).reminders == 0
    run = lifecycle.run_reminders(date(2028, 3, 1) - timedelta(days=30), send_mail)
    assert run.sent == {"115001": ["stmarys.org.uk"]}
    # Two reminders, with the renewal's quote and completion emails between them.
    assert len(smtp_server.messages) == 4
    assert "01 March 2028" in smtp_server.messages[-1]["Subject"]


def test_a_technician_sets_a_date_by_hand_over_the_api(api, people):
    add_domain("115001", "stmarys.essex.sch.uk")
    path = "/api/v1/domains/stmarys.essex.sch.uk/expiry"
    assert api(people["head"]).put(path, json={"expires_on": "2027-08-31"}).status_code == 403
    bad = api(people["tech"]).put(path, json={"expires_on": "1970-01-01"})
    assert bad.status_code == 422 and "before any domain existed" in bad.json["error"]["message"]
    good = api(people["tech"]).put(path, json={"expires_on": "2027-08-31"})
    assert (good.json["expires_on"], good.json["source"]) == ("2027-08-31", "manual")


def _race(app, calls):
    """Run each call in its own thread and app context (own session) at once."""
    import threading

    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[i] = call()
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


@pytest.mark.postgres_only
def test_two_technicians_completing_the_last_slot_at_once(app, api, people):
    from provisioner.errors import DomainLimitReached
    from provisioner.registry import fulfil
    from provisioner.registry.registrars import Completion
    from provisioner.registry.registrars.manual import ManualRegistrar
    from provisioner.schools.models import User

    for i in range(9):
        add_domain("115001", f"site{i}.essex.sch.uk")
    ids = []
    for name in ("race-a.essex.sch.uk", "race-b.essex.sch.uk"):
        rid = ask(api, people["head"], name).json["id"]
        api(people["head"]).post(f"/api/v1/domain-requests/{rid}/approve-quote")
        ids.append(rid)
    tech_id = people["tech"].id

    def complete(rid):
        return lambda: (
            fulfil.complete(
                rid,
                db.session.get(User, tech_id),
                ManualRegistrar(),
                Completion("R-1", 500, date(2028, 1, 1)),
            ).status
        )

    outcomes = _race(app, [complete(ids[0]), complete(ids[1])])
    assert sorted(map(str, outcomes)).count("completed") == 1
    assert sum(isinstance(o, DomainLimitReached) for o in outcomes) == 1
    db.session.expire_all()
    assert db.session.get(School, people["school"].id).domain_count == 10
    assert db.session.scalar(select(func.count()).select_from(Domain)) == 10


@pytest.mark.postgres_only
def test_a_quote_approved_twice_at_once_is_approved_once(app, api, people, make_contact):
    from provisioner.errors import Conflict
    from provisioner.registry.quotes import approve_quote
    from provisioner.schools.models import User

    bursar = make_contact(people["school"], "bursar@stmarys.example", name="Bo Bursar")
    rid = ask(api, people["head"], "newschool.essex.sch.uk").json["id"]
    ids = [people["head"].id, bursar.id]
    outcomes = _race(
        app,
        [lambda uid=uid: approve_quote(rid, db.session.get(User, uid)).status for uid in ids],
    )
    assert outcomes.count("approved") == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    events = [e.kind for e in db.session.get(Case, ask_case(rid)).events]
    assert events.count("quote_approved") == 1


def ask_case(rid):
    return db.session.get(RegistrationRequest, rid).case_id
