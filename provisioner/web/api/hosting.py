"""Hosting accounts and their FTP users (contract.md, /api/v1/hosting)."""

from __future__ import annotations

from flask import jsonify

from provisioner.errors import ValidationError
from provisioner.hosting import access
from provisioner.hosting import operations as ops
from provisioner.hosting import validation as v
from provisioner.jobs.models import SUCCEEDED
from provisioner.web.api import api, api_user, json_body

# How long a request waits for its FTP user before answering 202 (still running).
WAIT_SECONDS = 60


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
    name, path = v.ftp_user(body.get("user")), v.relative_path(path)
    case, operation, password = ops.request_ftp_account(
        target.name, name, path, actor=user, channel="api"
    )
    reference = case.reference
    operation = ops.run_and_wait(operation.id, timeout=WAIT_SECONDS)
    ops.raise_if_failed(operation)
    data = {
        "user": name,
        "path": path,
        "password": password,
        "case": reference,
        "operation": operation.id,
        "status": "created" if operation.status == SUCCEEDED else "pending",
    }
    # not finished in time: the worker of this process finishes it with the password
    return jsonify(data), 201 if operation.status == SUCCEEDED else 202
