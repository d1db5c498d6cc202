"""The DNS request API of contract.md, driven with bearer tokens."""

from __future__ import annotations

from provisioner.db import db

ADD = [{"action": "add", "name": "intranet", "type": "A", "ttl": 3600, "values": ["192.0.2.10"]}]


def body(setup, **extra):
    return {"domain": setup.zone, "changes": ADD, "notes": "New intranet", **extra}


def test_create_get_approve_and_read_records(setup, api, worker, inbox):
    contact, tech = api(setup.contact), api(setup.tech)
    created = contact.post("/api/v1/dns-requests", json=body(setup, impact="degraded"))
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data["status"] == "submitted"
    assert data["case"]["priority"] == "P3"
    assert data["case"]["reference"].startswith("CASE-")
    assert data["case"]["due_at"]

    got = contact.get(f"/api/v1/dns-requests/{data['id']}").get_json()
    assert got["domain"] == setup.zone
    assert got["changes"] == ADD
    assert got["plan"]["changes"][0]["action"] == "create"

    assert contact.post(f"/api/v1/dns-requests/{data['id']}/approve").status_code == 403
    approved = tech.post(f"/api/v1/dns-requests/{data['id']}/approve")
    assert approved.status_code == 202
    assert approved.get_json()["status"] == "approved"
    worker.run()
    db.session.remove()
    final = contact.get(f"/api/v1/dns-requests/{data['id']}").get_json()
    assert final["status"] == "verified"
    assert final["case"]["status"] == "resolved"

    records = contact.get(f"/api/v1/domains/{setup.zone}/records").get_json()
    assert {"name": "intranet", "type": "A", "ttl": 3600, "values": ["192.0.2.10"]} in records
    assert all(r["type"] != "SOA" for r in records)
    case = contact.get(f"/api/v1/cases/{data['case']['reference']}")
    assert case.status_code == 200


def test_not_nominated_is_403_naming_the_nominated_contacts(setup, api):
    response = api(setup.other).post("/api/v1/dns-requests", json=body(setup))
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "not_nominated"
    assert "Sam Head" in error["message"]


def test_invalid_rows_are_422_with_a_message_per_change(setup, api):
    changes = [
        {"action": "add", "name": "a", "type": "A", "values": ["not-an-ip"]},
        {"action": "add", "name": "b", "type": "MX", "values": ["10 192.0.2.1"]},
    ]
    response = api(setup.contact).post("/api/v1/dns-requests", json=body(setup, changes=changes))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_records"
    assert len(error["fields"]["records"]) == 2
    assert api(setup.contact).get("/api/v1/dns-requests").get_json() == []


def test_bad_bodies_are_clear_4xx_never_500(setup, api):
    contact = api(setup.contact)
    cases = [
        ({"domain": setup.zone, "changes": []}, 422, "at least one change"),
        ({"domain": setup.zone, "changes": "ADD x"}, 422, "at least one change"),
        ({"domain": "nowhere.example", "changes": ADD}, 422, "not a domain we manage"),
        ({"changes": ADD}, 422, "domain is required"),
        (body(setup, apply_after="2001-01-01T00:00:00Z"), 422, "in the past"),
        (body(setup, notes=["x"]), 422, "notes must be text"),
    ]
    for payload, status, message in cases:
        response = contact.post("/api/v1/dns-requests", json=payload)
        assert response.status_code == status, payload
        assert message in response.get_json()["error"]["message"]
    assert contact.post("/api/v1/dns-requests", data="nope").status_code == 422
    assert contact.get("/api/v1/dns-requests/999").status_code == 404
    assert contact.get("/api/v1/dns-requests/abc").status_code == 404


def test_another_school_cannot_see_or_use_the_domain(setup, api, make_school, make_contact):
    school = make_school(name="Elsewhere")
    stranger = api(make_contact(school, "head@elsewhere.example"))
    response = stranger.post("/api/v1/dns-requests", json=body(setup))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_nominated"
    own = api(setup.contact).post("/api/v1/dns-requests", json=body(setup)).get_json()
    assert stranger.get(f"/api/v1/dns-requests/{own['id']}").status_code == 404
    assert stranger.get(f"/api/v1/domains/{setup.zone}/records").status_code == 404


def test_reject_needs_a_reason_and_the_school_sees_it(setup, api):
    contact, tech = api(setup.contact), api(setup.tech)
    created = contact.post("/api/v1/dns-requests", json=body(setup)).get_json()
    missing = tech.post(f"/api/v1/dns-requests/{created['id']}/reject", json={})
    assert missing.status_code == 422
    rejected = tech.post(
        f"/api/v1/dns-requests/{created['id']}/reject", json={"reason": "Use a CNAME instead"}
    )
    assert rejected.status_code == 200
    seen = contact.get(f"/api/v1/dns-requests/{created['id']}").get_json()
    assert seen["status"] == "rejected"
    assert seen["rejected_reason"] == "Use a CNAME instead"


def test_technician_logs_a_phone_request_for_a_contact(setup, api):
    tech = api(setup.tech)
    response = tech.post("/api/v1/dns-requests", json=body(setup, requester=setup.contact.email))
    assert response.status_code == 201
    data = response.get_json()
    assert data["channel"] == "phone"
    assert data["requester"] == setup.contact.email
    refused = tech.post("/api/v1/dns-requests", json=body(setup, requester=setup.other.email))
    assert refused.status_code == 403


def test_unsafe_plan_needs_force_and_a_reason(setup, api, worker):
    contact, tech = api(setup.contact), api(setup.tech)
    changes = [{"action": "replace", "name": "@", "type": "NS", "values": ["ns9.example.net."]}]
    created = contact.post("/api/v1/dns-requests", json=body(setup, changes=changes)).get_json()
    path = f"/api/v1/dns-requests/{created['id']}/approve"
    unsafe = tech.post(path)
    assert unsafe.status_code == 409
    assert unsafe.get_json()["error"]["code"] == "unsafe_plan"
    no_reason = tech.post(path, json={"force": True})
    assert no_reason.status_code == 422
    forced = tech.post(path, json={"force": True, "forced_reason": "moving DNS host"})
    assert forced.status_code == 202
    assert forced.get_json()["forced_reason"] == "moving DNS host"


def test_openapi_lists_the_request_routes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/dns-requests" in paths
    assert "/dns-requests/{request_id}/approve" in paths
    assert "/domains/{name}/records" in paths
