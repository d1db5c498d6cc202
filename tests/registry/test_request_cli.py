"""`provisioner domain-request list|show|complete` end to end: a technician completes an
approved request from the shell (at once for `manual`, through a waited-for operation for
Route 53 Domains on moto), and every refusal names its problem and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.jobs.models import Operation
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.models import Domain
from provisioner.registry.quotes import set_price

from .test_route53_flow import CONTACT

TECH = "tech@provider.example"
MANUAL = ["--registrar", "manual", "--reference", "NOM-778", "--cost-pence", "500"]


@pytest.fixture
def app_config(registry_app_config):
    return registry_app_config


@pytest.fixture
def requests(app, api, make_school, make_contact, make_technician):
    """Two requests of St Mary's: #1 approved (register), #2 quoted (register)."""
    tech = make_technician(TECH)
    set_price("sch.uk", 1500, 1200, tech)
    school = make_school(urn="115001", name="St Mary's Primary")
    head = make_contact(school, "head@stmarys.example", name="Hana Head")
    ids = []
    for name in ("newschool.essex.sch.uk", "annexe.essex.sch.uk"):
        made = api(head).post("/api/v1/domain-requests", json={"kind": "register", "name": name})
        assert made.status_code == 201, made.json
        ids.append(made.json["id"])
    assert api(head).post(f"/api/v1/domain-requests/{ids[0]}/approve-quote").status_code == 200
    return {"approved": ids[0], "quoted": ids[1], "head": head, "tech": tech}


def zone_files(app) -> list[str]:
    directory = Path(app.config["ZONES_DIRECTORY"])
    return sorted(p.name for p in directory.glob("*")) if directory.exists() else []


def test_list_and_show(runner, requests):
    listed = runner.invoke(["domain-request", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["status"], r["name"]) for r in rows] == [
        (requests["quoted"], "quoted", "annexe.essex.sch.uk"),
        (requests["approved"], "approved", "newschool.essex.sch.uk"),
    ]
    assert rows[1]["approved_by"] == "Hana Head" and rows[1]["price"] == "£15.00"

    text = runner.invoke(["domain-request", "list"]).stdout
    assert f"#{requests['approved']}" in text and "newschool.essex.sch.uk" in text

    shown = runner.invoke(["domain-request", "show", str(requests["approved"]), "--json"])
    data = json.loads(shown.stdout)
    assert (data["name"], data["school"], data["requested_by"], data["status"]) == (
        "newschool.essex.sch.uk",
        "St Mary's Primary",
        "Hana Head",
        "approved",
    )
    human = runner.invoke(["domain-request", "show", str(requests["approved"])]).stdout
    assert "approved - Approved by the school; waiting for a technician" in human
    assert "£15.00 for 1 year(s)" in human and data["case"] in human


def test_complete_manual_registers_resolves_the_case_and_emails_the_school(
    app, runner, requests, smtp_server
):
    rid = requests["approved"]
    args = ["domain-request", "complete", str(rid), *MANUAL, "--expires", "2028-11-29"]
    result = runner.invoke(
        [*args, "--note", "Registered at Nominet", "--technician", TECH, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["status"], data["registrar"], data["registrar_reference"]) == (
        "completed",
        "manual",
        "NOM-778",
    )
    assert (data["new_expiry"], data["cost_pence"]) == ("2028-11-29", 500)
    domain = db.session.scalar(select(Domain).where(Domain.name == "newschool.essex.sch.uk"))
    assert domain.expires_on.isoformat() == "2028-11-29"
    request = db.session.get(RegistrationRequest, rid)
    assert request.completed_by_id == requests["tech"].id
    assert "Registered at Nominet" in request.note
    assert db.session.get(Case, request.case_id).status == "resolved"
    assert "newschool.essex.sch.uk.db" in zone_files(app)
    last = smtp_server.messages[-1]
    assert "is registered until 29 November 2028" in str(last["Subject"])
    assert last["To"] == "head@stmarys.example"

    listed = json.loads(runner.invoke(["domain-request", "list", "--open", "--json"]).stdout)
    assert [r["id"] for r in listed] == [requests["quoted"]]


def test_complete_without_json_says_what_was_done(runner, requests):
    result = runner.invoke(
        [
            "domain-request",
            "complete",
            str(requests["approved"]),
            *MANUAL,
            "--expires",
            "2028-11-29",
            "--technician",
            TECH,
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"#{requests['approved']} newschool.essex.sch.uk registered through manual "
        "(reference NOM-778); it expires on 29 November 2028"
    )


REFUSALS = [
    ("999", MANUAL + ["--expires", "2028-11-29"], TECH, "no domain request #999"),
    ("quoted", MANUAL + ["--expires", "2028-11-29"], TECH, "has not been approved"),
    ("approved", MANUAL + ["--expires", "29/11/2028"], TECH, "is not a date: use YYYY-MM-DD"),
    (
        "approved",
        ["--registrar", "godaddy", "--expires", "2028-11-29"],
        TECH,
        "unknown registrar 'godaddy'",
    ),
    (
        "approved",
        [
            "--registrar",
            "manual",
            "--reference",
            "R",
            "--cost-pence",
            "-5",
            "--expires",
            "2029-01-01",
        ],
        TECH,
        "whole number of pence, 0 or more (--cost-pence)",
    ),
    ("approved", ["--registrar", "manual"], TECH, "(--reference, --cost-pence, --expires)"),
    (
        "approved",
        MANUAL + ["--expires", "2028-11-29"],
        "head@stmarys.example",
        "not an active tech",
    ),
    (
        "approved",
        MANUAL + ["--expires", "2028-11-29"],
        "who@nowhere.example",
        "no technician with email 'who@nowhere.example'",
    ),
    (
        "approved",
        MANUAL + ["--expires", "2028-11-29", "--provider", "nosuch"],
        TECH,
        "nosuch",
    ),
]


@pytest.mark.parametrize(("which", "options", "technician", "problem"), REFUSALS)
def test_a_refusal_names_the_problem_and_changes_nothing(
    app, runner, requests, smtp_server, which, options, technician, problem
):
    rid = str(requests.get(which, which))
    before = {r.id: r.status for r in db.session.scalars(select(RegistrationRequest))}
    sent = len(smtp_server.messages)
    result = runner.invoke(
        ["domain-request", "complete", rid, *options, "--technician", technician, "--json"]
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert problem in result.stderr
    db.session.expire_all()
    assert {r.id: r.status for r in db.session.scalars(select(RegistrationRequest))} == before
    assert db.session.scalar(select(func.count()).select_from(Domain)) == 0
    assert db.session.scalar(select(func.count()).select_from(Operation)) == 0
    assert zone_files(app) == []
    assert len(smtp_server.messages) == sent


def test_the_technician_option_is_required(runner, requests):
    result = runner.invoke(["domain-request", "complete", str(requests["approved"]), *MANUAL])
    assert result.exit_code == 2
    assert "--technician" in result.stderr
    assert db.session.get(RegistrationRequest, requests["approved"]).status == "approved"


def test_show_of_an_unknown_request(runner, requests):
    result = runner.invoke(["domain-request", "show", "42"])
    assert result.exit_code == 1 and "no domain request #42" in result.stderr


# ---------------------------------------------------------------- through an operation


@pytest.fixture
def on_aws(app, moto_domains):
    app.config["ROUTE53DOMAINS_ENDPOINT_URL"] = moto_domains
    app.config["ROUTE53DOMAINS_CONTACT"] = json.dumps(CONTACT)


@pytest.fixture
def dot_com(api, requests):
    set_price("com", 2400, 2400, requests["tech"], years=2)  # moto refuses 1-year terms
    head = requests["head"]
    made = api(head).post(
        "/api/v1/domain-requests", json={"kind": "register", "name": "newschool-academy.com"}
    )
    assert made.status_code == 201, made.json
    assert api(head).post(f"/api/v1/domain-requests/{made.json['id']}/approve-quote").status_code
    return made.json["id"]


def test_route53domains_completion_waits_for_its_operation(
    app, runner, dot_com, on_aws, smtp_server
):
    result = runner.invoke(
        [
            "domain-request",
            "complete",
            str(dot_com),
            "--registrar",
            "route53domains",
            "--cost-pence",
            "2200",
            "--technician",
            TECH,
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["status"], data["registrar"], data["cost_pence"]) == (
        "completed",
        "route53domains",
        2200,
    )
    operation = db.session.get(Operation, data["operation"])
    assert operation.status == "succeeded"
    assert f"operation {operation.id} queued" in result.stderr
    assert "attempt 1 of" in result.stderr  # the operation's log, as it ran
    [told] = [m for m in smtp_server.messages if "is registered until" in str(m["Subject"])]
    assert told["To"] == "head@stmarys.example" and "newschool-academy.com" in told["Subject"]


def test_a_failed_operation_exits_non_zero_and_puts_the_request_back(
    app, runner, dot_com, moto_domains, smtp_server
):
    app.config["ROUTE53DOMAINS_ENDPOINT_URL"] = moto_domains  # no registrant contact set
    result = runner.invoke(
        [
            "domain-request",
            "complete",
            str(dot_com),
            "--registrar",
            "route53domains",
            "--technician",
            TECH,
            "--json",
        ]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "failed: " in result.stderr and "ROUTE53DOMAINS_CONTACT" in result.stderr
    assert f"request #{dot_com} is approved again" in result.stderr
    db.session.expire_all()
    assert db.session.get(RegistrationRequest, dot_com).status == "approved"
    assert db.session.scalar(select(func.count()).select_from(Domain)) == 0
    [told] = [m for m in smtp_server.messages if "is not done yet" in str(m["Subject"])]
    assert told["To"] == "head@stmarys.example"
