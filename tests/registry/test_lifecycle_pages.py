"""What people see: the expiring-soon panel, a domain's expiry and reminders, setting a
date by hand, quote request/approval and completion pages, and the iCalendar feeds."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from provisioner.db import db
from provisioner.registry.lifecycle_models import CalendarFeed, ReminderSent
from provisioner.registry.quotes import set_price
from provisioner.registry.services import add_domain, get_domain

TODAY = datetime.now(ZoneInfo("Europe/London")).date()


@pytest.fixture
def app_config(app_config, rdap_server, whois_map, tmp_path):
    return {
        **app_config,
        "RDAP_BOOTSTRAP": str(rdap_server.bootstrap(tmp_path)),
        "WHOIS_SERVERS": str(whois_map),
        "REGISTRY_MIN_INTERVAL": 0,
        "ZONES_DIRECTORY": str(tmp_path / "zones"),
    }


@pytest.fixture
def site(app, make_school, make_contact, make_technician):
    tech = make_technician()
    set_price("sch.uk", 1500, 1200, tech)
    school = make_school(urn="115001", name="St Mary's Primary")
    head = make_contact(school, "head@stmarys.example", name="Hana Head")
    office = make_contact(school, "office@stmarys.example", nominated=False, role="office")
    other = make_school(urn="115002", name="Other School")
    soon = add_domain("115001", "stmarys.essex.sch.uk")
    soon.expires_on, soon.expiry_source = TODAY + timedelta(days=20), "rdap"
    later = add_domain("115001", "stmarys.org.uk")
    later.expires_on = TODAY + timedelta(days=200)
    theirs = add_domain("115002", "other.essex.sch.uk")
    theirs.expires_on = TODAY + timedelta(days=10)
    db.session.add(
        ReminderSent(
            domain_id=soon.id,
            expiry_date=soon.expires_on,
            slot=-30,
            sent_at=datetime.now(ZoneInfo("UTC")),
            recipients="head@stmarys.example",
        )
    )
    db.session.commit()
    return {"tech": tech, "head": head, "office": office, "other": other}


def panel(html: str) -> str:
    start = html.index('id="expiring-heading"')
    return html[start : html.index("</section>", start)]


def test_the_portal_panel_lists_the_schools_domains_expiring_within_90_days(client, login, site):
    login(site["head"])
    html = panel(client.get("/portal/").get_data(as_text=True))
    assert "stmarys.essex.sch.uk" in html
    assert "stmarys.org.uk" not in html  # 200 days away
    assert "other.essex.sch.uk" not in html  # another school's


def test_the_technicians_panel_lists_every_school(client, login, site):
    login(site["tech"])
    html = panel(client.get("/admin/schools").get_data(as_text=True))
    assert "stmarys.essex.sch.uk" in html and "other.essex.sch.uk" in html
    assert "Other School" in html


def test_the_domain_page_shows_expiry_source_check_and_reminders(client, login, site):
    login(site["head"])
    html = client.get("/domains/stmarys.essex.sch.uk").get_data(as_text=True)
    assert (TODAY + timedelta(days=20)).strftime("%d %B %Y") in html
    assert 'id="expiry-source">rdap<' in html
    assert "30 days before expiry" in html and "head@stmarys.example" in html
    assert client.get("/domains/other.essex.sch.uk").status_code == 404


def test_a_technician_sets_a_date_by_hand(client, login, site):
    login(site["tech"])
    bad = client.post("/domains/stmarys.essex.sch.uk/expiry", data={"expires_on": "31/08/2027"})
    assert bad.status_code == 422 and "is not a date" in bad.get_data(as_text=True)
    implausible = client.post(
        "/domains/stmarys.essex.sch.uk/expiry", data={"expires_on": "2099-01-01"}
    )
    assert implausible.status_code == 422
    assert get_domain("stmarys.essex.sch.uk").expiry_source == "rdap"  # unchanged
    good = client.post("/domains/stmarys.essex.sch.uk/expiry", data={"expires_on": "2027-08-31"})
    assert good.status_code == 302
    html = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "31 August 2027" in html and 'id="expiry-source">manual<' in html


def test_a_contact_cannot_set_a_date(client, login, site):
    login(site["head"])
    response = client.post(
        "/domains/stmarys.essex.sch.uk/expiry", data={"expires_on": "2027-08-31"}
    )
    assert response.status_code == 403
    assert get_domain("stmarys.essex.sch.uk").expiry_source == "rdap"


def test_quote_approval_and_registration_through_the_pages(app, client, login, site):
    login(site["office"])
    refused = client.post("/domain-requests", data={"kind": "register", "name": "new.essex.sch.uk"})
    assert refused.status_code == 403 and "Hana Head" in refused.get_data(as_text=True)
    client.post("/logout")

    login(site["head"])
    bad = client.post("/domain-requests", data={"kind": "register", "name": "co.uk"})
    assert bad.status_code == 422 and "public suffix" in bad.get_data(as_text=True)
    made = client.post("/domain-requests", data={"kind": "register", "name": "new.essex.sch.uk"})
    assert made.status_code == 302
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "£15.00" in page and "Approve £15.00" in page
    rid = int(made.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert client.post(f"/domain-requests/{rid}/approve").status_code == 302
    twice = client.post(f"/domain-requests/{rid}/approve")
    assert twice.status_code == 409 and "already approved" in twice.get_data(as_text=True)
    client.post("/logout")

    login(site["tech"])
    page = client.get(f"/domain-requests/{rid}").get_data(as_text=True)
    assert "Register at the registrar" in page
    missing = client.post(f"/domain-requests/{rid}/complete", data={"registrar": "manual"})
    assert missing.status_code == 422
    done = client.post(
        f"/domain-requests/{rid}/complete",
        data={
            "registrar": "manual",
            "reference": "NOM-1",
            "cost_pence": "500",
            "new_expiry": "2028-11-29",
        },
    )
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Completed" in page and "29 November 2028" in page
    assert get_domain("new.essex.sch.uk").expires_on == date(2028, 11, 29)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_a_schools_calendar_feed(client, login, site):
    login(site["head"])
    created = client.post("/calendar-feeds")
    assert created.status_code == 201
    url = re.search(r'id="feed-url">([^<]+)<', created.get_data(as_text=True)).group(1)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    stored = db.session.scalar(select(CalendarFeed))
    assert token not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    client.post("/logout")

    feed = client.get(url.replace("http://localhost", ""))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    text = feed.get_data(as_text=True)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = _lines(text)
    expiry = (TODAY + timedelta(days=20)).strftime("%Y%m%d")
    assert f"DTSTART;VALUE=DATE:{expiry}" in lines
    assert "SUMMARY:Domain expires: stmarys.essex.sch.uk" in lines
    assert "SUMMARY:Domain expires: stmarys.org.uk" in lines
    assert not any("other.essex.sch.uk" in line for line in lines)
    assert client.post(url.replace("http://localhost", "")).status_code == 405  # read-only
    assert client.get("/calendar/not-a-token.ics").status_code == 404

    login(site["head"])
    client.post(f"/calendar-feeds/{stored.id}/revoke")
    assert client.get(url.replace("http://localhost", "")).status_code == 404


def test_the_technicians_feed_has_every_school(client, login, site):
    login(site["tech"])
    html = client.post("/calendar-feeds").get_data(as_text=True)
    path = re.search(r'id="feed-url">([^<]+)<', html).group(1).replace("http://localhost", "")
    lines = _lines(client.get(path).get_data(as_text=True))
    assert "SUMMARY:Domain expires: other.essex.sch.uk" in lines
    assert "SUMMARY:Domain expires: stmarys.essex.sch.uk" in lines
