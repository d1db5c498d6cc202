"""Technicians' hosting pages: a new account from the hosting index, suspend /
unsuspend / delete on the account page, the servers page. Contacts see none of
these controls and are refused (403). A recording runner stands in for the
playbooks (they run for real in test_hosting_lifecycle.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.hosting.models import HostingAccount

GIB = 1024**3


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def school_with_domain(app, make_school, tmp_path):
    """make(domain) -> a school with that domain (no account), and server h1."""
    from provisioner.hosting import servers
    from provisioner.registry.services import add_domain

    def make(domain: str, urn: str | None = None, name: str | None = None):
        if not servers.list_servers():
            servers.add_server(
                "h1", connection="local", root=str(tmp_path / "h1"), capacity_bytes=100 * GIB
            )
        school = make_school(urn, name)
        add_domain(school.urn, domain)
        return school

    return make


def _counts() -> tuple[int, int]:
    db.session.rollback()
    accounts = db.session.query(HostingAccount).count()
    return accounts, db.session.query(Case).count()


def _everything_stored() -> str:
    """Every value of every row, as text: a secret must not be anywhere in it."""
    db.session.rollback()
    rows = []
    for table in db.metadata.sorted_tables:
        rows.extend(str(dict(row)) for row in db.session.execute(table.select()).mappings())
    return "\n".join(rows)


def test_technician_creates_a_wordpress_account_and_sees_its_password_once(
    client, login, recording_runner, school_with_domain, make_technician
):
    school = school_with_domain("stmarys.essex.sch.uk", name="St Mary's Primary")
    login(make_technician())

    index = _text(client.get("/hosting/"))
    assert "New hosting account" in index and 'id="new-account-form"' in index
    assert f'value="{school.urn}"' in index and "stmarys.essex.sch.uk" in index
    assert "most free capacity" in index and "h1" in index

    response = client.post(
        "/hosting/",
        data={
            "school_urn": school.urn,
            "domain": "stmarys.essex.sch.uk",
            "plan": "standard",
            "server": "",
            "wordpress": "y",
        },
    )
    page = _text(response)
    assert response.status_code == 201, page

    playbook, target, sent = recording_runner.calls[-1]
    assert playbook == "account-create.yml" and target == "h1"
    assert sent["account"] == "stmarys" and sent["domain"] == "stmarys.essex.sch.uk"
    assert sent["quota_bytes"] == 5 * GIB and sent["wordpress"] is True
    assert sent["wordpress_admin_user"] == "stmarys-admin"
    password = sent["wordpress_admin_password"]
    assert len(password) >= 16

    # the answering page: active, the case, the admin user and password (once)
    assert re.search(r'id="status">\s*active', page)
    assert "stmarys-admin" in page and page.count(password) == 1
    case = db.session.scalars(select(Case)).one()
    assert case.reference in page and case.category == "hosting"
    assert case.status == "resolved"

    # never again: not on a reload, not on the index, not anywhere in the database
    assert password not in _text(client.get("/hosting/stmarys"))
    assert password not in _text(client.get("/hosting/"))
    assert password not in _everything_stored()
    account = db.session.scalars(select(HostingAccount)).one()
    assert account.status == "active" and account.wordpress and account.school_id == school.id


def test_an_account_without_wordpress_on_a_named_server(
    client, login, recording_runner, school_with_domain, make_technician, tmp_path
):
    from provisioner.hosting import servers

    school = school_with_domain("oakfield.essex.sch.uk")
    servers.add_server("h2", connection="local", root=str(tmp_path / "h2"), capacity_bytes=6 * GIB)
    login(make_technician())
    response = client.post(
        "/hosting/",
        data={"school_urn": school.urn, "domain": "Oakfield.Essex.sch.uk", "server": "h2"},
    )
    assert response.status_code == 201, _text(response)
    playbook, target, sent = recording_runner.calls[-1]
    assert (playbook, target, sent["wordpress"]) == ("account-create.yml", "h2", False)
    assert "wordpress_admin_password" not in sent
    page = _text(response)
    assert "oakfield" in page and "WordPress administrator" not in page


@pytest.mark.parametrize(
    ("data", "status", "field", "words"),
    [
        ({"domain": "other.essex.sch.uk"}, 422, "domain", "is not one of"),
        ({"domain": ""}, 422, "domain", "required"),
        ({"domain": "bad domain;rm"}, 422, "domain", "Domain name"),
        ({"school_urn": ""}, 422, "school_urn", "Choose the school"),
        ({"school_urn": "999999"}, 422, "school_urn", "no school with URN"),
        ({"plan": "gold"}, 422, "plan", "Unknown plan"),
        ({"server": "nosuchserver"}, 422, "server", "No hosting server named"),
    ],
)
def test_refused_input_is_named_at_its_field_and_creates_nothing(
    client, login, recording_runner, school_with_domain, make_technician, data, status, field, words
):
    school = school_with_domain("stmarys.essex.sch.uk")
    login(make_technician())
    before = _counts()

    sent = {"school_urn": school.urn, "domain": "stmarys.essex.sch.uk", "plan": "standard"}
    response = client.post("/hosting/", data=sent | data)
    page = _text(response)
    assert response.status_code == status, page
    # the form again, with the refusal beside the field it names
    assert 'id="new-account-form"' in page
    error = re.search(rf'<small id="{field}-error"[^>]*>([^<]*)</small>', page)
    assert error and words in error.group(1), page
    assert _counts() == before and recording_runner.calls == []


def test_a_second_account_for_the_school_is_a_conflict(
    client, login, recording_runner, hosted_school, make_technician
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    login(make_technician())
    before, calls = _counts(), len(recording_runner.calls)
    response = client.post(
        "/hosting/", data={"school_urn": school.urn, "domain": "stmarys.essex.sch.uk"}
    )
    page = _text(response)
    assert response.status_code == 409
    assert re.search(r'<small id="school_urn-error"[^>]*>[^<]*already has a standard', page)
    assert account.name in page
    assert _counts() == before and len(recording_runner.calls) == calls


def test_technician_suspends_unsuspends_and_deletes(
    client, login, recording_runner, hosted_school, make_technician
):
    _, account = hosted_school("stmarys.essex.sch.uk")
    name = account.name
    login(make_technician())
    page = _text(client.get(f"/hosting/{name}"))
    assert 'id="suspend-form"' in page and 'id="delete-form"' in page
    assert 'id="unsuspend-form"' not in page

    response = client.post(f"/hosting/{name}/suspend")
    assert response.status_code == 302
    assert recording_runner.calls[-1] == ("suspend.yml", "h1", {"account": name})
    page = _text(client.get(f"/hosting/{name}"))
    case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert f"Hosting account {name} suspended (case {case.reference})" in page
    assert re.search(r'id="status">\s*suspended', page) and 'id="unsuspend-form"' in page

    # suspending it again is refused: nothing runs, no case
    before, calls = _counts(), len(recording_runner.calls)
    response = client.post(f"/hosting/{name}/suspend")
    assert response.status_code == 409 and "needs it active" in _text(response)
    assert _counts() == before and len(recording_runner.calls) == calls

    assert client.post(f"/hosting/{name}/unsuspend").status_code == 302
    assert recording_runner.calls[-1] == ("unsuspend.yml", "h1", {"account": name})
    assert re.search(r'id="status">\s*active', _text(client.get(f"/hosting/{name}")))

    # delete needs the account's name typed: a wrong one changes nothing
    before, calls = _counts(), len(recording_runner.calls)
    response = client.post(f"/hosting/{name}/delete", data={"confirm": "something"})
    page = _text(response)
    assert response.status_code == 422
    assert re.search(r'<small id="confirm-error"[^>]*>Type the account name', page)
    assert _counts() == before and len(recording_runner.calls) == calls

    response = client.post(f"/hosting/{name}/delete", data={"confirm": f" {name} "})
    assert response.status_code == 302 and response.headers["Location"].endswith("/hosting/")
    assert recording_runner.calls[-1] == ("delete.yml", "h1", {"account": name})
    listing = _text(client.get("/hosting/"))
    assert f"Hosting account {name} deleted (case" in listing
    assert client.get(f"/hosting/{name}").status_code == 404
    assert db.session.get(HostingAccount, account.id).status == "deleted"


def test_servers_page_lists_capacity_and_accounts(
    client, login, recording_runner, hosted_school, make_technician
):
    _, account = hosted_school("stmarys.essex.sch.uk")
    login(make_technician())
    assert ">Servers</a>" in _text(client.get("/hosting/"))
    page = _text(client.get("/hosting/servers"))
    row = re.search(r'<tr id="server-h1">(.*?)</tr>', page, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[:5] == ["h1", "local", "self_contained", "local", "auto"]
    assert cells[5].startswith(str(100 * GIB)) and cells[6].startswith(str(95 * GIB))
    assert account.name in cells[7]


def test_contacts_see_no_controls_and_are_refused(
    client, login, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    login(make_contact(school, "head@stmarys.example"))
    before, calls = _counts(), len(recording_runner.calls)

    index = _text(client.get("/hosting/"))
    assert "New hosting account" not in index and ">Servers</a>" not in index
    page = _text(client.get(f"/hosting/{account.name}"))
    for control in ("suspend-form", "unsuspend-form", "delete-form", "Manage the account"):
        assert control not in page

    for path, data in [
        ("/hosting/", {"school_urn": school.urn, "domain": "stmarys.essex.sch.uk"}),
        (f"/hosting/{account.name}/suspend", {}),
        (f"/hosting/{account.name}/unsuspend", {}),
        (f"/hosting/{account.name}/delete", {"confirm": account.name}),
    ]:
        response = client.post(path, data=data)
        assert response.status_code == 403, path
        assert "technicians" in _text(response)
    assert client.get("/hosting/servers").status_code == 403
    assert _counts() == before and len(recording_runner.calls) == calls
    assert db.session.get(HostingAccount, account.id).status == "active"


def test_new_forms_carry_a_csrf_token_and_posts_without_one_are_refused(
    app, client, login, recording_runner, hosted_school, school_with_domain, make_technician
):
    _, account = hosted_school("stmarys.essex.sch.uk")
    other = school_with_domain("oakfield.essex.sch.uk")
    login(make_technician())
    app.config["WTF_CSRF_ENABLED"] = True
    before, calls = _counts(), len(recording_runner.calls)

    index = _text(client.get("/hosting/"))
    new_form = re.search(r'<form[^>]*id="new-account-form".*?</form>', index, re.S).group(0)
    assert 'name="csrf_token"' in new_form
    page = _text(client.get(f"/hosting/{account.name}"))
    for form_id in ("suspend-form", "delete-form"):
        form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', page, re.S).group(0)
        assert 'name="csrf_token"' in form, form_id

    for path, data in [
        ("/hosting/", {"school_urn": other.urn, "domain": "oakfield.essex.sch.uk"}),
        (f"/hosting/{account.name}/suspend", {}),
        (f"/hosting/{account.name}/delete", {"confirm": account.name}),
    ]:
        response = client.post(path, data=data)
        assert response.status_code == 400 and "Reload the page" in _text(response), path
    assert _counts() == before and len(recording_runner.calls) == calls
    assert db.session.get(HostingAccount, account.id).status == "active"
