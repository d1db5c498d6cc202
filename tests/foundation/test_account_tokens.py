"""API tokens made in the browser: shown once, stored hashed, revocable by their owner."""

from __future__ import annotations

import re

from sqlalchemy import select

from provisioner.db import db
from provisioner.schools.models import ApiToken
from provisioner.schools.services import create_token


def test_token_page_shows_a_new_token_once_and_it_works(client, login, make_school, make_contact):
    contact = make_contact(make_school(urn="111111"), "head@a.example")
    login(contact)
    page = client.post("/account/tokens").get_data(as_text=True)
    token = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    assert "shown only this once" in page
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and token[:12] in again  # only the prefix stays visible
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash != token and token not in row.token_hash
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["school_urn"] == "111111"


def test_revoked_token_stops_working(client, login, make_technician):
    tech = make_technician()
    token = create_token(tech.email)
    login(tech)
    row = db.session.scalar(select(ApiToken))
    response = client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert "revoked" in client.get("/account/tokens").get_data(as_text=True)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_nobody_can_revoke_another_persons_token(client, login, make_technician):
    owner = make_technician("owner@provider.example")
    create_token(owner.email)
    row_id = db.session.scalar(select(ApiToken.id))
    login(make_technician("other@provider.example"))
    assert client.post(f"/account/tokens/{row_id}/revoke").status_code == 404
    db.session.expire_all()
    assert not db.session.get(ApiToken, row_id).revoked
