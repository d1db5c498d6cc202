"""What the school is emailed about its domain requests (a real SMTP server, aiosmtpd on
127.0.0.1): the quote to approve, the renewal approved in advance, the completion, and
the registrar job that gave up; a refused send is retried, never undoing the request."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.jobs.models import Operation
from provisioner.registry.auto_renew import run_auto_renew, set_auto_renew
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.quotes import set_price
from provisioner.registry.services import add_domain
from provisioner.schools.services import update_contact

EXPIRY = date(2027, 3, 1)
MANUAL = {"registrar": "manual", "reference": "NOM-778", "cost_pence": 500}


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
    bursar = make_contact(
        school, "bursar@stmarys.example", name="Bo Bursar", role="business_manager"
    )
    make_contact(school, "office@stmarys.example", nominated=False, role="office")
    domain = add_domain("115001", "stmarys.org.uk")
    domain.expires_on = EXPIRY
    db.session.commit()
    return {"tech": tech, "school": school, "head": head, "bursar": bursar, "domain": domain}


def body(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def subject(message) -> str:
    return str(message["Subject"]).strip()  # a long subject is folded onto its own line


def recipients(smtp_server) -> list[list[str]]:
    return [sorted(rcpt) for _sender, rcpt in smtp_server.envelopes]


def ask(api, user, name, kind="register"):
    made = api(user).post("/api/v1/domain-requests", json={"kind": kind, "name": name})
    assert made.status_code == 201, made.json
    return made.json


def test_a_registration_quote_goes_to_the_contact_who_asked(api, people, smtp_server):
    quote = ask(api, people["head"], "NewSchool.Essex.sch.uk")
    rid, case = quote["id"], quote["case"]
    assert recipients(smtp_server) == [["head@stmarys.example"]]  # not the other contacts
    [message] = smtp_server.messages
    assert subject(message) == (
        f"[{case}] Quote #{rid} to approve: register newschool.essex.sch.uk"
    )
    text = body(message)
    assert text.startswith("Dear Hana Head,")
    for fact in (
        f"Quote: #{rid}",
        "Register: newschool.essex.sch.uk",
        "Price: £15.00 for 1 year\n",
        f"Case reference: {case}",
        f"/domain-requests/{rid}",
        f"POST /api/v1/domain-requests/{rid}/approve-quote",
    ):
        assert fact in text


def test_a_renewal_quote_shows_the_price_and_the_current_expiry(api, people, smtp_server):
    quote = ask(api, people["head"], "stmarys.org.uk", kind="renew")
    [message] = smtp_server.messages
    assert f"Quote #{quote['id']} to approve: renew stmarys.org.uk" in subject(message)
    text = body(message)
    assert "Renew: stmarys.org.uk" in text
    assert "Price: £9.00 for 1 year" in text
    assert "It expires on: 01 March 2027" in text


def test_an_auto_renew_quote_without_standing_approval_goes_to_the_nominated_contacts(
    people, smtp_server
):
    head = people["head"]
    set_auto_renew(people["domain"], True, head)
    # The head is no longer nominated: the school approves this renewal by hand.
    update_contact(head, name=head.name, email=head.email, phone=None, role="slt", nominated=False)
    run_auto_renew(EXPIRY - timedelta(days=30))
    [req] = db.session.scalars(select(RegistrationRequest)).all()
    assert req.status == "quoted"
    assert recipients(smtp_server) == [["bursar@stmarys.example"]]
    text = body(smtp_server.messages[0])
    assert text.startswith("Dear colleagues at St Mary's Primary,")
    assert f"POST /api/v1/domain-requests/{req.id}/approve-quote" in text
    assert "We opened this request ourselves: Opened by auto-renew" in text


def test_an_approved_in_advance_renewal_says_so_and_asks_for_nothing(people, smtp_server):
    set_auto_renew(people["domain"], True, people["head"])
    run_auto_renew(EXPIRY - timedelta(days=30))
    [req] = db.session.scalars(select(RegistrationRequest)).all()
    assert req.status == "approved"
    assert recipients(smtp_server) == [["bursar@stmarys.example", "head@stmarys.example"]]
    [message] = smtp_server.messages
    assert "We will renew stmarys.org.uk: already approved" in subject(message)
    text = body(message)
    assert "We will renew stmarys.org.uk for 1 year at £9.00." in text
    assert "Hana Head approved this in advance" in text
    assert "approve-quote" not in text


def test_no_nominated_contact_means_no_email_and_a_note_for_technicians(people, smtp_server):
    head = people["head"]
    set_auto_renew(people["domain"], True, head)
    for contact in (head, people["bursar"]):
        update_contact(
            contact, name=contact.name, email=contact.email, phone=None, role="slt", nominated=False
        )
    run_auto_renew(EXPIRY - timedelta(days=30))
    [req] = db.session.scalars(select(RegistrationRequest)).all()
    assert smtp_server.messages == []
    notes = [e for e in db.session.get(Case, req.case_id).events if e.kind == "note"]
    assert any("has no nominated contacts" in e.text and not e.public for e in notes)


def test_a_completed_registration_is_emailed_with_reference_and_expiry(api, people, smtp_server):
    head, tech = people["head"], people["tech"]
    quote = ask(api, head, "newschool.essex.sch.uk")
    api(head).post(f"/api/v1/domain-requests/{quote['id']}/approve-quote")
    done = api(tech).post(
        f"/api/v1/domain-requests/{quote['id']}/complete",
        json={**MANUAL, "new_expiry": "2028-11-29"},
    )
    assert done.status_code == 200, done.json
    assert recipients(smtp_server) == [["head@stmarys.example"]] * 2
    message = smtp_server.messages[-1]
    assert subject(message) == (
        f"[{quote['case']}] newschool.essex.sch.uk is registered until 29 November 2028"
    )
    text = body(message)
    assert "newschool.essex.sch.uk is now registered for St Mary's Primary." in text
    assert "It now expires on: 29 November 2028" in text
    assert "Registrar reference: NOM-778" in text
    assert f"Case reference: {quote['case']} (now resolved)" in text


def test_a_completed_auto_renewal_goes_to_the_nominated_contacts(api, people, smtp_server):
    set_auto_renew(people["domain"], True, people["head"])
    run_auto_renew(EXPIRY - timedelta(days=30))
    [req] = db.session.scalars(select(RegistrationRequest)).all()
    done = api(people["tech"]).post(
        f"/api/v1/domain-requests/{req.id}/complete", json={**MANUAL, "new_expiry": "2028-03-01"}
    )
    assert done.status_code == 200, done.json
    assert recipients(smtp_server)[-1] == ["bursar@stmarys.example", "head@stmarys.example"]
    message = smtp_server.messages[-1]
    assert "stmarys.org.uk is renewed until 01 March 2028" in subject(message)
    assert "stmarys.org.uk has been renewed." in body(message)


def test_a_refused_send_keeps_the_quote_and_is_retried(app, api, people, smtp_server, dead_port):
    from provisioner.jobs.embedded import EmbeddedExecutor
    from provisioner.jobs.registry import load_task_modules

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{dead_port}"
    quote = ask(api, people["head"], "newschool.essex.sch.uk")
    assert db.session.get(RegistrationRequest, quote["id"]).status == "quoted"
    case = db.session.scalar(select(Case).where(Case.reference == quote["case"]))
    assert any("will be retried" in e.text and not e.public for e in case.events)
    assert smtp_server.messages == []

    app.config["SMTP_URL"] = smtp_server.url  # the mail server is back
    load_task_modules()
    EmbeddedExecutor(app).run_until_idle()
    [message] = smtp_server.messages
    assert f"Quote #{quote['id']} to approve" in subject(message)
    assert recipients(smtp_server) == [["head@stmarys.example"]]
    queued = db.session.scalars(select(Operation)).all()
    assert [o.status for o in queued] == ["succeeded"]


# ---------------------------------------------------------------- registrar job gives up


@pytest.fixture
def aws_without_contact(app, moto_domains):
    # No ROUTE53DOMAINS_CONTACT: Route 53 Domains refuses to register, permanently.
    app.config["ROUTE53DOMAINS_ENDPOINT_URL"] = moto_domains
    app.config.pop("ROUTE53DOMAINS_CONTACT", None)
    return moto_domains


def test_a_registrar_job_that_gives_up_tells_the_school_it_is_not_done_yet(
    app, api, people, smtp_server, aws_without_contact
):
    from provisioner.jobs.embedded import EmbeddedExecutor
    from provisioner.jobs.registry import load_task_modules

    head, tech = people["head"], people["tech"]
    set_price("com", 2400, 2400, tech, years=2)
    quote = ask(api, head, "newschool-academy.com")
    api(head).post(f"/api/v1/domain-requests/{quote['id']}/approve-quote")
    queued = api(tech).post(
        f"/api/v1/domain-requests/{quote['id']}/complete", json={"registrar": "route53domains"}
    )
    assert queued.status_code == 202, queued.json
    load_task_modules()
    EmbeddedExecutor(app).run_until_idle()
    db.session.expire_all()
    assert db.session.get(Operation, queued.json["operation"]).status == "failed"
    assert db.session.get(RegistrationRequest, quote["id"]).status == "approved"

    # The technicians hear of the failed operation too, in their own email.
    [message] = [m for m in smtp_server.messages if "not done yet" in subject(m)]
    assert message["To"] == "head@stmarys.example"
    assert subject(message) == (
        f"[{quote['case']}] The registration of newschool-academy.com is not done yet"
    )
    text = body(message)
    assert "has not been done yet" in text and "A technician is looking into it" in text
    assert "ROUTE53DOMAINS_CONTACT" not in text  # the technicians' detail stays on the case
