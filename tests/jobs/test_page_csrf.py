"""The operations page's buttons refuse a form not sent by the page itself (CSRF)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from provisioner.db import db
from provisioner.jobs import enqueue
from provisioner.jobs.embedded import EmbeddedExecutor
from provisioner.jobs.models import Operation
from provisioner.jobs.timing import FixedClock


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def test_retry_without_the_page_token_is_refused_and_changes_nothing(app, client, make_technician):
    op_id = enqueue("test.refuse", {}, resource_key="zone:a.sch.uk").id
    db.session.commit()
    EmbeddedExecutor(app, clock=FixedClock(datetime.now(UTC) + timedelta(seconds=1))).run_once()
    tech = make_technician()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', login_page)
    form = {"email": tech.email, "password": "correct-horse-battery", "csrf_token": token[1]}
    assert client.post("/login", data=form).status_code == 302

    forged = client.post(f"/operations/{op_id}/retry")
    assert forged.status_code == 400
    assert db.session.get(Operation, op_id).status == "failed"

    page = client.get(f"/operations/{op_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post(f"/operations/{op_id}/retry", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Operation, op_id).status == "pending"
