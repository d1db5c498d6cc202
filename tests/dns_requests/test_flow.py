"""Submit -> approve -> apply -> verify against a real BIND, with real mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from provisioner.db import db
from provisioner.dns_requests import intake, review
from provisioner.errors import NotNominated, ValidationError
from provisioner.zones.errors import InvalidRecords

ADD_INTRANET = [
    {"action": "add", "name": "intranet", "type": "A", "ttl": 3600, "values": ["192.0.2.10"]}
]


def submit(setup, changes=ADD_INTRANET, **kw):
    return intake.submit(requester=setup.contact, domain=setup.zone, changes=changes, **kw)


def test_submit_approve_apply_verify_resolves_the_case_and_emails(setup, worker, inbox):
    request = submit(setup, notes="New intranet server")
    assert request.status == "submitted"
    assert request.case.category == "dns_change"
    assert request.case.priority == "P4"
    assert setup.served("intranet", "A") == []  # nothing applied before approval
    subjects = inbox.subjects(setup.contact.email)
    assert subjects == [f"[{request.case.reference}] DNS change request received for {setup.zone}"]
    body = inbox.body(inbox.to(setup.contact.email)[0])
    assert request.case.reference in body
    assert "+ A intranet 3600 192.0.2.10" in body

    review.approve(request, setup.tech)
    assert request.status == "approved"
    assert worker.run() == 1
    db.session.expire_all()
    assert request.status == "verified", request.error
    assert setup.served("intranet", "A") == ["192.0.2.10"]
    assert request.case.status == "resolved"
    assert [e.kind for e in request.events] == [
        "submitted",
        "approved",
        "applying",
        "applied",
        "verified",
    ]
    done = [s for s in inbox.subjects(setup.contact.email) if "done" in s]
    assert done == [f"[{request.case.reference}] DNS change done for {setup.zone}"]


def test_a_contact_who_is_not_nominated_is_refused_with_the_names(setup, inbox):
    with pytest.raises(NotNominated) as exc:
        intake.submit(requester=setup.other, domain=setup.zone, changes=ADD_INTRANET)
    assert "Sam Head" in exc.value.message
    assert exc.value.fields["nominated_contacts"] == ["Sam Head"]
    assert review.history(school=setup.school) == []
    assert inbox.to(setup.other.email) == []


def test_another_schools_domain_is_refused(setup, make_school, make_contact):
    school = make_school(name="Other School")
    stranger = make_contact(school, "head@other.example")
    with pytest.raises(NotNominated) as exc:
        intake.submit(requester=stranger, domain=setup.zone, changes=ADD_INTRANET)
    assert "not a domain of Other School" in exc.value.message


def test_invalid_rows_get_one_message_each_and_nothing_is_saved(setup):
    changes = [
        {"action": "add", "name": "ok", "type": "A", "values": ["192.0.2.5"]},
        {"action": "add", "name": "bad", "type": "A", "values": ["999.1.1.1"]},
        {"action": "delete", "name": "missing", "type": "A"},
        {"action": "add", "name": "www", "type": "A", "values": ["192.0.2.6"]},
    ]
    with pytest.raises(InvalidRecords) as exc:
        submit(setup, changes)
    reasons = exc.value.reasons
    assert len(reasons) == 3
    assert reasons[0].startswith("change 2 (A bad)")
    assert reasons[1].startswith("change 3 (A missing)")
    assert "CNAME" in reasons[2]
    assert review.history(school=setup.school) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"changes": []}, "at least one change"),
        ({"apply_after": "2020-01-01T10:00:00+00:00"}, "in the past"),
        ({"apply_after": "2099-01-01T10:00:00+00:00"}, "more than a year ahead"),
        ({"apply_after": "tomorrow"}, "not a date and time"),
        ({"impact": "apocalypse"}, "impact"),
        ({"notes": "x" * 6000}, "longer than"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(setup, kwargs, message):
    with pytest.raises(ValidationError) as exc:
        submit(setup, **kwargs)
    assert message in exc.value.message
    assert review.history(school=setup.school) == []


def test_impact_sets_priority_and_short_notice_is_flagged(setup):
    soon = datetime.now(UTC) + timedelta(minutes=30)
    request = submit(setup, impact="critical", apply_after=soon.isoformat())
    assert request.case.priority == "P1"
    assert request.short_notice
    assert any("Short notice" in e.text for e in request.case.events)
    later = submit(
        setup,
        [{"action": "add", "name": "later", "type": "A", "values": ["192.0.2.7"]}],
        apply_after=(datetime.now(UTC) + timedelta(days=20)).isoformat(),
    )
    assert not later.short_notice


def test_scheduled_change_waits_for_its_time(setup, worker):
    when = datetime.now(UTC) + timedelta(days=3)
    request = submit(setup, apply_after=when.isoformat())
    review.approve(request, setup.tech)
    assert worker.run(now=when - timedelta(minutes=1)) == 0
    db.session.expire_all()
    assert request.status == "approved"
    assert setup.served("intranet", "A") == []
    assert worker.run(now=when + timedelta(minutes=1)) == 1
    db.session.expire_all()
    assert request.status == "verified", request.error
    assert setup.served("intranet", "A") == ["192.0.2.10"]


def test_a_record_changed_on_bind_after_approval_fails_with_a_conflict(setup, worker):
    changes = [{"action": "replace", "name": "@", "type": "A", "values": ["192.0.2.99"]}]
    request = submit(setup, changes)
    review.approve(request, setup.tech)
    setup.server.nsupdate(
        f"update delete {setup.zone} A\nupdate add {setup.zone} 300 A 198.51.100.1"
    )
    worker.run()
    db.session.expire_all()
    assert request.status == "failed"
    assert "Conflict" in request.error and "changed since the request was approved" in request.error
    assert setup.served("@", "A") == ["198.51.100.1"]  # nothing overwritten
    assert any("failed" in e.text for e in request.case.events)
    # The technician reviews the new plan against the zone as it is now and approves again.
    review.approve(request, setup.tech)
    assert request.plan["changes"][0]["old"]["values"] == ["198.51.100.1"]
    worker.run()
    db.session.expire_all()
    assert request.status == "verified"
    assert setup.served("@", "A") == ["192.0.2.99"]


def test_reject_tells_the_school_why_and_resolves_the_case(setup, inbox):
    request = submit(setup)
    review.reject(request, setup.tech, "Please use <b>the portal</b>")
    assert request.status == "rejected"
    assert request.case.status == "resolved"
    mail = [m for m in inbox.to(setup.contact.email) if "not made" in str(m["Subject"])]
    assert "Reason: Please use <b>the portal</b>" in inbox.body(mail[0])
    with pytest.raises(ValidationError):
        review.reject(
            submit(setup, [{"action": "add", "name": "b", "type": "A", "values": ["192.0.2.3"]}]),
            setup.tech,
            "  ",
        )


def test_edit_before_approval_is_kept_in_history(setup, worker):
    request = submit(setup)
    edited = [{"action": "add", "name": "intranet", "type": "A", "values": ["192.0.2.11"]}]
    review.edit(request, edited, setup.tech)
    event = request.events[-1]
    assert event.kind == "edited"
    assert event.before == ADD_INTRANET
    assert event.after == edited
    review.approve(request, setup.tech)
    worker.run()
    assert setup.served("intranet", "A") == ["192.0.2.11"]


def test_undo_is_a_new_linked_request_with_its_own_case(setup, worker):
    changes = [
        {"action": "replace", "name": "@", "type": "MX", "values": ["10 mail.example.net."]},
        {"action": "delete", "name": "old", "type": "CNAME"},
        *ADD_INTRANET,
    ]
    request = submit(setup, changes)
    review.approve(request, setup.tech)
    worker.run()
    db.session.expire_all()
    assert request.status == "verified"
    assert setup.served("old", "CNAME") == []
    undo = review.rollback(request, setup.tech)
    assert undo.rollback_of_id == request.id
    assert undo.case_id != request.case_id
    worker.run()
    db.session.expire_all()
    assert undo.status == "verified", undo.error
    assert setup.served("@", "MX") == ["10 mx.example.net."]
    assert setup.served("old", "CNAME") == ["legacy.example.net."]
    assert setup.served("intranet", "A") == []


def test_approving_twice_is_refused(setup):
    from provisioner.errors import Conflict

    request = submit(setup)
    review.approve(request, setup.tech)
    with pytest.raises(Conflict):
        review.approve(request, setup.tech)


def test_server_down_is_retried_then_fails_visibly_and_a_retry_applies(setup, worker):
    from provisioner.zones import services as zones

    dead = zones.add_provider(
        "dead",
        "rfc2136",
        server=f"127.0.0.1:{_closed_port()}",
        tsig_key_file=str(setup.server.key_file),
    )
    request = submit(setup)
    review.approve(request, setup.tech)
    live_provider = setup.domain.provider
    setup.domain.provider = dead
    db.session.commit()
    now = datetime.now(UTC)
    for attempt in range(5):
        worker.run(now=now + timedelta(hours=attempt))
        db.session.expire_all()
        if attempt < 4:
            assert request.status == "approved"
            assert "will retry" in request.error
    assert request.status == "failed"
    assert any(e.kind == "failed" for e in request.events)

    setup.domain.provider = live_provider
    db.session.commit()
    review.retry(request, setup.tech)
    worker.run(now=now + timedelta(hours=6))
    db.session.expire_all()
    assert request.status == "verified", request.error
    assert setup.served("intranet", "A") == ["192.0.2.10"]


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing answers


def test_mail_server_down_queues_the_confirmation_until_it_is_back(setup, app, worker, inbox):
    working = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{_closed_port()}"
    request = submit(setup)
    assert request.status == "submitted"  # the request stands whatever the mail server does
    assert inbox.to(setup.contact.email) == []
    assert any("will be retried" in e.text for e in request.case.events)
    app.config["SMTP_URL"] = working
    worker.run()
    assert inbox.subjects(setup.contact.email) == [
        f"[{request.case.reference}] DNS change request received for {setup.zone}"
    ]


def test_a_domain_without_a_provider_uses_the_embedded_zone_files(
    app, make_school, make_contact, make_technician, worker
):
    from provisioner.registry.services import add_domain
    from provisioner.zones import services as zones

    school = make_school(name="Small School")
    contact = make_contact(school, "head@small.example")
    tech = make_technician()
    domain = add_domain(school.urn, "small.essex.sch.uk")
    request = intake.submit(requester=contact, domain=domain.name, changes=ADD_INTRANET)
    review.approve(request, tech)
    worker.run()
    db.session.expire_all()
    assert request.status == "verified", request.error
    assert "intranet\t3600\tIN\tA\t192.0.2.10" in zones.export_zone(domain)
