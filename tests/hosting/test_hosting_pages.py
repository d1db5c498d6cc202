"""The hosting pages (issue 8, "School access"): nominated contacts and technicians
change, other contacts see but cannot change, other schools' accounts are 404.
A recording runner stands in for the playbooks (they run for real in
test_hosting_lifecycle.py); the subdomain's DNS request is checked against a real
BIND zone."""

from __future__ import annotations

from provisioner.db import db


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_nominated_contact_sees_the_account_page(
    client, login, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    account.used_bytes = 2 * 1024**3
    db.session.commit()
    login(make_contact(school, "head@stmarys.example"))

    page = _text(client.get(f"/hosting/{account.name}"))
    assert "stmarys.essex.sch.uk" in page and "active" in page
    assert 'max="5368709120"' in page and 'value="2147483648"' in page
    assert "2.00 GB of 5.0 GB used" in page and "(40%" in page
    assert "You can see this account but not change it" not in page
    assert "disabled" not in page
    assert ">Hosting</a>" in _text(client.get("/hosting/"))


def test_wordpress_admin_address_is_shown(
    client, login, recording_runner, hosted_school, make_technician
):
    _, account = hosted_school("stmarys.essex.sch.uk")
    account.wordpress = True
    db.session.commit()
    login(make_technician())
    page = _text(client.get(f"/hosting/{account.name}"))
    assert "/wp-admin/" in page and "stmarys.essex.sch.uk/wp-admin/" in page


def test_technician_sees_every_account_and_adds_ftp_users(
    client, login, recording_runner, hosted_school, make_technician
):
    _, account_a = hosted_school("stmarys.essex.sch.uk")
    _, account_b = hosted_school("oakfield.essex.sch.uk")
    login(make_technician())
    listing = _text(client.get("/hosting/"))
    assert account_a.name in listing and account_b.name in listing
    response = client.post(f"/hosting/{account_b.name}/ftp", data={"user": "webmaster"})
    assert response.status_code == 201
    assert recording_runner.calls[-1][2]["ftp_user"] == "webmaster"


def test_another_schools_account_is_not_found(
    client, login, recording_runner, hosted_school, make_contact
):
    school_a, _ = hosted_school("stmarys.essex.sch.uk")
    _, account_b = hosted_school("oakfield.essex.sch.uk")
    login(make_contact(school_a, "head@stmarys.example"))
    calls = len(recording_runner.calls)

    assert client.get(f"/hosting/{account_b.name}").status_code == 404
    assert (
        client.post(f"/hosting/{account_b.name}/ftp", data={"user": "x-intruder"}).status_code
        == 404
    )
    assert account_b.name not in _text(client.get("/hosting/"))
    assert len(recording_runner.calls) == calls


def test_contact_who_is_not_nominated_sees_disabled_forms_and_is_refused(
    client, login, recording_runner, hosted_school, make_contact
):
    from provisioner.hosting.models import FtpAccount, Subdomain

    school, account = hosted_school("stmarys.essex.sch.uk")
    make_contact(school, "head@stmarys.example", name="Ann Head")
    login(make_contact(school, "office@stmarys.example", nominated=False, role="office"))
    calls = len(recording_runner.calls)

    page = _text(client.get(f"/hosting/{account.name}"))
    assert "You can see this account but not change it" in page and "Ann Head" in page
    assert page.count("<fieldset disabled") == 2

    response = client.post(f"/hosting/{account.name}/ftp", data={"user": "clerk"})
    assert response.status_code == 403 and "Ann Head" in _text(response)
    response = client.post(f"/hosting/{account.name}/subdomains", data={"label": "events"})
    assert response.status_code == 403
    db.session.add(FtpAccount(account=account, user="webmaster", path=""))
    db.session.commit()
    assert client.post(f"/hosting/{account.name}/ftp/webmaster/reset").status_code == 403
    assert client.post(f"/hosting/{account.name}/ftp/webmaster/delete").status_code == 403
    assert len(recording_runner.calls) == calls
    assert [f.user for f in db.session.query(FtpAccount)] == ["webmaster"]
    assert db.session.query(Subdomain).count() == 0


def test_ftp_password_is_shown_once(client, login, recording_runner, hosted_school, make_contact):
    school, account = hosted_school("stmarys.essex.sch.uk")
    login(make_contact(school, "head@stmarys.example"))

    response = client.post(
        f"/hosting/{account.name}/ftp", data={"user": "stmarys.web", "path": "public_html"}
    )
    assert response.status_code == 201, _text(response)
    password = recording_runner.calls[-1][2]["ftp_password"]
    assert len(password) >= 16 and password in _text(response)

    again = _text(client.get(f"/hosting/{account.name}"))
    assert "stmarys.web" in again and password not in again

    # reset: a new password, shown once too
    response = client.post(f"/hosting/{account.name}/ftp/stmarys.web/reset")
    playbook, _, sent = recording_runner.calls[-1]
    assert playbook == "ftp.yml" and sent["ftp_password_reset"] is True
    assert sent["ftp_password"] != password and sent["ftp_password"] in _text(response)
    assert sent["ftp_password"] not in _text(client.get(f"/hosting/{account.name}"))

    # delete: gone from the page, removed on the server
    response = client.post(f"/hosting/{account.name}/ftp/stmarys.web/delete")
    assert response.status_code == 302
    assert recording_runner.calls[-1][2]["ftp_state"] == "absent"
    assert "FTP user stmarys.web deleted" in _text(client.get(f"/hosting/{account.name}"))
    assert "stmarys.web" not in _text(client.get(f"/hosting/{account.name}"))


def test_bad_ftp_user_name_is_named_and_changes_nothing(
    client, login, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    login(make_contact(school, "head@stmarys.example"))
    calls = len(recording_runner.calls)
    response = client.post(f"/hosting/{account.name}/ftp", data={"user": "a;rm -rf"})
    assert response.status_code == 422 and "FTP user" in _text(response)
    assert len(recording_runner.calls) == calls


def test_adding_a_subdomain_files_a_dns_request(
    client, login, recording_runner, zoned_account, make_contact
):
    from provisioner.dns_requests.models import DnsChangeRequest

    school, account = zoned_account
    head = make_contact(school, f"head@{account.domain}", name="Sam Head")
    login(head)

    response = client.post(f"/hosting/{account.name}/subdomains", data={"label": "events"})
    assert response.status_code == 302, _text(response)
    playbook, _, sent = recording_runner.calls[-1]
    assert playbook == "subdomain.yml" and sent["subdomain"] == "events"

    request = db.session.query(DnsChangeRequest).one()
    assert request.requester_id == head.id and request.channel == "portal"
    assert request.domain.name == account.domain and request.status == "submitted"
    assert request.changes == [
        {"action": "add", "name": "events", "type": "CNAME", "values": [f"{account.domain}."]}
    ]
    page = _text(client.get(f"/hosting/{account.name}", follow_redirects=True))
    assert f"events.{account.domain}" in page


def test_technician_files_the_subdomain_request_for_a_nominated_contact(
    client, login, recording_runner, zoned_account, make_contact, make_technician
):
    from provisioner.dns_requests.models import DnsChangeRequest

    school, account = zoned_account
    head = make_contact(school, f"head@{account.domain}", name="Sam Head")
    tech = make_technician()
    login(tech)
    response = client.post(f"/hosting/{account.name}/subdomains", data={"label": "shop"})
    assert response.status_code == 302, _text(response)
    request = db.session.query(DnsChangeRequest).one()
    assert request.requester_id == head.id and request.logged_by_id == tech.id
    assert request.channel == "phone"


def test_a_subdomain_the_zone_refuses_is_not_made(
    client, login, recording_runner, zoned_account, make_contact
):
    from provisioner.dns_requests.models import DnsChangeRequest
    from provisioner.hosting.models import Subdomain

    school, account = zoned_account
    login(make_contact(school, f"head@{account.domain}"))
    calls = len(recording_runner.calls)
    # `taken` already has an A record: a CNAME beside it is refused by the DNS checks
    response = client.post(f"/hosting/{account.name}/subdomains", data={"label": "taken"})
    assert response.status_code == 422
    assert f"The DNS record for taken.{account.domain} cannot be requested" in _text(response)
    assert "a CNAME must be alone at its name" in _text(response)
    assert len(recording_runner.calls) == calls
    assert db.session.query(DnsChangeRequest).count() == 0
    assert db.session.query(Subdomain).count() == 0


def test_change_forms_carry_a_csrf_token_and_posts_without_one_are_refused(
    app, client, login, recording_runner, hosted_school, make_contact
):
    school, account = hosted_school("stmarys.essex.sch.uk")
    login(make_contact(school, "head@stmarys.example"))
    app.config["WTF_CSRF_ENABLED"] = True
    calls = len(recording_runner.calls)

    page = _text(client.get(f"/hosting/{account.name}"))
    assert page.count('name="csrf_token"') >= 2
    response = client.post(f"/hosting/{account.name}/ftp", data={"user": "stmarys.web"})
    assert response.status_code == 400 and "Reload the page" in _text(response)
    assert len(recording_runner.calls) == calls
