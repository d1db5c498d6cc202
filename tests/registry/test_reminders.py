"""Renewal reminders through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.mail.outbound import send_mail
from provisioner.registry import lifecycle
from provisioner.registry.lifecycle_models import ReminderSent
from provisioner.registry.models import Domain
from provisioner.registry.services import add_domain

EXPIRY = date(2027, 3, 1)


def day(offset: int) -> date:
    return EXPIRY + timedelta(days=offset)


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "SMTP_URL": smtp_server.url}


@pytest.fixture
def school_with_domains(app, make_school, make_contact, make_technician):
    """St Mary's: two nominated contacts, one who is not, three domains (two due together)."""
    make_technician("tech@provider.example")
    school = make_school(urn="115001", name="St Mary's Primary")
    make_contact(school, "head@stmarys.example", role="slt")
    make_contact(school, "bursar@stmarys.example", role="business_manager")
    make_contact(school, "office@stmarys.example", role="office", nominated=False)
    expiries = {
        "stmarys.essex.sch.uk": EXPIRY,
        "stmarys.org.uk": EXPIRY,
        "stmarys-pta.org": day(200),
    }
    for name, expiry in expiries.items():
        domain = add_domain(school.urn, name)
        domain.expires_on = expiry
        domain.expiry_source = "rdap"
    db.session.commit()
    return school


def run(today, **kw):
    return lifecycle.run_reminders(today, send_mail, **kw)


def sent_rows():
    return db.session.execute(
        select(Domain.name, ReminderSent.expiry_date, ReminderSent.slot)
        .join(Domain)
        .where(ReminderSent.sent_at.is_not(None))
        .order_by(Domain.name, ReminderSent.slot)
    ).all()


def test_one_email_per_school_listing_its_due_domains(school_with_domains, smtp_server):
    result = run(day(-30))
    assert result.sent == {"115001": ["stmarys.essex.sch.uk", "stmarys.org.uk"]}
    [message] = smtp_server.messages
    assert message["To"] == "bursar@stmarys.example, head@stmarys.example"
    assert message["Cc"] == "tech@provider.example"
    assert message["Subject"] == "Domain renewal: 2 domains for St Mary's Primary expire soon"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "stmarys.essex.sch.uk" in part and "stmarys.org.uk" in part
        assert "stmarys-pta.org" not in part  # 200 days away: not due
    assert "expires on 01 March 2027 (in 30 days)" in text
    [(_, rcpts)] = smtp_server.envelopes
    assert sorted(rcpts) == [
        "bursar@stmarys.example",
        "head@stmarys.example",
        "tech@provider.example",
    ]
    assert "office@stmarys.example" not in rcpts  # not nominated


def test_running_twice_sends_each_reminder_once(school_with_domains, smtp_server):
    run(day(-30))
    again = run(day(-30))
    assert again.sent == {}
    later_same_slot = run(day(-20))
    assert later_same_slot.sent == {}
    assert len(smtp_server.messages) == 1
    assert sent_rows() == [("stmarys.essex.sch.uk", EXPIRY, -30), ("stmarys.org.uk", EXPIRY, -30)]


def test_two_concurrent_runs_send_each_reminder_once(
    app, school_with_domains, make_school, make_contact, smtp_server
):
    # More schools, so the two runs really overlap.
    for i in range(8):
        school = make_school(urn=f"11600{i}", name=f"School {i}")
        make_contact(school, f"head{i}@school{i}.example")
        for name in (f"school{i}.essex.sch.uk", f"school{i}.org.uk"):
            domain = add_domain(school.urn, name)
            domain.expires_on = EXPIRY
    db.session.commit()
    barrier = threading.Barrier(2, timeout=30)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                results.append(run(day(-30)))
                db.session.remove()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    sent_by_runs = [urn for r in results for urn in r.sent]
    assert sorted(sent_by_runs) == sorted({*sent_by_runs})  # no school twice
    assert len(sent_by_runs) == 9
    assert len(smtp_server.messages) == 9
    delivered = sorted(
        line.strip()
        for m in smtp_server.messages
        for line in m.get_body(("plain",)).get_content().splitlines()
        if line.strip().endswith((".sch.uk", ".org.uk"))
    )
    assert len(delivered) == 18 and len(set(delivered)) == 18


def test_smtp_down_marks_nothing_sent_and_the_next_run_sends(
    app, school_with_domains, smtp_server, dead_port
):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{dead_port}"
    failed = run(day(-30))
    assert failed.sent == {}
    assert "could not send mail" in failed.failed["115001"]
    assert db.session.scalar(select(func.count()).select_from(ReminderSent)) == 0
    app.config["SMTP_URL"] = smtp_server.url
    retried = run(day(-29))
    assert retried.sent == {"115001": ["stmarys.essex.sch.uk", "stmarys.org.uk"]}
    assert len(smtp_server.messages) == 1


def test_the_cli_exits_non_zero_when_smtp_is_down(app, runner, school_with_domains, dead_port):
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{dead_port}"
    result = runner.invoke(["reminders", "run", "--today", day(-30).isoformat()])
    assert result.exit_code == 1
    assert "not sent to school 115001" in result.output


def test_a_week_of_downtime_sends_one_reminder_per_domain_the_latest_slot(
    school_with_domains, smtp_server
):
    run(day(-30))
    # The job did not run from day -16 to day -6: the -14 and -7 slots were missed.
    result = run(day(-6))
    assert result.sent == {"115001": ["stmarys.essex.sch.uk", "stmarys.org.uk"]}
    assert len(smtp_server.messages) == 2
    assert sent_rows() == [
        ("stmarys.essex.sch.uk", EXPIRY, -30),
        ("stmarys.essex.sch.uk", EXPIRY, -7),
        ("stmarys.org.uk", EXPIRY, -30),
        ("stmarys.org.uk", EXPIRY, -7),
    ]
    assert "(in 6 days)" in smtp_server.messages[-1].get_body(("plain",)).get_content()


def test_a_renewal_starts_a_fresh_series(school_with_domains, smtp_server):
    run(day(-30))
    domain = db.session.scalar(select(Domain).where(Domain.name == "stmarys.essex.sch.uk"))
    renewed = EXPIRY.replace(year=2028)
    domain.expires_on = renewed
    db.session.commit()
    # The other domain still gets its -14; the renewed one is not due for months.
    assert run(day(-14)).sent == {"115001": ["stmarys.org.uk"]}
    fresh = run(renewed - timedelta(days=90))
    assert "stmarys.essex.sch.uk" in fresh.sent["115001"]
    assert ("stmarys.essex.sch.uk", renewed, -90) in sent_rows()


def test_an_expired_domain_is_escalated_once(app, runner, school_with_domains, smtp_server):
    result = runner.invoke(["reminders", "run", "--today", day(2).isoformat()])
    assert result.exit_code == 0, result.output
    assert "sent 2 reminders to 1 schools" in result.output
    assert "expired, case opened for technicians: stmarys.essex.sch.uk" in result.output
    [message] = smtp_server.messages
    assert message["Subject"].startswith("Domain expired: St Mary's Primary")
    assert "EXPIRED on 01 March 2027 (2 days ago)" in message.get_body(("plain",)).get_content()
    cases = db.session.scalars(select(Case).order_by(Case.subject)).all()
    assert [(c.subject, c.category, c.priority) for c in cases] == [
        ("Domain expired: stmarys.essex.sch.uk", "domain_renewal", "P2"),
        ("Domain expired: stmarys.org.uk", "domain_renewal", "P2"),
    ]
    runner.invoke(["reminders", "run", "--today", day(3).isoformat()])
    assert db.session.scalar(select(func.count()).select_from(Case)) == 2
    assert len(smtp_server.messages) == 1


def test_a_school_without_nominated_contacts_is_written_to_the_technicians(
    app, make_school, make_technician, smtp_server
):
    make_technician("tech@provider.example")
    school = make_school(urn="117000", name="Orphan School")
    domain = add_domain(school.urn, "orphan.essex.sch.uk")
    domain.expires_on = EXPIRY
    db.session.commit()
    run(day(-7))
    [message] = smtp_server.messages
    assert message["To"] == "tech@provider.example"
    assert "no nominated contacts on record" in message.get_body(("plain",)).get_content()


def test_domains_without_an_expiry_get_no_reminder(app, make_school, make_contact, smtp_server):
    school = make_school(urn="118000")
    make_contact(school, "head@x.example")
    add_domain(school.urn, "delegated.essex.sch.uk")
    assert run(day(-7)).sent == {}
    assert smtp_server.messages == []


def test_a_school_claimed_by_another_run_midway_is_left_to_it(
    app, school_with_domains, make_school, make_contact, smtp_server
):
    other = make_school(urn="115009", name="Other School")
    make_contact(other, "head@other.example")
    domain = add_domain(other.urn, "other.essex.sch.uk")
    domain.expires_on = EXPIRY
    db.session.commit()
    other_domain_id = domain.id

    def send_and_race(message):
        # While this run mails St Mary's, another run claims Other School's reminder.
        send_mail(message)

        def rival():
            with app.app_context():
                db.session.add(
                    ReminderSent(domain_id=other_domain_id, expiry_date=EXPIRY, slot=-30)
                )
                db.session.commit()
                db.session.remove()

        t = threading.Thread(target=rival)
        t.start()
        t.join(30)

    result = lifecycle.run_reminders(day(-30), send_and_race)
    assert result.sent == {"115001": ["stmarys.essex.sch.uk", "stmarys.org.uk"]}
    assert result.claimed_elsewhere == ["115009"]
    assert len(smtp_server.messages) == 1


def test_the_periodic_job_sends_from_seven_and_reports_failures(
    app, school_with_domains, smtp_server, dead_port
):
    from provisioner.registry.tasks import RemindersNotSent, reminders_job

    early = datetime(2027, 1, 30, 6, 30, tzinfo=UTC)  # day -30, 06:30 London
    reminders_job(early)
    assert smtp_server.messages == []
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{dead_port}"
    with pytest.raises(RemindersNotSent) as caught:
        reminders_job(early.replace(hour=7))
    assert "115001" in caught.value.message and "could not send mail" in caught.value.message
    app.config["SMTP_URL"] = smtp_server.url
    reminders_job(early.replace(hour=8))
    reminders_job(early.replace(hour=9))
    assert len(smtp_server.messages) == 1
