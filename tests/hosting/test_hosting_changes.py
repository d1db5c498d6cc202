"""FTP password resets, FTP user deletion and subdomains through the CLI and the API
(contract.md, extended), and the technician's choice of contact for a subdomain's
DNS request. A recording runner stands in for the playbooks (they run for real in
test_hosting_lifecycle.py); subdomain DNS requests are checked against a real BIND."""

from __future__ import annotations

import json

from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.dns_requests.models import DnsChangeRequest
from provisioner.hosting.models import FtpAccount, Subdomain


def _ftp_users(account_name: str) -> list[str]:
    return [f.user for f in db.session.query(FtpAccount).order_by(FtpAccount.user)]


def test_cli_lists_resets_and_deletes_ftp_users(runner, recording_runner, hosted_school):
    _, account = hosted_school("stmarys.essex.sch.uk")
    added = runner.invoke(["hosting", "ftp", "add", account.name, "--user", "stmarys.web"])
    assert added.exit_code == 0, added.output
    first = added.output.split("password (shown once): ")[1].strip()

    listed = runner.invoke(["hosting", "ftp", "list", account.name, "--json"])
    assert json.loads(listed.stdout) == [{"user": "stmarys.web", "path": ""}]

    reset = runner.invoke(["hosting", "ftp", "reset", account.name, "stmarys.web", "--json"])
    assert reset.exit_code == 0, reset.output
    body = json.loads(reset.stdout)
    assert body["password"] != first and len(body["password"]) >= 16
    playbook, _, sent = recording_runner.calls[-1]
    assert playbook == "ftp.yml" and sent["ftp_password_reset"] is True
    assert sent["ftp_password"] == body["password"]
    case = db.session.query(Case).filter_by(reference=body["case"]).one()
    assert case.status == "resolved" and "Reset the password" in case.subject

    deleted = runner.invoke(["hosting", "ftp", "delete", account.name, "stmarys.web"])
    assert deleted.exit_code == 0 and "FTP user stmarys.web deleted" in deleted.output
    assert recording_runner.calls[-1][2]["ftp_state"] == "absent"
    assert "has no FTP users" in runner.invoke(["hosting", "ftp", "list", account.name]).output


def test_cli_refuses_an_unknown_ftp_user_and_runs_nothing(runner, recording_runner, hosted_school):
    _, account = hosted_school("stmarys.essex.sch.uk")
    calls, cases = len(recording_runner.calls), db.session.query(Case).count()
    for verb in ("reset", "delete"):
        result = runner.invoke(["hosting", "ftp", verb, account.name, "nobody"])
        assert result.exit_code == 1
        assert f"Account {account.name} has no FTP user named 'nobody'" in result.output
    assert len(recording_runner.calls) == calls and db.session.query(Case).count() == cases


def test_api_resets_and_deletes_an_ftp_user_for_a_nominated_contact(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    head = api(make_contact(school, "head@stmarys.example"))
    url = f"/api/v1/hosting/{account.name}/ftp-accounts"
    first = head.post(url, json={"user": "stmarys.web"}).get_json()["password"]

    response = head.post(f"{url}/stmarys.web/password")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"] == "stmarys.web" and body["change"] == "done"
    assert (
        body["password"] != first
        and recording_runner.calls[-1][2]["ftp_password"] == (body["password"])
    )
    assert body["password"] not in head.get(f"/api/v1/hosting/{account.name}").get_data(
        as_text=True
    )

    response = head.delete(f"{url}/stmarys.web")
    assert response.status_code == 200 and response.get_json()["user"] == "stmarys.web"
    assert head.get(f"/api/v1/hosting/{account.name}").get_json()["ftp_accounts"] == []


def test_api_ftp_changes_are_refused_to_others_and_change_nothing(
    api, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    other_school, _ = hosted_school("oakfield.essex.sch.uk")
    api(make_contact(school, "head@stmarys.example")).post(
        f"/api/v1/hosting/{account.name}/ftp-accounts", json={"user": "stmarys.web"}
    )
    url = f"/api/v1/hosting/{account.name}/ftp-accounts/stmarys.web"
    calls = len(recording_runner.calls)

    bursar = api(make_contact(school, "bursar@stmarys.example", nominated=False))
    response = bursar.post(f"{url}/password")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_nominated"
    assert "Head" in response.get_json()["error"]["message"]
    assert bursar.delete(url).status_code == 403

    stranger = api(make_contact(other_school, "head@oakfield.example"))
    assert stranger.post(f"{url}/password").status_code == 404
    assert stranger.delete(url).status_code == 404

    head = api(school.nominated_contacts[0])
    missing = head.delete(f"/api/v1/hosting/{account.name}/ftp-accounts/nobody")
    assert (
        missing.status_code == 404
        and "no FTP user named 'nobody'" in (missing.get_json()["error"]["message"])
    )
    assert len(recording_runner.calls) == calls
    assert _ftp_users(account.name) == ["stmarys.web"]


def test_api_subdomain_files_its_dns_request_for_the_contact(
    api, recording_runner, zoned_account, make_contact
):
    school, account = zoned_account
    head = make_contact(school, f"head@{account.domain}", name="Sam Head")

    response = api(head).post(
        f"/api/v1/hosting/{account.name}/subdomains", json={"label": "Events"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["subdomain"] == f"events.{account.domain}"
    request = db.session.get(DnsChangeRequest, body["dns_request"])
    assert request.requester_id == head.id and request.channel == "api"
    assert request.changes[0]["type"] == "CNAME" and request.status == "submitted"
    assert recording_runner.calls[-1][2]["subdomain"] == "events"


def test_technician_names_which_nominated_contact_the_dns_request_is_for(
    api, recording_runner, zoned_account, make_contact, make_technician
):
    school, account = zoned_account
    head = make_contact(school, f"head@{account.domain}", name="Sam Head")
    bursar = make_contact(school, f"bursar@{account.domain}", name="Bo Bursar")
    make_contact(school, f"teacher@{account.domain}", nominated=False)
    tech_user = make_technician()
    tech = api(tech_user)
    url = f"/api/v1/hosting/{account.name}/subdomains"
    calls = len(recording_runner.calls)

    # a contact who is not nominated cannot be named: refused, naming who can
    response = tech.post(url, json={"label": "shop", "contact": f"teacher@{account.domain}"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"] == {"contact": "not a nominated contact"}
    assert f"bursar@{account.domain}" in error["message"]
    assert len(recording_runner.calls) == calls
    assert db.session.query(DnsChangeRequest).count() == 0
    assert db.session.query(Subdomain).count() == 0

    response = tech.post(url, json={"label": "shop", "contact": f"Head@{account.domain}"})
    assert response.status_code == 201, response.get_json()
    request = db.session.get(DnsChangeRequest, response.get_json()["dns_request"])
    assert request.requester_id == head.id and request.logged_by_id == tech_user.id
    assert request.channel == "phone"

    # none named: the school's first nominated contact, by name (as the page lists them)
    response = tech.post(url, json={"label": "news"})
    assert response.status_code == 201, response.get_json()
    request = db.session.get(DnsChangeRequest, response.get_json()["dns_request"])
    assert request.requester_id == bursar.id


def test_subdomain_of_a_school_without_nominated_contacts_is_made_and_says_so(
    api, recording_runner, zoned_account, make_technician
):
    _, account = zoned_account
    response = api(make_technician()).post(
        f"/api/v1/hosting/{account.name}/subdomains", json={"label": "shop"}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["dns_request"] is None
    assert "has no nominated contact" in body["dns_request_note"]
    assert "make its record yourself" in body["dns_request_note"]
    assert db.session.query(DnsChangeRequest).count() == 0
    assert [s.fqdn for s in db.session.query(Subdomain)] == [f"shop.{account.domain}"]


def test_cli_subdomain_files_its_dns_request(runner, recording_runner, zoned_account, make_contact):
    school, account = zoned_account
    make_contact(school, f"head@{account.domain}")
    bursar = make_contact(school, f"bursar@{account.domain}")

    refused = runner.invoke(
        ["hosting", "subdomain", "add", account.name, "intranet", "--contact", "x@y.example"]
    )
    assert refused.exit_code == 1 and "x@y.example is not a nominated contact" in refused.output
    assert db.session.query(Subdomain).count() == 0

    result = runner.invoke(
        [
            "hosting",
            "subdomain",
            "add",
            account.name,
            "intranet",
            "--contact",
            bursar.email,
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["subdomain"] == f"intranet.{account.domain}"
    request = db.session.get(DnsChangeRequest, body["dns_request"])
    assert request.requester_id == bursar.id and request.channel == "system"
    assert [s.fqdn for s in db.session.query(Subdomain)] == [f"intranet.{account.domain}"]


def test_technician_chooses_the_contact_on_the_page(
    client, login, recording_runner, zoned_account, make_contact, make_technician
):
    school, account = zoned_account
    make_contact(school, f"head@{account.domain}", name="Sam Head")
    bursar = make_contact(school, f"bursar@{account.domain}", name="Bo Bursar")
    login(make_technician())

    page = client.get(f"/hosting/{account.name}").get_data(as_text=True)
    assert "File its DNS request for" in page
    assert f"Bo Bursar (bursar@{account.domain})" in page

    response = client.post(
        f"/hosting/{account.name}/subdomains", data={"label": "news", "contact": bursar.email}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.query(DnsChangeRequest).one().requester_id == bursar.id


def test_contacts_do_not_see_the_contact_chooser(
    client, login, recording_runner, zoned_account, make_contact
):
    school, account = zoned_account
    login(make_contact(school, f"head@{account.domain}"))
    assert "File its DNS request for" not in client.get(f"/hosting/{account.name}").get_data(
        as_text=True
    )


def test_cli_shows_the_log_of_a_change_that_failed(runner, recording_runner, hosted_school):
    _, account = hosted_school("stmarys.essex.sch.uk")
    recording_runner.fail["ftp.yml"] = "ftp: Rebuild the FTP user database failed: disk full"
    result = runner.invoke(["hosting", "ftp", "add", account.name, "--user", "stmarys.web"])
    assert result.exit_code == 1
    # the playbook's own lines (stderr) and then the reason
    assert "fatal: [h1]: FAILED! ftp: Rebuild the FTP user database failed" in result.stderr
    assert "error: ftp.yml failed: ftp: Rebuild the FTP user database failed" in result.stderr
    assert db.session.query(FtpAccount).count() == 0


def test_a_change_still_queued_after_the_wait_answers_202_and_is_done_later(
    app, api, recording_runner, hosted_school, make_contact
):
    """The account's earlier change is still queued (one change at a time per
    account), so this one cannot run within the wait: 202 `pending`, with the
    password, which the worker then sets."""
    from provisioner.hosting import operations as ops
    from provisioner.jobs.embedded import EmbeddedExecutor

    school, account = hosted_school("stmarys.essex.sch.uk")
    head = api(make_contact(school, "head@stmarys.example"))
    ops.request_ftp_account(account.name, "stmarys.first")  # queued, not run yet
    app.config["HOSTING_WAIT_SECONDS"] = 0.3

    response = head.post(
        f"/api/v1/hosting/{account.name}/ftp-accounts", json={"user": "stmarys.second"}
    )
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["change"] == "pending" and len(body["password"]) >= 16
    assert "stmarys.second" not in _ftp_users(account.name)

    EmbeddedExecutor(app).run_until_idle()
    db.session.expire_all()
    assert _ftp_users(account.name) == ["stmarys.first", "stmarys.second"]
    second = [c[2] for c in recording_runner.calls if c[2].get("ftp_user") == "stmarys.second"]
    assert second[0]["ftp_password"] == body["password"]
