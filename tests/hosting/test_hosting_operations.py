"""Hosting changes are operations on SLA cases: one case (category hosting) and one
operation (resource hosting:<account>) per change, the runner's lines in the
operation's log, the result on the case. A recording runner stands in for the
playbooks (they run for real in test_hosting_lifecycle.py)."""

from __future__ import annotations

from sqlalchemy import select

import provisioner.hosting.tasks  # noqa: F401 - every worker loads it (load_task_modules)
from provisioner.cases.models import Case
from provisioner.db import db, utcnow
from provisioner.hosting import operations as ops
from provisioner.hosting import servers, services
from provisioner.hosting.models import GIB
from provisioner.jobs import claim as claiming
from provisioner.jobs.embedded import EmbeddedExecutor
from provisioner.jobs.models import Operation
from provisioner.jobs.service import log_lines
from provisioner.registry.services import add_domain


def _op(op_id) -> Operation:
    return db.session.get(Operation, op_id, populate_existing=True)


def _case(reference) -> Case:
    db.session.expire_all()
    return db.session.scalar(select(Case).where(Case.reference == reference))


def _server(tmp_path):
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)


def test_cli_create_is_an_operation_on_a_resolved_hosting_case(
    runner, recording_runner, make_school, tmp_path
):
    _server(tmp_path)
    school = make_school()
    add_domain(school.urn, "stmarys.essex.sch.uk")
    result = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "stmarys.essex.sch.uk"]
    )
    assert result.exit_code == 0, result.output
    assert "is active on h1" in result.output
    # the runner's lines were streamed into the operation's log (and echoed)
    assert "PLAY [account-create.yml] on h1" in result.output

    operation = db.session.scalar(select(Operation).where(Operation.kind == ops.CREATE))
    assert operation.status == "succeeded" and operation.resource_key == "hosting:stmarys"
    assert any("PLAY [account-create.yml]" in line.line for line in log_lines(operation.id))
    case = db.session.get(Case, operation.case_id)
    assert case.category == "hosting" and case.status == "resolved"
    assert case.reference in result.output
    assert any("is active on h1" in e.text for e in case.events)


def test_failed_change_leaves_its_reason_on_the_operation_and_the_open_case(
    runner, recording_runner, make_school, tmp_path
):
    recording_runner.fail["account-create.yml"] = "database: Create database failed: ERROR 1007"
    _server(tmp_path)
    school = make_school()
    add_domain(school.urn, "stmarys.essex.sch.uk")
    result = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "stmarys.essex.sch.uk"]
    )
    assert result.exit_code == 1
    assert "failed at database: Create database failed: ERROR 1007" in result.output

    operation = db.session.scalar(select(Operation).where(Operation.kind == ops.CREATE))
    assert operation.status == "failed" and "Rolled back" in operation.error
    case = db.session.get(Case, operation.case_id)
    assert case.is_open
    assert any("ERROR 1007" in e.text and "Rolled back" in e.text for e in case.events)
    assert services.list_accounts()[0].status == "failed"


def test_one_change_at_a_time_per_account(app, recording_runner, hosted_school):
    _, first = hosted_school("stmarys.essex.sch.uk")
    _, second = hosted_school("oakfield.essex.sch.uk")
    queued = [
        ops.request_ftp_account(first.name, "stmarys.one")[1].id,
        ops.request_ftp_account(first.name, "stmarys.two")[1].id,
        ops.request_ftp_account(second.name, "oakfield.one")[1].id,
    ]
    with db.engine.connect() as conn:
        ready = claiming.claimable_ids(conn, utcnow(), sorted(ops.KINDS))
    # the second change to the first account waits for the first one
    assert sorted(ready) == [queued[0], queued[2]]

    EmbeddedExecutor(app).run_until_idle()
    assert [_op(i).status for i in queued] == ["succeeded"] * 3
    users = [c[2]["ftp_user"] for c in recording_runner.calls if c[0] == "ftp.yml"]
    assert users.index("stmarys.one") < users.index("stmarys.two")


def test_ftp_password_never_reaches_the_database(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    head = make_contact(school, "head@stmarys.example")
    response = api(head).post(
        f"/api/v1/hosting/{account.name}/ftp-accounts", json={"user": "webmaster"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    password = body["password"]

    operation = _op(body["operation"])
    assert operation.status == "succeeded" and password not in repr(operation.payload)
    assert all(password not in line.line for line in log_lines(operation.id))
    case = _case(body["case"])
    assert case.category == "hosting" and case.channel == "api"
    assert case.contact_id == head.id and case.status == "resolved"
    assert all(password not in e.text and password not in repr(e.data) for e in case.events)


def test_ftp_request_whose_password_was_lost_fails_clearly(app, recording_runner, hosted_school):
    _, account = hosted_school("stmarys.essex.sch.uk")
    case, operation, _password = ops.request_ftp_account(account.name, "webmaster")
    op_id, reference = operation.id, case.reference
    ops._SECRETS.clear()  # as if the process that asked had gone before a worker ran it
    calls = len(recording_runner.calls)

    EmbeddedExecutor(app).run_until_idle()
    operation = _op(op_id)
    assert operation.status == "failed" and "please ask again" in operation.error
    assert len(recording_runner.calls) == calls
    case = _case(reference)
    assert case.is_open and any("please ask again" in e.text for e in case.events)
    assert services.get_account(account.name).ftp_accounts == []


def test_refused_change_opens_no_case_and_queues_nothing(recording_runner, hosted_school):
    _, account = hosted_school("stmarys.essex.sch.uk")
    cases_before = db.session.query(Case).count()
    ops_before = db.session.query(Operation).count()
    for call, args in (
        (ops.request_state_change, (account.name, "unsuspend")),
        (ops.request_ftp_account, (account.name, "../etc")),
        (ops.request_subdomain, (account.name, "www")),
    ):
        try:
            call(*args)
        except Exception as exc:  # noqa: BLE001 - each is a ProvisionerError, checked below
            assert getattr(exc, "message", None), exc
        else:
            raise AssertionError(f"{call.__name__}{args} was accepted")
        db.session.rollback()
    assert db.session.query(Case).count() == cases_before
    assert db.session.query(Operation).count() == ops_before


def _stored_text() -> str:
    """Every row of every table, as text: where a leaked secret would be."""
    db.session.expire_all()
    rows = []
    for table in db.metadata.sorted_tables:
        rows.extend(repr(tuple(row)) for row in db.session.execute(table.select()))
    return "\n".join(rows)


def test_cli_create_with_wordpress_prints_the_admin_password_once_and_stores_it_nowhere(
    runner, recording_runner, make_school, tmp_path
):
    _server(tmp_path)
    school = make_school()
    add_domain(school.urn, "stmarys.essex.sch.uk")
    result = runner.invoke(
        [
            "hosting",
            "create",
            "--school",
            school.urn,
            "--domain",
            "stmarys.essex.sch.uk",
            "--wordpress",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "WordPress admin user stmarys-admin" in result.output
    assert "http://stmarys.essex.sch.uk/wp-admin/" in result.output
    password = result.output.split("password (shown once): ")[1].split()[0]
    assert len(password) >= 16 and result.output.count(password) == 1
    assert "finish the install" not in result.output

    # the playbook got it, with the user it creates
    sent = [c[2] for c in recording_runner.calls if c[0] == "account-create.yml"][-1]
    assert sent["wordpress_admin_password"] == password
    assert sent["wordpress_admin_user"] == "stmarys-admin"
    # ...and nothing kept it: not the operation, its log, the case, or any table
    operation = db.session.scalar(select(Operation).where(Operation.kind == ops.CREATE))
    assert operation.status == "succeeded"
    assert all(password not in line.line for line in log_lines(operation.id))
    assert password not in _stored_text()
    assert operation.id not in ops._SECRETS

    # --json gives it too, once, for scripts
    school2 = make_school()
    add_domain(school2.urn, "stjohns.essex.sch.uk")
    result = runner.invoke(
        [
            "hosting",
            "create",
            "--school",
            school2.urn,
            "--domain",
            "stjohns.essex.sch.uk",
            "--wordpress",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    sent = [c[2] for c in recording_runner.calls if c[0] == "account-create.yml"][-1]
    assert f'"wordpress_admin_password": "{sent["wordpress_admin_password"]}"' in result.output


def test_cli_create_without_wordpress_prints_no_password(
    runner, recording_runner, make_school, tmp_path
):
    _server(tmp_path)
    school = make_school()
    add_domain(school.urn, "stmarys.essex.sch.uk")
    result = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "stmarys.essex.sch.uk"]
    )
    assert result.exit_code == 0, result.output
    assert "password" not in result.output
    sent = recording_runner.calls[-1][2]
    assert sent["wordpress"] is False and "wordpress_admin_password" not in sent


def test_wordpress_create_whose_password_was_lost_fails_clearly(
    app, recording_runner, make_school, tmp_path
):
    _server(tmp_path)
    school = make_school()
    add_domain(school.urn, "stmarys.essex.sch.uk")
    _account, case, operation, _password = ops.request_create(
        school_urn=school.urn, domain="stmarys.essex.sch.uk", wordpress=True
    )
    op_id, reference = operation.id, case.reference
    ops._SECRETS.clear()  # as if the process that asked had gone before a worker ran it

    EmbeddedExecutor(app).run_until_idle()
    operation = _op(op_id)
    assert operation.status == "failed" and "ask again" in operation.error
    assert recording_runner.calls == []
    assert _case(reference).is_open


class _CrashingRunner:
    """The worker dies in the middle of the playbook (after the database step)."""

    def __init__(self):
        self.calls = []

    def run(self, playbook, target, variables, *, check=False, on_line=None):
        self.calls.append(dict(variables))
        raise SystemExit("worker killed")


def test_a_retried_create_gives_the_database_the_same_password(
    app, recording_runner, make_school, tmp_path
):
    """A retry after a crash must not hand wp-config.php a new database password:
    the users the first attempt created keep theirs."""
    from types import SimpleNamespace

    _server(tmp_path)
    passwords = []
    for domain in ("stmarys.essex.sch.uk", "oakfield.essex.sch.uk"):
        school = make_school()
        add_domain(school.urn, domain)
        account, _case_, operation, _ = ops.request_create(school_urn=school.urn, domain=domain)
        ctx = SimpleNamespace(
            id=operation.id, kind=ops.CREATE, payload=operation.payload, log=lambda line: None
        )
        crashing = _CrashingRunner()
        app.extensions["hosting_runner"] = crashing
        try:
            ops._perform(ctx)  # the first attempt's process dies mid-playbook
        except SystemExit:
            pass
        assert services.get_account(account.name).status == "provisioning"
        app.extensions["hosting_runner"] = recording_runner
        ops._perform(ctx)  # the retry
        first, retry = (
            crashing.calls[0]["db_password"],
            recording_runner.calls[-1][2]["db_password"],
        )
        assert first == retry and len(first) >= 16
        assert services.get_account(account.name).status == "active"
        passwords.append(first)
        assert first not in repr(services.get_account(account.name).__dict__)
    assert passwords[0] != passwords[1]
