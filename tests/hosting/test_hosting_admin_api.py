"""Technicians' hosting API: create, suspend, unsuspend and delete accounts, list
servers. Contacts get 403 in the error shape. A recording runner stands in for
the playbooks (they run for real in test_hosting_lifecycle.py)."""

from __future__ import annotations

import pytest

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.hosting.models import HostingAccount

GIB = 1024**3


@pytest.fixture
def school_with_domain(app, make_school, tmp_path):
    """make(domain) -> a school with that domain (no account), and server h1."""
    from provisioner.hosting import servers
    from provisioner.registry.services import add_domain

    def make(domain: str, urn: str | None = None):
        if not servers.list_servers():
            servers.add_server(
                "h1", connection="local", root=str(tmp_path / "h1"), capacity_bytes=100 * GIB
            )
        school = make_school(urn)
        add_domain(school.urn, domain)
        return school

    return make


def _counts() -> tuple[int, int]:
    db.session.rollback()
    return db.session.query(HostingAccount).count(), db.session.query(Case).count()


def _everything_stored() -> str:
    db.session.rollback()
    rows = []
    for table in db.metadata.sorted_tables:
        rows.extend(str(dict(row)) for row in db.session.execute(table.select()).mappings())
    return "\n".join(rows)


def test_technician_creates_a_wordpress_account(
    api, recording_runner, school_with_domain, make_technician
):
    school = school_with_domain("stmarys.essex.sch.uk")
    tech = api(make_technician())

    response = tech.post(
        "/api/v1/hosting",
        json={"school_urn": school.urn, "domain": "stmarys.essex.sch.uk", "wordpress": True},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["account"] == "stmarys" and body["school_urn"] == school.urn
    assert body["server"] == "h1" and body["plan"] == "standard"
    assert body["quota_bytes"] == 5 * GIB and body["change"] == "done"
    assert body["status"] == "active"
    assert body["wordpress_admin_user"] == "stmarys-admin"
    assert body["wordpress_admin_url"] == "http://stmarys.essex.sch.uk/wp-admin/"
    case = db.session.query(Case).one()
    assert body["case"] == case.reference and isinstance(body["operation"], int)

    playbook, target, sent = recording_runner.calls[-1]
    assert (playbook, target) == ("account-create.yml", "h1")
    assert sent["account"] == "stmarys" and sent["wordpress"] is True
    password = body["wordpress_admin_password"]
    assert len(password) >= 16 and sent["wordpress_admin_password"] == password

    # the account is active; its password is never given again, nor stored
    again = tech.get("/api/v1/hosting/stmarys")
    assert again.get_json()["status"] == "active" and password not in again.get_data(as_text=True)
    assert password not in tech.get("/api/v1/hosting").get_data(as_text=True)
    assert password not in _everything_stored()


def test_an_account_without_wordpress_has_no_admin_fields(
    api, recording_runner, school_with_domain, make_technician
):
    school = school_with_domain("oakfield.essex.sch.uk")
    response = api(make_technician()).post(
        "/api/v1/hosting",
        json={"school_urn": school.urn, "domain": "oakfield.essex.sch.uk", "server": "h1"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert "wordpress_admin_password" not in body and "wordpress_admin_user" not in body
    assert recording_runner.calls[-1][2]["wordpress"] is False


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"domain": "other.essex.sch.uk"}, "domain", "is not one of"),
        ({"domain": None}, "domain", "required"),
        ({"domain": 7}, "domain", "text"),
        ({"domain": "a;rm -rf.uk"}, "domain", "Domain name"),
        ({"school_urn": None}, "school_urn", "Choose the school"),
        ({"school_urn": ["x"]}, "school_urn", "text"),
        ({"school_urn": "999999"}, "school_urn", "no school with URN"),
        ({"plan": "gold"}, "plan", "Unknown plan"),
        ({"plan": {"a": 1}}, "plan", "text"),
        ({"server": "nosuchserver"}, "server", "No hosting server named"),
        ({"server": 5}, "server", "text"),
        ({"wordpress": "yes"}, "wordpress", "true or false"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(
    api, recording_runner, school_with_domain, make_technician, change, field, words
):
    school = school_with_domain("stmarys.essex.sch.uk")
    tech = api(make_technician())
    before = _counts()
    body = {"school_urn": school.urn, "domain": "stmarys.essex.sch.uk"} | change
    response = tech.post("/api/v1/hosting", json=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert words in error["message"], error
    assert _counts() == before and recording_runner.calls == []


def test_a_body_that_is_not_an_object_is_refused(api, recording_runner, make_technician):
    tech = api(make_technician())
    for response in (
        tech.post("/api/v1/hosting", data="not json"),
        tech.post("/api/v1/hosting", json=["stmarys.essex.sch.uk"]),
    ):
        assert response.status_code == 422 and "body" in response.get_json()["error"]["fields"]
    assert _counts() == (0, 0)


def test_a_second_account_for_the_school_and_plan_is_a_conflict(
    api, recording_runner, hosted_school, make_technician
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    tech = api(make_technician())
    before, calls = _counts(), len(recording_runner.calls)
    response = tech.post(
        "/api/v1/hosting", json={"school_urn": school.urn, "domain": "stmarys.essex.sch.uk"}
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and "school_urn" in error["fields"]
    assert account.name in error["message"]
    assert _counts() == before and len(recording_runner.calls) == calls


def test_suspend_unsuspend_and_delete(api, recording_runner, hosted_school, make_technician):
    _, account = hosted_school("stmarys.essex.sch.uk")
    name = account.name
    tech = api(make_technician())

    response = tech.post(f"/api/v1/hosting/{name}/suspend")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["account"] == name and body["change"] == "done"
    assert body["status"] == "suspended"
    assert body["case"] == db.session.query(Case).order_by(Case.id.desc()).first().reference
    assert recording_runner.calls[-1] == ("suspend.yml", "h1", {"account": name})
    assert tech.get(f"/api/v1/hosting/{name}").get_json()["status"] == "suspended"

    # not allowed in this state: 409, nothing runs, no case
    before, calls = _counts(), len(recording_runner.calls)
    response = tech.post(f"/api/v1/hosting/{name}/suspend")
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"status": "suspended"}
    assert _counts() == before and len(recording_runner.calls) == calls

    assert tech.post(f"/api/v1/hosting/{name}/unsuspend").status_code == 200
    assert recording_runner.calls[-1] == ("unsuspend.yml", "h1", {"account": name})
    assert tech.get(f"/api/v1/hosting/{name}").get_json()["status"] == "active"
    assert tech.post(f"/api/v1/hosting/{name}/unsuspend").status_code == 409

    response = tech.delete(f"/api/v1/hosting/{name}")
    assert response.status_code == 200, response.get_json()
    assert recording_runner.calls[-1] == ("delete.yml", "h1", {"account": name})
    assert tech.get(f"/api/v1/hosting/{name}").status_code == 404
    assert name not in tech.get("/api/v1/hosting").get_data(as_text=True)
    assert tech.delete(f"/api/v1/hosting/{name}").status_code == 404
    assert tech.post("/api/v1/hosting/nosuchaccount/suspend").status_code == 404


def test_servers_are_listed_for_technicians(api, recording_runner, hosted_school, make_technician):
    hosted_school("stmarys.essex.sch.uk")
    response = api(make_technician()).get("/api/v1/hosting/servers")
    assert response.status_code == 200
    (server,) = response.get_json()
    assert server["name"] == "h1" and server["connection"] == "local"
    assert server["capacity_bytes"] == 100 * GIB and server["free_bytes"] == 95 * GIB


def test_contacts_are_refused_in_the_error_shape(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    head = api(make_contact(school, "head@stmarys.example"))
    before, calls = _counts(), len(recording_runner.calls)
    for response in (
        head.post(
            "/api/v1/hosting", json={"school_urn": school.urn, "domain": "stmarys.essex.sch.uk"}
        ),
        head.post(f"/api/v1/hosting/{account.name}/suspend"),
        head.post(f"/api/v1/hosting/{account.name}/unsuspend"),
        head.delete(f"/api/v1/hosting/{account.name}"),
        head.get("/api/v1/hosting/servers"),
    ):
        assert response.status_code == 403
        error = response.get_json()["error"]
        assert error["code"] == "forbidden" and "technicians" in error["message"]
    assert _counts() == before and len(recording_runner.calls) == calls
    assert head.get(f"/api/v1/hosting/{account.name}").get_json()["status"] == "active"


def test_new_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/hosting"] and "get" in paths["/hosting/servers"]
    assert "post" in paths["/hosting/{account}/suspend"]
    assert "post" in paths["/hosting/{account}/unsuspend"]
    assert "delete" in paths["/hosting/{account}"]
