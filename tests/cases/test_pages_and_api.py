"""Case pages (queue, case, school list, report) and /api/v1/cases."""

from datetime import datetime
from zoneinfo import ZoneInfo

from provisioner.cases.services import add_note, add_reply, set_status
from provisioner.db import db


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/London"))


def test_queue_orders_by_due_with_badges_counts_and_filters(client, login, tech, new_case):
    late = new_case("2026-11-02 09:00", impact="critical", subject="Email down")
    soon = new_case("2026-11-26 15:00", impact="critical", subject="Wifi down")
    later = new_case("2026-11-26 15:00", impact="service_request", subject="New DNS record")
    late.breached = True
    soon.at_risk = True
    db.session.commit()
    login(tech)
    page = client.get("/cases").get_data(as_text=True)
    assert page.index(late.reference) < page.index(soon.reference) < page.index(later.reference)
    assert "badge-breached" in page and "badge-at-risk" in page
    assert 'data-count="open">3<' in page and 'data-count="breached">1<' in page
    filtered = client.get("/cases?priority=P4").get_data(as_text=True)
    assert later.reference in filtered and soon.reference not in filtered
    bad = client.get("/cases?priority=P9")
    assert bad.status_code == 422 and "unknown priority" in bad.get_data(as_text=True)


def test_case_page_shows_clock_audit_and_hides_notes_from_school(
    client, login, tech, contact, new_case
):
    case = new_case("2026-11-22 20:00", impact="multiple_users")
    set_status(case, "awaiting_school", tech, now=london("2026-11-23 09:00"))
    set_status(case, "in_progress", tech, now=london("2026-11-23 10:00"))
    add_note(case, "Their router is from 2009", tech)
    add_reply(case, "We're on it", tech)
    login(contact)
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Clock audit" in page
    assert "Sun 22 Nov 2026 20:00 GMT" in page  # received
    assert "Mon 23 Nov 2026 08:30 GMT" in page  # clock start
    assert "1h00 of desk time" in page  # the pause
    assert "Tue 24 Nov 2026 09:30 GMT" in page  # due: 8h + 1h paused
    assert "version 1" in page
    assert "We&#39;re on it" in page or "We're on it" in page
    assert "router" not in page
    assert "Technician actions" not in page


def test_school_sees_only_its_own_cases(client, login, contact, outsider, new_case):
    mine = new_case(subject="Our case")
    login(outsider)
    assert client.get(f"/cases/{mine.reference}").status_code == 404
    assert mine.reference not in client.get("/portal/cases").get_data(as_text=True)
    assert client.get("/reports/sla").status_code == 403


def test_school_list_and_logging_a_request_in_the_portal(client, login, contact, new_case):
    existing = new_case(subject="Printer queue")
    login(contact)
    page = client.get("/portal/cases").get_data(as_text=True)
    assert existing.reference in page and "Printer queue" in page
    response = client.post(
        "/cases/new",
        data={
            "subject": "Website shows an error",
            "description": "500 on home",
            "impact": "critical",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Website shows an error" in page and "P1" in page
    bad = client.post("/cases/new", data={"subject": "", "impact": "critical"})
    assert bad.status_code == 422 and "subject is required" in bad.get_data(as_text=True)


def test_technician_actions_on_the_case_page(client, login, tech, new_case):
    case = new_case(impact="service_request")
    login(tech)
    missing = client.post(f"/cases/{case.reference}/priority", data={"priority": "P1"})
    assert missing.status_code == 422 and "reason is required" in missing.get_data(as_text=True)
    assert case.priority == "P4"
    ok = client.post(
        f"/cases/{case.reference}/priority", data={"priority": "P1", "reason": "whole site down"}
    )
    assert ok.status_code == 302
    db.session.refresh(case)
    assert case.priority == "P1" and case.due_at == london("2026-11-27 11:00")
    client.post(f"/cases/{case.reference}/note", data={"text": "checked the logs"})
    client.post(f"/cases/{case.reference}/assign", data={"assignee": str(tech.id)})
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "checked the logs" in page and "Internal note" in page and "Assigned to" in page


def test_technician_logs_a_phone_case(client, login, tech, school, contact):
    login(tech)
    response = client.post(
        "/cases/new",
        data={
            "school_urn": school.urn,
            "contact_email": contact.email,
            "channel": "phone",
            "category": "hosting",
            "subject": "FTP login fails",
            "impact": "degraded",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "FTP login fails" in page and "by phone" in page and "P3" in page


def test_sla_report_page_csv_and_svg(client, login, tech, new_case):
    new_case("2026-11-23 09:00", impact="critical")
    login(tech)
    page = client.get("/reports/sla").get_data(as_text=True)
    assert "<svg" in page and "2026-11" in page and "<script" not in page
    csv = client.get("/reports/sla.csv")
    assert csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[1].startswith("2026-11,P1,1,")
    assert client.get("/reports/sla?from=November").status_code == 422


def test_api_case_contract_shape_and_scoping(api, tech, contact, outsider, new_case):
    case = new_case(impact="critical")
    add_note(case, "secret", tech)
    data = api(contact).get(f"/api/v1/cases/{case.reference}").get_json()
    for key in ("reference", "status", "priority", "channel", "received_at", "due_at", "breached"):
        assert key in data
    assert data["due_at"] == "2026-11-27T11:00:00+00:00"
    assert [e["kind"] for e in data["timeline"]] == ["created"]
    staff_view = api(tech).get(f"/api/v1/cases/{case.reference}").get_json()
    assert [e["kind"] for e in staff_view["timeline"]] == ["created", "note"]
    missing = api(outsider).get(f"/api/v1/cases/{case.reference}")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert api(outsider).get("/api/v1/cases").get_json() == []
    listed = api(tech).get("/api/v1/cases").get_json()
    assert [c["reference"] for c in listed] == [case.reference]


def test_api_create_case(api, tech, contact, school):
    phone = api(tech).post(
        "/api/v1/cases",
        json={"contact_email": contact.email, "subject": "Called about DNS", "impact": "degraded",
              "category": "dns_change"},
    )  # fmt: skip
    assert phone.status_code == 201
    assert phone.get_json()["channel"] == "phone" and phone.get_json()["priority"] == "P3"
    own = api(contact).post("/api/v1/cases", json={"subject": "Need a new mailbox"})
    assert own.status_code == 201
    body = own.get_json()
    assert (body["channel"], body["priority"], body["category"]) == ("api", "P4", "general")
    refused = api(contact).post("/api/v1/cases", json={"subject": "x", "priority": "P1"})
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {
        "priority": "technicians only"
    }
    bad = api(tech).post("/api/v1/cases", json={"school_urn": school.urn, "subject": 5})
    assert bad.status_code == 422
    assert api(tech).post("/api/v1/cases", data="nope").status_code == 422
    assert api(tech).get("/api/v1/openapi.json").get_json()["paths"]["/cases"]["post"]
