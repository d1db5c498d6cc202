"""CSRF protection on every form, with Flask-WTF's checks switched on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.schools.models import School


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def _token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _login(client, user) -> None:
    token = _token(client, "/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": "correct-horse-battery", "csrf_token": token},
    )
    assert response.status_code == 302


def test_login_without_token_is_refused(client, make_technician):
    tech = make_technician()
    response = client.post(
        "/login", data={"email": tech.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 400
    assert "The form expired or was not sent by this site" in response.get_data(as_text=True)
    assert client.get("/admin/schools").status_code == 302  # not logged in


def test_form_post_without_token_saves_nothing(client, make_technician):
    _login(client, make_technician())
    data = {"urn": "123456", "name": "Forged School"}
    response = client.post("/admin/schools/new", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(School.id))) == 0
    response = client.post("/admin/schools/new", data={**data, "csrf_token": "forged"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(School.id))) == 0
    # The same form with the page's token works, so the refusals above were the CSRF check.
    token = _token(client, "/admin/schools/new")
    response = client.post("/admin/schools/new", data={**data, "csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(School.id))) == 1


def test_every_form_route_refuses_a_post_without_token(app, client, make_technician):
    """Walks the URL map, so a form added later is covered without editing this test."""
    _login(client, make_technician(admin=True))
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or not {"POST", "PUT", "PATCH", "DELETE"} & rule.methods:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = re.sub(rf"<(?:[^:<>]+:)?{arg}>", "1", path)
        for method in sorted({"POST", "PUT", "PATCH", "DELETE"} & rule.methods):
            response = client.open(path, method=method, data={"name": "x"})
            assert response.status_code == 400, (method, path, response.status_code)
            checked.append(path)
    assert "/admin/schools/new" in checked and "/logout" in checked
    assert client.get("/admin/schools").status_code == 200  # the forged logout did nothing


def test_every_page_form_carries_a_token(client, make_school, make_technician):
    make_school(urn="111111")
    _login(client, make_technician(admin=True))
    for path in [
        "/admin/schools/new",
        "/admin/schools/111111/edit",
        "/admin/schools/111111/contacts/new",
        "/admin/domains",
        "/admin/technicians",
    ]:
        page = client.get(path).get_data(as_text=True)
        forms = re.findall(r"<form method=\"post\".*?</form>", page, flags=re.S)
        assert forms, path
        for form in forms:
            assert 'name="csrf_token"' in form, path
