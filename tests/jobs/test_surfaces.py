"""The operations API, page and CLI, as technicians and contacts use them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from provisioner.db import db
from provisioner.jobs import enqueue
from provisioner.jobs.embedded import EmbeddedExecutor
from provisioner.jobs.timing import FixedClock


@pytest.fixture
def failed_op(app):
    op_id = enqueue("test.refuse", {"zone": "a"}, resource_key="zone:a.sch.uk").id
    db.session.commit()
    EmbeddedExecutor(app, clock=FixedClock(datetime.now(UTC) + timedelta(seconds=1))).run_once()
    return op_id


def test_technician_sees_retries_and_cancels_an_operation_through_the_api(
    app, api, make_technician, failed_op
):
    tech = api(make_technician())
    body = tech.get(f"/api/v1/operations/{failed_op}").get_json()
    assert body["status"] == "failed" and body["attempts"] == 1
    assert body["error"] == "the change to zone:a.sch.uk is not allowed"
    assert any("failed permanently" in line["line"] for line in body["log"])

    response = tech.post(f"/api/v1/operations/{failed_op}/retry")
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    again = tech.post(f"/api/v1/operations/{failed_op}/retry")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "operation_state"

    response = tech.post(f"/api/v1/operations/{failed_op}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    listed = tech.get("/api/v1/operations?status=cancelled").get_json()
    assert [op["id"] for op in listed] == [failed_op]

    missing = tech.get("/api/v1/operations/424242")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == (
        "operation_not_found"
    )
    bad = tech.get("/api/v1/operations?status=exploded")
    assert bad.status_code == 422 and "unknown status" in bad.get_json()["error"]["message"]


def test_contacts_see_only_their_own_schools_case_operations_and_cannot_act(
    app, api, make_school, make_contact, failed_op
):
    from provisioner.cases.services import open_case

    stmarys, birch = make_school(), make_school()
    head = make_contact(stmarys, "head@stmarys.sch.uk")
    other = make_contact(birch, "office@birch.sch.uk")
    case = open_case(school=stmarys, subject="Move the website", contact=head)
    ours = enqueue("test.noop", {}, resource_key="zone:stmarys.sch.uk", case_id=case.id).id
    db.session.commit()

    contact = api(head)
    assert contact.get(f"/api/v1/operations/{ours}").get_json()["case_id"] == case.id
    assert [op["id"] for op in contact.get("/api/v1/operations").get_json()] == [ours]
    assert contact.get(f"/api/v1/operations/{failed_op}").status_code == 404  # no case of theirs
    assert contact.post(f"/api/v1/operations/{ours}/retry").status_code == 403
    assert contact.post(f"/api/v1/operations/{ours}/cancel").status_code == 403

    stranger = api(other)
    assert stranger.get(f"/api/v1/operations/{ours}").status_code == 404
    assert stranger.get("/api/v1/operations").get_json() == []


def test_operations_page_shows_status_and_log_and_retries(
    app, client, login, make_technician, failed_op
):
    login(make_technician())
    page = client.get("/operations/").get_data(as_text=True)
    assert "test.refuse" in page and "failed" in page
    detail = client.get(f"/operations/{failed_op}").get_data(as_text=True)
    assert "not allowed" in detail and "operations.js" in detail

    tail = client.get(f"/operations/{failed_op}/tail.json?after=0").get_json()
    assert tail["status"] == "failed" and tail["finished"] is True
    last = tail["lines"][-1]["id"]
    assert client.get(f"/operations/{failed_op}/tail.json?after={last}").get_json()["lines"] == []

    response = client.post(f"/operations/{failed_op}/retry", follow_redirects=True)
    assert f"Operation {failed_op} will run again." in response.get_data(as_text=True)
    tail = client.get(f"/operations/{failed_op}/tail.json?after={last}").get_json()
    assert tail["status"] == "pending"
    assert [line["line"] for line in tail["lines"]] == ["retry requested by tech@provider.example"]


def test_operations_page_is_for_staff_only(
    app, client, login, make_school, make_contact, failed_op
):
    assert client.get("/operations/").status_code == 302  # to the login page
    login(make_contact(make_school(), "head@stmarys.sch.uk"))
    assert client.get("/operations/").status_code == 403
    assert client.post(f"/operations/{failed_op}/retry").status_code == 403


def test_cli_lists_shows_retries_and_cancels(app, runner, failed_op):
    listed = runner.invoke(["operations", "list", "--status", "failed"])
    assert listed.exit_code == 0 and "test.refuse" in listed.output
    shown = runner.invoke(["operations", "show", str(failed_op)])
    assert "failed permanently" in shown.output
    retried = runner.invoke(["operations", "retry", str(failed_op)])
    assert f"operation {failed_op} is pending again" in retried.output
    cancelled = runner.invoke(["operations", "cancel", str(failed_op)])
    assert f"operation {failed_op} is cancelled" in cancelled.output
    again = runner.invoke(["operations", "cancel", str(failed_op)])
    assert again.exit_code == 1 and "already cancelled" in again.output
    missing = runner.invoke(["operations", "show", "nope"])
    assert missing.exit_code == 1 and "there is no operation nope" in missing.output


def test_worker_until_idle_runs_what_is_queued(app, runner):
    for n in range(3):
        enqueue("test.noop", {}, resource_key=f"zone:{n}")
    db.session.commit()
    result = runner.invoke(["worker", "--until-idle"])
    assert result.exit_code == 0 and "ran 3 operation(s)" in result.output
    listed = runner.invoke(["operations", "list", "--status", "succeeded", "--json"])
    assert listed.output.count('"status": "succeeded"') == 3
