"""No API route or page form answers 5xx to junk, even for a technician (who may
reach every route). Every writing route (found in app.url_map, so routes added
later are covered) gets, on /api/v1, bodies that are not objects, malformed JSON,
and objects whose every usual field has the wrong type or size; on the pages,
form fields full of junk text. Path parameters name real rows (a domain, a hosting
account with an FTP user, a case) as well as ids that do not exist.

The playbooks are stood in for (RecordingRunner); mail goes to the log.
"""

from __future__ import annotations

import json
import re

import pytest

from provisioner.cases.services import open_case
from provisioner.hosting import servers, services, sites
from provisioner.registry.services import add_domain
from provisioner.schools.services import create_token

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FIELDS = [
    # the request fields the API reads, across its routes
    "urn", "name", "la", "school_urn", "email", "role", "nominated", "password",
    "provider", "domain", "changes", "notes", "apply_after", "impact", "reason",
    "kind", "registrar", "reference", "cost_pence", "new_expiry", "note", "years",
    "user", "path", "label", "contact", "plan", "server", "wordpress", "confirm",
    "enabled", "expires_on", "status", "priority", "text", "public",
]  # fmt: skip
JUNK_BODIES = [
    None,  # no body at all
    b"[1, 2]",
    b'"text"',
    b"{}",
    b'{"name": ',  # malformed
    *(
        json.dumps({field: value for field in FIELDS}).encode()
        for value in ([1], {"x": 1}, 10**30, "x" * 5000, -1, True, "", "nul\x00byte")
    ),
]


def _path_values(account: str, domain: str, case: str) -> dict[str, list[str]]:
    return {
        "account": [account, "nosuch", "nul%00byte"],
        "name": [domain, "no-such.sch.uk"],
        "domain": [domain],
        "reference": [case, "CASE-1999-000001"],
        "ftp_user": ["stmarys.web", "nobody"],
        "user": ["stmarys.web"],
    }


def _urls_for(rule, values: dict[str, list[str]]):
    """(method, url) for each writing method of the rule and each filling of its
    parameters (real rows first, then ids that do not exist)."""
    args = sorted(rule.arguments)
    combos = [[]]
    for arg in args:
        combos = [c + [o] for c in combos for o in values.get(arg, ["1", "999999", "x"])]
    for combo in combos:
        url = rule.rule
        for arg, value in zip(args, combo, strict=True):
            url = re.sub(rf"<(?:[^:>]+:)?{arg}>", value, url)
        for method in sorted(rule.methods & WRITE_METHODS):
            yield method, url


def _urls(app, values: dict[str, list[str]]):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.methods & WRITE_METHODS:
            yield from _urls_for(rule, values)


@pytest.fixture
def junk_values(app, make_school, make_contact, tmp_path) -> dict[str, list[str]]:
    """Rows for the path parameters to name (the playbooks stood in for), and
    their values: real rows first, then ones that do not exist."""
    from tests.hosting.conftest import RecordingRunner

    recording_runner = app.extensions["hosting_runner"] = RecordingRunner()
    school = make_school(urn="123456")
    make_contact(school, "head@stmarys.example")
    add_domain(school.urn, "stmarys.essex.sch.uk")
    servers.add_server(
        "h1", connection="local", root=str(tmp_path / "h1"), capacity_bytes=100 * 1024**3
    )
    account = services.create_account(
        recording_runner, school_urn=school.urn, domain="stmarys.essex.sch.uk"
    )
    sites.add_ftp_account(recording_runner, account.name, "stmarys.web")
    case = open_case(school=school, subject="Junk test", category="general", channel="portal")
    return _path_values(account.name, "stmarys.essex.sch.uk", case.reference)


def test_no_write_route_answers_5xx_to_junk(app, client, make_technician, junk_values):
    values = junk_values
    token = create_token(make_technician().email)
    headers = {"Authorization": f"Bearer {token}"}

    failures = []
    seen = {}
    for method, url in _urls(app, values):
        for body in JUNK_BODIES:
            response = client.open(
                url,
                method=method,
                data=body,
                headers=headers,
                content_type="application/json" if body is not None else None,
            )
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(
                    f"{method} {url} {body[:60] if body else body!r}: "
                    f"{response.status_code} {response.get_data(as_text=True)[:200]}"
                )
    assert failures == [], "\n".join(failures[:20])
    # the walk got past routing and authentication to the routes' own checks
    assert seen.get(422, 0) > 50 and seen.get(401, 0) == 0, seen


JUNK_FORM_VALUES = ["", "x" * 5000, "../../etc/passwd", "<script>alert(1)</script>", "1e309",
                    "-1", "nul\x00byte", "  ", "9" * 40]  # fmt: skip


def test_no_page_form_answers_5xx_to_junk(app, client, login, make_technician, junk_values):
    """The same walk for the pages' writing routes, as a logged-in technician, with
    form fields full of junk text (forms only carry text)."""
    login(make_technician())
    values = junk_values

    failures, seen = [], {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "POST" not in rule.methods:
            continue
        if rule.endpoint.startswith("auth."):  # logging out would end the walk
            continue
        for method, url in _urls_for(rule, values):
            for junk in JUNK_FORM_VALUES:
                response = client.open(url, method=method, data=dict.fromkeys(FIELDS, junk))
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{method} {url} {junk[:20]!r}: {response.status_code}")
    assert failures == [], "\n".join(failures[:20])
    assert seen.get(422, 0) > 20, seen


def test_nul_characters_are_refused_naming_the_field(api, client, login, make_technician):
    """PostgreSQL cannot store NUL in text: refused up front (422), never a 500."""
    tech = make_technician()
    response = api(tech).post("/api/v1/schools", json={"urn": "123456", "name": "Oak\x00"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"] == {"name": "NUL character"} and "NUL character" in error["message"]
    assert api(tech).get("/api/v1/hosting/nul%00byte").status_code == 422
    login(tech)
    page = client.post("/hosting/", data={"school_urn": "1\x00", "domain": "x.sch.uk"})
    assert page.status_code == 422 and "school_urn contains a NUL character" in page.get_data(
        as_text=True
    )
