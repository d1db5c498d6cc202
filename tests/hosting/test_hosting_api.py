"""The hosting API (contract.md): scoped listing, FTP users for nominated contacts
and technicians. A recording runner stands in for the playbooks (they run for real
in test_hosting_lifecycle.py)."""

from __future__ import annotations


def test_listing_is_scoped_to_the_contacts_school(
    api, recording_runner, hosted_school, make_contact, make_technician
):
    school_a, account_a = hosted_school("stmarys.essex.sch.uk")
    school_b, account_b = hosted_school("oakfield.essex.sch.uk")
    head = make_contact(school_a, "head@stmarys.example")

    rows = api(head).get("/api/v1/hosting").get_json()
    assert [r["account"] for r in rows] == [account_a.name]
    row = rows[0]
    assert row["school_urn"] == school_a.urn and row["domain"] == "stmarys.essex.sch.uk"
    assert row["status"] == "active" and row["quota_bytes"] == 5_368_709_120
    assert row["used_bytes"] is None

    rows = api(make_technician()).get("/api/v1/hosting").get_json()
    assert sorted(r["account"] for r in rows) == sorted([account_a.name, account_b.name])


def test_nominated_contact_adds_an_ftp_user_and_sees_the_password_once(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    head = api(make_contact(school, "head@stmarys.example"))

    response = head.post(
        f"/api/v1/hosting/{account.name}/ftp-accounts",
        json={"user": "stmarys.web", "path": "public_html/images"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["user"] == "stmarys.web" and len(body["password"]) >= 16
    playbook, _, sent = recording_runner.calls[-1]
    assert playbook == "ftp.yml" and sent["ftp_password"] == body["password"]
    assert sent["ftp_path"] == "public_html/images"

    # listed afterwards, never with its password
    listed = head.get(f"/api/v1/hosting/{account.name}").get_data(as_text=True)
    assert "stmarys.web" in listed and body["password"] not in listed
    assert body["password"] not in head.get("/api/v1/hosting").get_data(as_text=True)


def test_technician_adds_an_ftp_user_to_any_account(
    api, recording_runner, hosted_school, make_technician
):
    _, account = hosted_school("stmarys.essex.sch.uk")
    response = api(make_technician()).post(
        f"/api/v1/hosting/{account.name}/ftp-accounts", json={"user": "webmaster"}
    )
    assert response.status_code == 201 and response.get_json()["user"] == "webmaster"


def test_contact_who_is_not_nominated_is_told_who_is(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    make_contact(school, "head@stmarys.example", name="Ann Head")
    clerk = api(make_contact(school, "office@stmarys.example", nominated=False, role="office"))
    calls = len(recording_runner.calls)

    response = clerk.post(f"/api/v1/hosting/{account.name}/ftp-accounts", json={"user": "clerk"})
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "not_nominated" and "Ann Head" in error["message"]
    # sees, but cannot change
    assert clerk.get("/api/v1/hosting").get_json()[0]["account"] == account.name
    assert len(recording_runner.calls) == calls


def test_another_schools_account_is_not_found(api, recording_runner, hosted_school, make_contact):
    school_a, _ = hosted_school("stmarys.essex.sch.uk")
    _, account_b = hosted_school("oakfield.essex.sch.uk")
    head_a = api(make_contact(school_a, "head@stmarys.example"))
    calls = len(recording_runner.calls)

    for response in (
        head_a.post(f"/api/v1/hosting/{account_b.name}/ftp-accounts", json={"user": "intruder"}),
        head_a.get(f"/api/v1/hosting/{account_b.name}"),
        head_a.post("/api/v1/hosting/nosuchaccount/ftp-accounts", json={"user": "intruder"}),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert len(recording_runner.calls) == calls


def test_bad_input_names_the_field_and_changes_nothing(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    head = api(make_contact(school, "head@stmarys.example"))
    url = f"/api/v1/hosting/{account.name}/ftp-accounts"
    calls = len(recording_runner.calls)
    cases = [
        ({}, "user", "required"),
        ({"user": "web;rm -rf"}, "user", "not allowed"),
        ({"user": "x" * 40}, "user", "too long"),
        ({"user": "webmaster", "path": "../../etc"}, "path", "'..'"),
        ({"user": "webmaster", "path": "/etc"}, "path", "leading '/'"),
        ({"user": "webmaster", "path": 7}, "path", "text"),
    ]
    for body, field, words in cases:
        response = head.post(url, json=body)
        assert response.status_code == 422, (body, response.get_json())
        error = response.get_json()["error"]
        assert field in error["fields"] and words in error["message"], (body, error)
    assert head.post(url, data="not json").status_code == 422
    assert len(recording_runner.calls) == calls
    assert head.get(f"/api/v1/hosting/{account.name}").get_json()["ftp_accounts"] == []

    # a taken name is a conflict, and the first user is untouched
    assert head.post(url, json={"user": "webmaster"}).status_code == 201
    response = head.post(url, json={"user": "webmaster"})
    assert (
        response.status_code == 409 and "already exists" in response.get_json()["error"]["message"]
    )


def test_listing_needs_a_token(client):
    response = client.get("/api/v1/hosting")
    assert response.status_code == 401
