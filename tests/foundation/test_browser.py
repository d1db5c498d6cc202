"""In Chromium, against a real `provisioner serve`: a technician logs in, creates
a school and a contact; the contact logs in and sees only their school.

Screenshots of each step are kept in test-output/<test name>/ at the repo root.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

REPO_ROOT = Path(__file__).resolve().parents[2]
TECH_PASSWORD = "technician-password"
CONTACT_PASSWORD = "contact-password-1"

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(request):
    """Saves numbered full-page screenshots under test-output/<test name>/."""
    folder = REPO_ROOT / "test-output" / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = iter(range(1, 100))

    def shot(page, step: str) -> None:
        page.screenshot(path=folder / f"{next(count):02d}-{step}.png", full_page=True)

    shot.folder = folder
    return shot


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_technician_creates_school_and_contact_who_sees_only_their_school(server, browser, shots):
    server.cli("db", "upgrade")
    server.cli(
        "technician", "add", "--email", "tech@provider.example", "--name", "Terry Tech",
        "--password", TECH_PASSWORD,
    )  # fmt: skip
    # Another school with a domain, which the new contact must never see.
    server.cli("school", "add", "--urn", "222222", "--name", "Birch Academy", "--la", "Kent")
    server.cli("domain", "add", "birch.kent.sch.uk", "--school", "222222")
    server.start("--no-worker")
    base = server.url
    page = browser.new_page()

    # The technician logs in and lands on the schools list.
    _log_in(page, base, "tech@provider.example", TECH_PASSWORD)
    expect(page).to_have_url(f"{base}/admin/schools")
    expect(page.get_by_role("heading", name="Schools")).to_be_visible()
    shots(page, "technician-schools")

    # A mistake first: the form says what is wrong, next to the field.
    page.get_by_role("button", name="Add a school").click()
    page.get_by_label("URN (six digits)").fill("12345")
    page.get_by_label("Name").fill("Alder Primary School")
    page.get_by_role("button", name="Add school").click()
    expect(page.locator("#urn-error")).to_contain_text("exactly six digits")
    shots(page, "school-form-error")

    page.get_by_label("URN (six digits)").fill("111111")
    page.get_by_label("Local authority").fill("Essex")
    page.get_by_role("button", name="Add school").click()
    expect(page).to_have_url(f"{base}/admin/schools/111111")
    expect(page.get_by_role("heading", name="Alder Primary School")).to_be_visible()
    expect(page.get_by_text("has 0 nominated contact(s)")).to_be_visible()
    shots(page, "school-created")

    page.get_by_role("button", name="Add a contact").click()
    page.get_by_label("Name").fill("Hana Head")
    page.get_by_label("Email").fill("hana@alder.example")
    page.get_by_label("Role at the school").select_option("slt")
    page.get_by_label("Nominated contact").check()
    page.get_by_label("Portal password").fill(CONTACT_PASSWORD)
    shots(page, "contact-form")
    page.get_by_role("button", name="Add contact").click()
    expect(page).to_have_url(f"{base}/admin/schools/111111")
    row = page.get_by_role("row", name="Hana Head")
    expect(row).to_contain_text("hana@alder.example")
    expect(row.locator(".badge-nominated")).to_have_text("nominated")
    expect(page.get_by_text("has 1 nominated contact(s)")).to_be_visible()
    shots(page, "contact-created")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base}/login")

    # The contact sees their own school, and nothing of Birch Academy.
    _log_in(page, base, "hana@alder.example", CONTACT_PASSWORD)
    expect(page).to_have_url(f"{base}/portal/")
    expect(page.get_by_role("heading", name="Alder Primary School")).to_be_visible()
    expect(page.get_by_text("You are a nominated contact")).to_be_visible()
    expect(page.get_by_role("link", name="Schools")).to_have_count(0)
    content = page.content()
    assert "Birch" not in content and "birch.kent.sch.uk" not in content
    shots(page, "contact-portal")

    response = page.goto(f"{base}/admin/schools/222222")
    assert response.status == 403
    assert "Birch" not in page.content()
    shots(page, "contact-refused-admin")
    assert len(list(shots.folder.glob("*.png"))) == 7
