"""The portal form and the technicians' review pages, through the test client."""

from __future__ import annotations

from provisioner.db import db
from provisioner.dns_requests import review


def form(setup, **extra):
    data = {
        "action[]": ["add", "add"],
        "name[]": ["intranet", ""],
        "type[]": ["A", "A"],
        "values[]": ["192.0.2.10", ""],
        "ttl[]": ["3600", ""],
        "notes": "New intranet",
        "when": "asap",
        "impact": "service_request",
        "action_button": "submit",
    }
    data.update(extra)
    return data


def test_nominated_contact_submits_from_the_form(setup, client, login):
    login(setup.contact)
    page = client.get(f"/requests/new/{setup.zone}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Records served now" in html
    assert 'data-name="old" data-type="CNAME"' in html
    response = client.post(f"/requests/new/{setup.zone}", data=form(setup))
    assert response.status_code == 302
    (item,) = review.history(school=setup.school)
    assert item.channel == "portal"
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert item.case.reference in shown
    assert "+ A intranet 3600 192.0.2.10" in shown


def test_preview_shows_the_change_and_saves_nothing(setup, client, login):
    login(setup.contact)
    response = client.post(
        f"/requests/new/{setup.zone}",
        data=form(
            setup,
            **{
                "action_button": "preview",
                "action[]": ["replace", "add"],
                "name[]": ["@", ""],
                "type[]": ["MX", "A"],
                "values[]": ["10 mail.example.net.", ""],
            },
        ),
    )
    html = response.get_data(as_text=True)
    assert "~ MX @ 300 10 mx.example.net. -&gt; 3600 10 mail.example.net." in html
    assert review.history(school=setup.school) == []


def test_a_bad_row_is_named_beside_the_row_and_nothing_is_saved(setup, client, login):
    login(setup.contact)
    data = form(
        setup,
        **{
            "name[]": ["good", "bad"],
            "values[]": ["192.0.2.1", "1.2.3"],
            "action[]": ["add", "add"],
            "type[]": ["A", "A"],
        },
    )
    response = client.post(f"/requests/new/{setup.zone}", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-errors-for="2" role="alert">change 2 (A bad)' in html
    assert review.history(school=setup.school) == []
    checked = client.post(f"/requests/check/{setup.zone}", data=data).get_json()
    assert checked["ok"] is False
    assert list(checked["rows"]) == ["2"]


def test_not_nominated_contact_sees_the_form_disabled_with_names(setup, client, login):
    login(setup.other)
    html = client.get(f"/requests/new/{setup.zone}").get_data(as_text=True)
    assert "<fieldset disabled>" in html
    assert "Sam Head" in html
    response = client.post(f"/requests/new/{setup.zone}", data=form(setup))
    assert response.status_code == 403
    assert review.history(school=setup.school) == []


def test_notes_with_html_are_escaped_everywhere(setup, client, login):
    login(setup.contact)
    script = "<script>alert('x')</script>"
    response = client.post(f"/requests/new/{setup.zone}", data=form(setup, notes=script))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert script not in page
    assert "&lt;script&gt;" in page


def test_technician_reviews_approves_and_the_worker_applies(setup, client, login, worker):
    login(setup.contact)
    client.post(f"/requests/new/{setup.zone}", data=form(setup))
    (item,) = review.history(school=setup.school)
    client.post("/logout")
    login(setup.tech)
    queue = client.get("/requests/").get_data(as_text=True)
    assert f"#{item.id}" in queue
    page = client.get(f"/requests/{item.id}").get_data(as_text=True)
    assert "Plan against the live zone" in page
    assert "Safety check: passed." in page
    checksum = page.split('name="checksum" value="')[1].split('"')[0]
    approved = client.post(f"/requests/{item.id}/approve", data={"checksum": checksum})
    assert approved.status_code == 302
    worker.run()
    db.session.expire_all()
    assert item.status == "verified"
    assert setup.served("intranet", "A") == ["192.0.2.10"]
    history = client.get(f"/requests/history/{setup.zone}").get_data(as_text=True)
    assert "Sam Head" in history and "Tech" in history


def test_approve_with_a_stale_checksum_is_refused(setup, client, login):
    from provisioner.dns_requests import intake

    item = intake.submit(
        requester=setup.contact,
        domain=setup.zone,
        changes=[{"action": "add", "name": "x", "type": "A", "values": ["192.0.2.1"]}],
    )
    login(setup.tech)
    response = client.post(f"/requests/{item.id}/approve", data={"checksum": "0" * 64})
    assert response.status_code == 409
    assert "changed since you looked" in response.get_data(as_text=True)
    db.session.expire_all()
    assert item.status == "submitted"


def test_technician_logs_a_phone_request(setup, client, login):
    login(setup.tech)
    html = client.get(f"/requests/new/{setup.zone}").get_data(as_text=True)
    assert "Sam Head" in html
    response = client.post(
        f"/requests/new/{setup.zone}", data=form(setup, requester_id=str(setup.contact.id))
    )
    assert response.status_code == 302
    (item,) = review.history(school=setup.school)
    assert item.channel == "phone"
    assert item.logged_by_id == setup.tech.id


def test_an_email_case_is_turned_into_changes_by_a_technician(setup, client, login):
    from provisioner.cases.services import open_case

    case = open_case(
        school=setup.school,
        subject="Website move",
        category="dns_change",
        channel="email",
        contact=setup.contact,
        description="please point the website at 192.0.2.80",
    )
    login(setup.tech)
    chosen = client.get(f"/requests/new?domain={setup.zone}&case={case.reference}")
    assert chosen.status_code == 302
    html = client.get(chosen.headers["Location"]).get_data(as_text=True)
    assert f'name="case" value="{case.reference}"' in html
    data = form(setup, requester_id=str(setup.contact.id), case=case.reference)
    response = client.post(f"/requests/new/{setup.zone}", data=data)
    assert response.status_code == 302
    (item,) = review.history(school=setup.school)
    assert item.case_id == case.id
    assert item.channel == "email"
