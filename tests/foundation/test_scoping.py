"""A contact of school A can neither read nor change anything of school B.

The test walks every rule of app.url_map (pages and API), so routes added
later are covered without editing it. URL parameters are filled with school
B's identifiers: the names in KNOWN_PARAMS, else values of B's own rows found
in the database (a column of the same name, or the id of a table named like
the parameter), so B's objects from other features are tried too once
B_BUILDERS creates some. Bodies sent to writing routes name B as well.

For each request it checks: no 5xx; a route that names B in its URL answers
4xx; none of B's secrets (strings never sent in any request) is in the body;
and no row belonging to B, or pointing at B, was added, changed or removed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest
from flask import g
from sqlalchemy import select, text
from werkzeug.routing import IntegerConverter

from provisioner.db import db
from provisioner.registry.services import add_domain
from provisioner.schools.models import User
from provisioner.schools.services import create_token

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC_ENDPOINTS = {"static"}  # files under web/static, the same for everyone
IGNORED_COLUMNS = {"last_used_at"}  # a token's own bookkeeping
B_URL_DOMAIN = "beta.kent.sch.uk"
# Strings of school B that no request ever contains: any of them in a body is a leak.
B_SECRETS = [
    "Beta Secret Academy",
    "Hiddenshire",
    "Bertha Secretname",
    "bertha@secret-beta.example",
    "Bob Hiddenperson",
    "07000 999888",
    "beta-hidden.org.uk",
]

# Other features: add a function(school_b) that creates B's objects of that feature
# (cases, DNS requests, hosting accounts...) so their routes are walked with real ids.


def _b_case(school_b) -> None:
    from provisioner.cases.services import open_case

    contact = next(c for c in school_b.contacts if c.email == "bertha@secret-beta.example")
    open_case(
        school=school_b,
        subject="Beta Secret Academy printer",
        contact=contact,
        description="Hiddenshire office printer is jammed",
    )


B_HOSTING_ACCOUNT = "beta"  # the name an account of beta.kent.sch.uk gets


class _NoPlaybooks:
    """Stands in for Ansible: the technician's control walk changes B's hosting
    account (suspend, delete...) through it."""

    def run(self, playbook, target, variables, *, check=False, on_line=None):
        from provisioner.hosting.runner import RunResult

        facts = {"hosting_usage": {"used_bytes": 0, "quota_bytes": 0}}
        return RunResult(playbook, "successful", 0, check, facts=facts)


def _b_hosting_account(school_b) -> None:
    from flask import current_app

    from provisioner.hosting import services
    from provisioner.hosting.servers import add_server

    runner = current_app.extensions["hosting_runner"] = _NoPlaybooks()
    add_server("beta-host", connection="local", root="/nonexistent/beta", capacity_bytes=10**11)
    account = services.create_account(runner, school_urn=school_b.urn, domain=B_URL_DOMAIN)
    assert account.name == B_HOSTING_ACCOUNT


B_BUILDERS: list[Callable] = [_b_case, _b_hosting_account]


def _known_params(world) -> dict:
    return {
        "urn": world["b"].urn,
        "school_urn": world["b"].urn,
        "name": [B_URL_DOMAIN, B_HOSTING_ACCOUNT],  # a domain's, a hosting account's
        "account": B_HOSTING_ACCOUNT,
        "domain": B_URL_DOMAIN,
        "domain_name": B_URL_DOMAIN,
        "contact_id": world["b_contact"].id,
        "user_id": world["b_contact"].id,
    }


@pytest.fixture
def world(make_school, make_contact):
    a = make_school(urn="111111", name="Alder Primary", la="Essex")
    b = make_school(urn="222222", name="Beta Secret Academy", la="Hiddenshire")
    contact_a = make_contact(a, "head@alder.example", nominated=True, name="Hana Head")
    b_contact = make_contact(b, "bertha@secret-beta.example", nominated=True)
    b_contact.name, b_contact.phone = "Bertha Secretname", "07000 999888"
    make_contact(b, "bob@secret-beta.example", nominated=True, role="office")
    db.session.scalar(
        select(User).where(User.email == "bob@secret-beta.example")
    ).name = "Bob Hiddenperson"
    db.session.commit()
    add_domain("111111", "alder.essex.sch.uk")
    add_domain("222222", B_URL_DOMAIN)
    add_domain("222222", "beta-hidden.org.uk")
    create_token(b_contact.email)  # B's own API token, for routes that take a token id
    for build in B_BUILDERS:
        build(b)
    return {"a": a, "b": b, "contact_a": contact_a, "b_contact": b_contact}


# -- what belongs to B ----------------------------------------------------------------


def _snapshot() -> dict:
    db.session.rollback()  # see what other sessions and requests committed
    tables = {}
    for table in db.metadata.sorted_tables:
        pk = [c.name for c in table.primary_key.columns]
        rows = {}
        for row in db.session.execute(table.select()).mappings():
            clean = {k: v for k, v in row.items() if k not in IGNORED_COLUMNS}
            rows[tuple(row[c] for c in pk)] = clean
        tables[table.name] = rows
    return tables


def _b_rows(snapshot: dict, b_school_id: int) -> dict[str, set]:
    """Primary keys of every row that is B's: B itself, and rows pointing at B's rows."""
    owned: dict[str, set] = {"schools": {(b_school_id,)}}
    for table in db.metadata.sorted_tables:  # parents before children
        for key, row in snapshot[table.name].items():
            if _points_at(table, row, owned):
                owned.setdefault(table.name, set()).add(key)
    return owned


def _points_at(table, row: dict, owned: dict[str, set]) -> bool:
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if row.get(column.name) is not None and (row[column.name],) in owned.get(target, ()):
                return True
    return False


def _mentions_b(row: dict, b_strings: list[str]) -> bool:
    return any(isinstance(v, str) and any(s in v for s in b_strings) for v in row.values())


def _changes_to_b(before: dict, after: dict, b_school_id: int, b_strings: list[str]) -> list:
    owned_before = _b_rows(before, b_school_id)
    owned_after = _b_rows(after, b_school_id)
    problems = []
    for table in db.metadata.sorted_tables:
        old, new = before[table.name], after[table.name]
        for key in old.keys() | new.keys():
            if old.get(key) == new.get(key):
                continue
            mine = key in owned_before.get(table.name, ()) or key in owned_after.get(table.name, ())
            if mine or any(
                r is not None and _mentions_b(r, b_strings) for r in (old.get(key), new.get(key))
            ):
                problems.append((table.name, old.get(key), new.get(key)))
    return problems


# -- filling URL parameters -----------------------------------------------------------


def _candidates(rule, arg: str, world, snapshot: dict) -> list:
    known = _known_params(world)
    wants_int = isinstance(rule._converters[arg], IntegerConverter)
    if arg in known:
        values = known[arg] if isinstance(known[arg], list) else [known[arg]]
        values = [v for v in values if isinstance(v, int) == wants_int]
        if values:
            return values
    owned = _b_rows(snapshot, world["b"].id)
    found = []
    stem = arg.removesuffix("_id").replace("-", "_")
    for table in db.metadata.sorted_tables:
        for key in owned.get(table.name, ()):
            row = snapshot[table.name][key]
            if arg in row:
                found.append(row[arg])
            elif arg.endswith("_id") and stem in table.name and "id" in row:
                found.append(row["id"])
    found = [v for v in dict.fromkeys(found) if isinstance(v, int) == wants_int]
    if found:
        return found[:4]
    # Nothing of that kind for B. An id of another table might be one of A's own
    # objects, which A may change, so use an id nobody has.
    return [10**9] if wants_int else [world["b"].urn, B_URL_DOMAIN]


def _paths(rule, world, snapshot: dict) -> list[str]:
    args = sorted(rule.arguments)
    choices = [_candidates(rule, arg, world, snapshot) for arg in args]
    paths = []
    for values in itertools.islice(itertools.product(*choices), 12):
        path = rule.rule
        for arg, value in zip(args, values, strict=True):
            path = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(value), path)
        paths.append(path)
    return paths


def _body(world) -> dict:
    """A body aimed at school B, for every writing route."""
    b = world["b"]
    return {
        "school_urn": b.urn,
        "urn": b.urn,
        "school": b.urn,
        "domain": B_URL_DOMAIN,
        "name": "intruder.org.uk",
        "email": "intruder@alder.example",
        "role": "slt",
        "nominated": "y",
        "password": "intruder-password",
        "local_authority": "Intruded",
        "reason": "intrusion",
        "notes": "intrusion",
        "user": "intruder",
        "changes": [
            {"action": "add", "name": "intruder", "type": "A", "ttl": 300, "values": ["192.0.2.66"]}
        ],
    }


# -- the walk ---------------------------------------------------------------------------


def _as_user(client, user):
    """Each request as this user: fresh session cookie and a new bearer token
    (a walked route may have logged the user out or revoked a token)."""
    token = create_token(user.email)
    g.pop("_login_user", None)  # Flask-Login caches the user on g, which tests share
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True

    def send(method: str, path: str, body: dict | None):
        headers = {"Authorization": f"Bearer {token}"}
        if body is None:
            return client.open(path, method=method, headers=headers)
        if path.startswith("/api/"):
            return client.open(path, method=method, headers=headers, json=body)
        form = {k: v for k, v in body.items() if isinstance(v, str)}
        return client.open(path, method=method, headers=headers, data=form)

    return send


def _walk(app, client, world, user):
    """Yields (method, path, rule, response, changes to B) for every route."""
    b_strings = [world["b"].urn, B_URL_DOMAIN, *B_SECRETS]
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for path in _paths(rule, world, _snapshot()):
                send = _as_user(client, user)
                before = _snapshot()
                response = send(method, path, _body(world) if method in WRITE_METHODS else None)
                changes = _changes_to_b(before, _snapshot(), world["b"].id, b_strings)
                yield method, path, rule, response, changes


def test_contact_of_a_cannot_read_or_change_school_b(app, client, world):
    contact = world["contact_a"]
    failures, walked = [], 0
    for method, path, rule, response, changes in _walk(app, client, world, contact):
        walked += 1
        body = response.get_data(as_text=True)
        where = f"{method} {path}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code}")
        if rule.arguments and not 400 <= response.status_code < 500:
            failures.append(f"{where}: {response.status_code}, expected 403/404 for B's object")
        leaked = [s for s in B_SECRETS if s in body]
        if leaked:
            failures.append(f"{where}: body shows B's {leaked}")
        if changes:
            failures.append(f"{where}: changed B's data {changes}")
    assert not failures, "\n".join(failures)
    assert walked >= 20
    # The walk really ran as A: A's own pages still answer.
    send = _as_user(client, contact)
    assert "Alder Primary" in send("GET", "/portal/", None).get_data(as_text=True)
    assert send("GET", "/api/v1/me", None).get_json()["school_urn"] == "111111"


def test_the_same_walk_sees_b_as_a_technician(app, client, world, make_technician):
    """Control: the substitutions reach B's real data, so the contact's walk means something."""
    tech = make_technician()
    seen, changed = set(), set()
    for method, path, _rule, response, _changes in _walk(app, client, world, tech):
        if method == "GET" and response.status_code == 200:
            body = response.get_data(as_text=True)
            if any(s in body for s in B_SECRETS):
                seen.add(path)
        if method != "GET" and 200 <= response.status_code < 300:
            changed.add(f"{method} {path}")
    for path in ("/admin/schools/222222", "/api/v1/schools/222222", "/api/v1/domains"):
        assert path in seen, sorted(seen)
    # B's hosting account is reached by name (the walk deletes it, as a technician may)
    assert f"DELETE /api/v1/hosting/{B_HOSTING_ACCOUNT}" in changed, sorted(changed)


def test_b_rows_are_found_through_foreign_keys(app, world):
    snapshot = _snapshot()
    owned = _b_rows(snapshot, world["b"].id)
    b_users = {k for k, row in snapshot["users"].items() if row["school_id"] == world["b"].id}
    assert owned["users"] == b_users and len(b_users) == 2
    assert len(owned["domains"]) == 2
    count = db.session.execute(text("SELECT count(*) FROM domains")).scalar()
    assert count == 3
