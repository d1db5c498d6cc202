"""The whole flow in Chromium: a nominated contact submits, a technician approves,
BIND serves the record, the case is resolved and both emails arrive.

Screenshots of each step go to test-output/screenshots/dns_requests/.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from provisioner.db import db
from provisioner.dns_requests import review

SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots" / "dns_requests"
PASSWORD = "correct-horse-battery"  # tests/conftest.py gives every test user this one


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}  # the real forms, tokens and all


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def background_worker(app):
    from provisioner.jobs.embedded import EmbeddedExecutor
    from provisioner.jobs.registry import load_task_modules

    load_task_modules()
    executor = EmbeddedExecutor(app, threads=1, poll_interval=0.1)
    executor.start()
    yield executor
    executor.stop(timeout=30)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_contact_submits_technician_approves_bind_serves(
    setup, live_server, background_worker, browser, inbox
):
    base = live_server
    contact_page = browser.new_page()
    log_in(contact_page, base, setup.contact)
    contact_page.goto(f"{base}/requests/new/{setup.zone}")
    shot(contact_page, "01-form")

    row = contact_page.locator("tr.change-row").first
    row.locator("[name='name[]']").fill("intranet")
    row.locator("[name='values[]']").fill("not-an-address")
    # The row is checked by the server as it is typed.
    contact_page.wait_for_selector("[data-errors-for='1']:has-text('not a valid A value')")
    shot(contact_page, "02-row-error")
    row.locator("[name='values[]']").fill("192.0.2.10")
    row.locator("[name='ttl[]']").fill("3600")
    contact_page.wait_for_function(
        "document.querySelector(\"[data-errors-for='1']\").textContent === ''"
    )
    contact_page.wait_for_selector("#live-preview-lines li")
    assert "+ A intranet 3600 192.0.2.10" in contact_page.inner_text("#live-preview-lines")
    contact_page.fill("#notes", "New intranet server <b>please</b>")
    contact_page.click("button[value=preview]")
    contact_page.wait_for_selector("#preview-plan")
    assert "+ A intranet 3600 192.0.2.10" in contact_page.inner_text("#preview-plan")
    shot(contact_page, "03-preview")
    contact_page.click("#submit-request")
    contact_page.wait_for_selector("#request-status")
    shot(contact_page, "04-submitted")
    assert "Waiting for review" in contact_page.inner_text("#request-status")
    assert "<b>please</b>" in contact_page.inner_text("#notes")  # shown as text, not markup
    (item,) = review.history(school=setup.school)
    reference = item.case.reference

    tech_page = browser.new_page()
    log_in(tech_page, base, setup.tech)
    tech_page.goto(f"{base}/requests/")
    shot(tech_page, "05-queue")
    tech_page.click(f"text=#{item.id}")
    tech_page.wait_for_selector("#live-plan")
    assert "+ A intranet 3600 192.0.2.10" in tech_page.inner_text("#live-plan")
    shot(tech_page, "06-review")
    tech_page.click("#approve")
    tech_page.wait_for_selector("#request-status")
    for _ in range(100):  # the worker applies and verifies in the background
        tech_page.reload()
        if "Done" in tech_page.inner_text("#request-status"):
            break
        time.sleep(0.2)
    shot(tech_page, "07-verified")
    assert "Done" in tech_page.inner_text("#request-status")
    assert setup.served("intranet", "A") == ["192.0.2.10"]

    db.session.expire_all()
    assert item.case.status == "resolved"
    contact_page.goto(f"{base}/cases/{reference}")
    shot(contact_page, "08-case-resolved")
    subjects = inbox.subjects(setup.contact.email)
    assert f"[{reference}] DNS change request received for {setup.zone}" in subjects
    assert f"[{reference}] DNS change done for {setup.zone}" in subjects
