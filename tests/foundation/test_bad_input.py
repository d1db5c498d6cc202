"""Bad input through the API, the CLI and the forms: a message naming the problem,
a 4xx or a non-zero exit, and nothing saved."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.registry.models import Domain
from provisioner.registry.services import add_domain
from provisioner.schools.models import School, User

LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 55]) + ".org.uk"  # 254 characters

# (name, what the message must say)
BAD_DOMAINS = [
    ("a..b.org.uk", "empty label"),
    (".alder.org.uk", "empty label"),
    ("x" * 64 + ".org.uk", "is 64 characters (at most 63)"),
    (LONG_NAME, "at most 253"),
    ("under_score.org.uk", "underscore"),
    ("_dmarc.alder.org.uk", "underscore"),
    ("co.uk", "co.uk is a public suffix"),
    ("sch.uk", "sch.uk is a public suffix"),
    ("essex.sch.uk", "essex.sch.uk is a public suffix"),
    ("-alder.org.uk", "letters, digits and inner hyphens"),
    ("alder school.org.uk", "letters, digits and inner hyphens"),
    ("alder.notatld", "top-level domain is not known"),
    ("localhost", "at least two labels"),
    ("xn--zz.org.uk", "not valid punycode"),
]
BAD_URNS = [
    ("12345", "exactly six digits"),
    ("1234567", "exactly six digits"),
    ("abcdef", "exactly six digits"),
    ("12 345", "exactly six digits"),
    ("１２３４５６", "exactly six digits"),  # full-width digits
]
BAD_EMAILS = [
    ("not-an-email", "not valid"),
    ("head@", "not valid"),
    ("@alder.example", "not valid"),
    ("head teacher@alder.example", "not valid"),
    ("head@alder", "not valid"),
]


@pytest.fixture
def school(make_school):
    return make_school(urn="111111", name="Alder Primary")


def _nothing_saved(school=None) -> None:
    assert db.session.scalar(select(func.count(Domain.id))) == 0
    if school is not None:
        db.session.refresh(school)
        assert school.domain_count == 0


# -- domains --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "problem"), BAD_DOMAINS)
def test_bad_domain_via_api(api, school, make_technician, name, problem):
    response = api(make_technician()).post(
        "/api/v1/domains", json={"school_urn": "111111", "name": name}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and problem in error["message"]
    _nothing_saved(school)


@pytest.mark.parametrize(("name", "problem"), BAD_DOMAINS)
def test_bad_domain_via_cli(runner, school, name, problem):
    # "--" so that a name starting with a hyphen is not read as an option
    result = runner.invoke(["domain", "add", "--school", "111111", "--", name])
    assert result.exit_code == 1
    assert problem in result.stderr and "error:" in result.stderr
    assert result.stdout == ""
    _nothing_saved(school)


@pytest.mark.parametrize(("name", "problem"), BAD_DOMAINS)
def test_bad_domain_via_form(client, login, make_technician, school, name, problem):
    login(make_technician())
    response = client.post("/admin/domains", data={"school": "111111", "name": name})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert problem in page and 'id="name-error"' in page
    _nothing_saved(school)


def test_empty_domain_name_everywhere(api, runner, client, login, make_technician, school):
    tech = make_technician()
    response = api(tech).post("/api/v1/domains", json={"school_urn": "111111", "name": "  "})
    assert (
        response.status_code == 422
        and "name is required" in response.get_json()["error"]["message"]
    )
    result = runner.invoke(["domain", "add", "", "--school", "111111"])
    assert result.exit_code == 1 and "it is empty" in result.stderr
    login(tech)
    response = client.post("/admin/domains", data={"school": "111111", "name": ""})
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)
    _nothing_saved(school)


def test_domain_of_another_school_everywhere(
    api, runner, client, login, make_school, make_technician, school
):
    make_school(urn="222222", name="Birch Academy")
    add_domain("222222", "birch.kent.sch.uk")
    tech = make_technician()
    message = "birch.kent.sch.uk is already managed for Birch Academy (URN 222222)"
    response = api(tech).post(
        "/api/v1/domains", json={"school_urn": "111111", "name": "www.BIRCH.kent.sch.uk."[4:]}
    )
    assert response.status_code == 409 and message in response.get_json()["error"]["message"]
    result = runner.invoke(["domain", "add", "Birch.Kent.sch.uk", "--school", "111111"])
    assert result.exit_code == 1 and message in result.stderr
    login(tech)
    response = client.post("/admin/domains", data={"school": "111111", "name": "birch.kent.sch.uk"})
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    db.session.refresh(school)
    assert school.domain_count == 0
    assert db.session.scalar(select(func.count(Domain.id))) == 1


def test_eleventh_domain_everywhere(api, runner, client, login, make_technician, school):
    for n in range(10):
        add_domain("111111", f"alder{n}.org.uk")
    tech = make_technician()
    message = "Alder Primary already has 10 domains"
    response = api(tech).post("/api/v1/domains", json={"school_urn": "111111", "name": "e.org.uk"})
    assert response.status_code == 409 and message in response.get_json()["error"]["message"]
    result = runner.invoke(["domain", "add", "e.org.uk", "--school", "111111"])
    assert result.exit_code == 1 and message in result.stderr
    login(tech)
    response = client.post("/admin/domains", data={"school": "111111", "name": "e.org.uk"})
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    db.session.refresh(school)
    assert school.domain_count == 10
    assert db.session.scalar(select(func.count(Domain.id))) == 10


# -- URNs ------------------------------------------------------------------------------


@pytest.mark.parametrize(("urn", "problem"), BAD_URNS)
def test_bad_urn_everywhere(api, runner, client, login, make_technician, urn, problem):
    tech = make_technician()
    response = api(tech).post("/api/v1/schools", json={"urn": urn, "name": "Bad URN School"})
    assert response.status_code == 422
    assert problem in response.get_json()["error"]["message"]
    assert response.get_json()["error"]["fields"] == {"urn": "must be exactly six digits"}
    result = runner.invoke(["school", "add", "--urn", urn, "--name", "Bad URN School"])
    assert result.exit_code == 1 and problem in result.stderr
    login(tech)
    response = client.post("/admin/schools/new", data={"urn": urn, "name": "Bad URN School"})
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(School.id))) == 0


def test_contact_for_a_malformed_urn_names_it(runner):
    result = runner.invoke(
        ["contact", "add", "--school", "12x456", "--name", "N", "--email", "n@a.example"]
    )
    assert result.exit_code == 1 and "no school with URN '12x456'" in result.stderr
    assert db.session.scalar(select(func.count(User.id))) == 0


# -- emails ----------------------------------------------------------------------------


@pytest.mark.parametrize(("email", "problem"), BAD_EMAILS)
def test_bad_email_everywhere(runner, client, login, make_technician, school, email, problem):
    tech = make_technician()
    result = runner.invoke(
        ["contact", "add", "--school", "111111", "--name", "Head", "--email", email]
    )
    assert result.exit_code == 1 and f"email {email!r} is {problem}" in result.stderr
    result = runner.invoke(["technician", "add", "--email", email, "--name", "Tech Two"])
    assert result.exit_code == 1 and f"email {email!r} is {problem}" in result.stderr
    login(tech)
    response = client.post(
        "/admin/schools/111111/contacts/new", data={"name": "Head", "email": email, "role": "slt"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and "is not valid" in page
    assert db.session.scalar(select(func.count(User.id))) == 1  # the technician only


def test_duplicate_email_is_refused_naming_who_has_it(runner, make_contact, school):
    make_contact(school, "head@alder.example")
    result = runner.invoke(
        ["contact", "add", "--school", "111111", "--name", "Again", "--email", "HEAD@alder.example"]
    )
    assert result.exit_code == 1
    assert "head@alder.example is already used by a contact of Alder Primary" in result.stderr


def test_short_password_and_unknown_role_via_cli(runner, school):
    result = runner.invoke(
        ["contact", "add", "--school", "111111", "--name", "N", "--email", "n@a.example"]
        + ["--password", "short"]
    )
    assert result.exit_code == 1 and "at least 10 characters" in result.stderr
    result = runner.invoke(
        ["contact", "add", "--school", "111111", "--name", "N", "--email", "n@a.example"]
        + ["--role", "caretaker"]
    )
    assert result.exit_code == 1 and "role 'caretaker' is not known" in result.stderr
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_json_errors_never_500_for_junk_bodies(api, make_technician, school):
    caller = api(make_technician())
    for body in ({"school_urn": 111111, "name": "a.org.uk"}, {"school_urn": "111111", "name": 5}):
        response = caller.post("/api/v1/domains", json=body)
        assert response.status_code == 422, body
    response = caller.post("/api/v1/schools", json={"urn": ["123456"], "name": "Listed"})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "urn must be text"
    response = caller.post("/api/v1/schools", json={"urn": "123456", "name": {"x": 1}})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "name must be text"
    _nothing_saved(school)
