"""Hosting services and CLI: placement, one account per school per plan, refusals,
recorded failures. The playbooks themselves run for real in
test_hosting_lifecycle.py; here a recording PlaybookRunner stands in for them so the
rules can be checked in milliseconds."""

from __future__ import annotations

import pytest

from provisioner.db import db
from provisioner.errors import Conflict, NotFound, ValidationError
from provisioner.hosting import servers, services, sites
from provisioner.hosting.models import GIB, HostingAccount
from provisioner.registry.services import add_domain
from tests.hosting.conftest import RecordingRunner


@pytest.fixture
def school_with_domain(make_school):
    def make(domain):
        school = make_school()
        add_domain(school.urn, domain)
        return school

    return make


def test_new_accounts_go_to_the_server_with_most_free_capacity(
    runner, recording_runner, school_with_domain, tmp_path
):
    for name, capacity in (("small", 12 * GIB), ("big", 20 * GIB)):
        result = runner.invoke(
            [
                "hosting",
                "server",
                "add",
                name,
                "--connection",
                "local",
                "--root",
                str(tmp_path / name),
                "--capacity",
                str(capacity),
            ]
        )
        assert result.exit_code == 0, result.output
    placed = []
    for i in range(3):
        school = school_with_domain(f"school{i}.essex.sch.uk")
        result = runner.invoke(
            ["hosting", "create", "--school", school.urn, "--domain", f"school{i}.essex.sch.uk"]
        )
        assert result.exit_code == 0, result.output
        placed.append(result.output.split(" on ")[-1].strip())
    # big: 20 -> 15 -> 10 free; small keeps 12, so the third goes to small
    assert placed == ["big", "big", "small"]
    assert [c[1] for c in recording_runner.calls] == ["big", "big", "small"]


def test_one_account_per_school_per_plan(recording_runner, school_with_domain, tmp_path):
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)
    school = school_with_domain("stmarys.essex.sch.uk")
    first = services.create_account(
        recording_runner, school_urn=school.urn, domain="stmarys.essex.sch.uk"
    )
    assert first.status == "active" and first.quota_bytes == 5_368_709_120
    with pytest.raises(Conflict, match="already has a standard hosting account"):
        services.create_account(
            recording_runner, school_urn=school.urn, domain="stmarys.essex.sch.uk"
        )
    assert len(recording_runner.calls) == 1


def test_failed_creation_is_recorded_with_its_reason(school_with_domain, tmp_path, runner, app):
    recorder = RecordingRunner(fail={"account-create.yml": "database: Create failed: ERROR 2002"})
    app.extensions["hosting_runner"] = recorder
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)
    school = school_with_domain("stmarys.essex.sch.uk")
    result = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "stmarys.essex.sch.uk"]
    )
    assert result.exit_code == 1
    assert "failed at database: Create failed: ERROR 2002" in result.output
    assert "Rolled back" in result.output
    account = services.list_accounts()[0]
    assert account.status == "failed" and "ERROR 2002" in account.failure_reason
    assert [c[0] for c in recorder.calls] == ["account-create.yml", "delete.yml"]
    # a failed account does not block a new attempt: the same account is tried again
    app.extensions["hosting_runner"] = RecordingRunner()
    result = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "stmarys.essex.sch.uk"]
    )
    assert result.exit_code == 0, result.output
    assert "account stmarys (stmarys.essex.sch.uk) is active" in result.output
    db.session.expire_all()  # the CLI committed through its own session
    [account] = HostingAccount.query.all()
    assert account.status == "active" and account.failure_reason is None


def test_bad_input_is_refused_and_nothing_runs(recording_runner, school_with_domain, tmp_path):
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)
    school = school_with_domain("stmarys.essex.sch.uk")
    with pytest.raises(ValidationError, match="not one of .* domains"):
        services.create_account(recording_runner, school_urn=school.urn, domain="elsewhere.sch.uk")
    with pytest.raises(ValidationError, match="Unknown plan"):
        services.create_account(
            recording_runner, school_urn=school.urn, domain="stmarys.essex.sch.uk", plan="gold"
        )
    assert recording_runner.calls == [] and services.list_accounts() == []

    account = services.create_account(
        recording_runner, school_urn=school.urn, domain="stmarys.essex.sch.uk"
    )
    recording_runner.calls.clear()
    with pytest.raises(ValidationError, match="may not contain '..'"):
        sites.add_ftp_account(recording_runner, account.name, "webmaster", "../../etc")
    with pytest.raises(ValidationError, match="not allowed"):
        sites.add_ftp_account(recording_runner, account.name, "web;master")
    with pytest.raises(ValidationError, match="reserved"):
        sites.add_subdomain(recording_runner, account.name, "www")
    with pytest.raises(ValidationError, match="single label"):
        sites.add_subdomain(recording_runner, account.name, "a.b")
    assert recording_runner.calls == []
    assert account.ftp_accounts == [] and account.subdomains == []


def test_ftp_password_shown_once_and_lifecycle_commands(
    runner, recording_runner, school_with_domain, tmp_path
):
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)
    school = school_with_domain("stmarys.essex.sch.uk")
    assert (
        runner.invoke(
            [
                "hosting",
                "create",
                "--school",
                school.urn,
                "--domain",
                "stmarys.essex.sch.uk",
                "--wordpress",
            ]
        ).exit_code
        == 0
    )
    name = services.list_accounts()[0].name
    assert name == "stmarys"

    result = runner.invoke(
        ["hosting", "ftp", "add", name, "--user", "stmarys.web", "--path", "public_html"]
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("password (shown once): ")[1].strip()
    sent = recording_runner.calls[-1][2]
    assert sent["ftp_password"] == password and sent["ftp_path"] == "public_html"
    assert password not in repr(HostingAccount.query.one().ftp_accounts[0].__dict__)

    assert "is suspended" in runner.invoke(["hosting", "suspend", name]).output
    result = runner.invoke(["hosting", "ftp", "add", name, "--user", "stmarys.two"])
    assert result.exit_code == 1 and "needs an active account" in result.output
    assert "is active" in runner.invoke(["hosting", "unsuspend", name]).output
    assert "123456 of 5368709120" in runner.invoke(["hosting", "usage", name]).output
    assert "is deleted" in runner.invoke(["hosting", "delete", name]).output
    assert services.list_accounts() == []
    with pytest.raises(NotFound):
        services.get_account(name)


def test_wordpress_account_needs_its_admin_password_and_gets_it_to_the_playbook(
    recording_runner, school_with_domain, tmp_path
):
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)
    school = school_with_domain("stmarys.essex.sch.uk")
    with pytest.raises(ValidationError, match="admin password"):
        services.create_account(
            recording_runner, school_urn=school.urn, domain="stmarys.essex.sch.uk", wordpress=True
        )
    assert recording_runner.calls == [] and services.list_accounts() == []

    password = services.new_secret()
    account = services.create_account(
        recording_runner,
        school_urn=school.urn,
        domain="stmarys.essex.sch.uk",
        wordpress=True,
        wordpress_admin_password=password,
    )
    sent = recording_runner.calls[-1][2]
    assert sent["wordpress_admin_password"] == password
    assert sent["wordpress_admin_user"] == "stmarys-admin"
    assert sent["wordpress_title"] == school.name
    assert account.status == "active"
    assert password not in repr(HostingAccount.query.one().__dict__)


def test_an_account_is_never_named_like_a_hosting_page(
    recording_runner, school_with_domain, tmp_path
):
    """/hosting/servers is the servers page: a school at servers.example.org gets servers2."""
    servers.add_server("h1", connection="local", root=str(tmp_path), capacity_bytes=50 * GIB)
    school = school_with_domain("servers.example.org")
    account = services.create_account(
        recording_runner, school_urn=school.urn, domain="servers.example.org"
    )
    assert account.name == "servers2"
