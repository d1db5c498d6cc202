"""Hosting accounts and their FTP users (contract.md, /api/v1/hosting)."""

from __future__ import annotations

from flask import current_app, jsonify

from provisioner.errors import ValidationError
from provisioner.hosting import access, services
from provisioner.hosting import validation as v
from provisioner.web.api import api, api_user, json_body


def _runner():
    """The app's PlaybookRunner when one is registered (tests), else ansible-runner."""
    runner = current_app.extensions.get("hosting_runner")
    if runner is None:
        from provisioner.hosting.runner import AnsibleRunner

        runner = AnsibleRunner()
    return runner


def _account_dict(account) -> dict:
    data = account.to_dict()
    data["ftp_accounts"] = [{"user": f.user, "path": f.path} for f in account.ftp_accounts]
    data["subdomains"] = [s.fqdn for s in account.subdomains]
    return data


@api.get("/hosting")
def list_hosting():
    """Hosting accounts: every account for technicians, their school's for contacts."""
    return jsonify([_account_dict(a) for a in access.accounts_visible_to(api_user())])


@api.get("/hosting/<account>")
def get_hosting(account: str):
    """One hosting account with its FTP users and subdomains."""
    return jsonify(_account_dict(access.account_visible_to(api_user(), account)))


@api.post("/hosting/<account>/ftp-accounts")
def create_ftp_account(account: str):
    """Add an FTP user {user, path?}; the password is in the reply, once."""
    user = api_user()
    target = access.account_visible_to(user, account)
    access.check_may_change(user, target)
    body = json_body()
    path = body.get("path", "")
    if path is not None and not isinstance(path, str):
        raise ValidationError("path must be text", fields={"path": "must be text"})
    # checked here too, so bad input is refused before anything else is looked at
    name, path = v.ftp_user(body.get("user")), v.relative_path(path)
    ftp, password = services.add_ftp_account(_runner(), target.name, name, path)
    return jsonify(user=ftp.user, path=ftp.path, password=password), 201
