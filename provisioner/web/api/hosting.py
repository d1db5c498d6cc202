"""Hosting accounts, their FTP users and subdomains (contract.md, /api/v1/hosting).

Changes answer 201/200 when they finished within the wait, 202 (`status: pending`)
when the worker of this process is still on them; a password is in the reply once.
Technicians also create, suspend, unsuspend and delete accounts and list the
servers; contacts are refused those with 403 `forbidden`.
"""

from __future__ import annotations

from flask import jsonify

from provisioner.errors import ValidationError
from provisioner.hosting import access, servers, services
from provisioner.hosting import school_changes as changes
from provisioner.hosting import validation as v
from provisioner.web.api import api, api_user, json_body, require_staff


def _account_dict(account) -> dict:
    data = account.to_dict()
    data["ftp_accounts"] = [{"user": f.user, "path": f.path} for f in account.ftp_accounts]
    data["subdomains"] = [s.fqdn for s in account.subdomains]
    return data


def _optional_text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{name} must be text", fields={name: "must be text"})
    return value


def _answer(done, data: dict, finished_status: int = 200):
    data |= {
        "case": done.case_reference,
        "operation": done.operation_id,
        # "change", not "status": an account's reply keeps its own status
        "change": "done" if done.finished else "pending",
    }
    return jsonify(data), finished_status if done.finished else 202


@api.get("/hosting")
def list_hosting():
    """Hosting accounts: every account for technicians, their school's for contacts."""
    return jsonify([_account_dict(a) for a in access.accounts_visible_to(api_user())])


@api.post("/hosting")
def create_hosting():
    """Create an account {school_urn, domain, plan?, server?, wordpress?} (technicians);
    a WordPress account's admin user and password are in the reply, once."""
    user = require_staff()
    body = json_body()
    account, done = changes.create_account(
        user,
        school_urn=body.get("school_urn"),
        domain=body.get("domain"),
        plan=body.get("plan"),
        server=body.get("server"),
        wordpress=body.get("wordpress", False),
        channel="api",
    )
    data = _account_dict(account)
    if account.wordpress:
        data |= {
            "wordpress_admin_user": services.wordpress_admin_user(account),
            "wordpress_admin_password": done.password,
        }
    return _answer(done, data, 201)


@api.get("/hosting/servers")
def list_hosting_servers():
    """Hosting servers with their capacity and free bytes (technicians)."""
    require_staff()
    return jsonify([s.to_dict() for s in servers.list_servers()])


def _change_state(account: str, verb: str):
    user = require_staff()
    target = access.account_visible_to(user, account)
    target, done = changes.change_state(user, target, verb, channel="api")
    return _answer(done, _account_dict(target))


@api.post("/hosting/<account>/suspend")
def suspend_hosting(account: str):
    """Suspend an active account (technicians)."""
    return _change_state(account, "suspend")


@api.post("/hosting/<account>/unsuspend")
def unsuspend_hosting(account: str):
    """Unsuspend a suspended account (technicians)."""
    return _change_state(account, "unsuspend")


@api.delete("/hosting/<account>")
def delete_hosting(account: str):
    """Delete an account with its files, FTP users and subdomains (technicians)."""
    return _change_state(account, "delete")


@api.get("/hosting/<account>")
def get_hosting(account: str):
    """One hosting account with its FTP users and subdomains."""
    return jsonify(_account_dict(access.account_visible_to(api_user(), account)))


@api.post("/hosting/<account>/ftp-accounts")
def create_ftp_account(account: str):
    """Add an FTP user {user, path?}; the password is in the reply, once."""
    user = api_user()
    target = access.account_visible_to(user, account)
    body = json_body()
    # the validators name what is wrong with them, types included
    name, path = body.get("user"), body.get("path", "")
    done = changes.add_ftp_user(user, target, name, path, channel="api")
    data = {"user": v.ftp_user(name), "path": v.relative_path(path), "password": done.password}
    return _answer(done, data, 201)


@api.post("/hosting/<account>/ftp-accounts/<ftp_user>/password")
def reset_ftp_password(account: str, ftp_user: str):
    """Give an FTP user a new password; the password is in the reply, once."""
    user = api_user()
    target = access.account_visible_to(user, account)
    done = changes.reset_ftp_password(user, target, ftp_user, channel="api")
    return _answer(done, {"user": ftp_user, "password": done.password})


@api.delete("/hosting/<account>/ftp-accounts/<ftp_user>")
def delete_ftp_account(account: str, ftp_user: str):
    """Delete an FTP user (the files it uploaded stay in the account)."""
    user = api_user()
    target = access.account_visible_to(user, account)
    done = changes.delete_ftp_user(user, target, ftp_user, channel="api")
    return _answer(done, {"user": ftp_user})


@api.post("/hosting/<account>/subdomains")
def create_subdomain(account: str):
    """Add a subdomain {label, contact?}; its DNS record is filed as a DNS change
    request (for the asking contact; a technician names the nominated contact in
    `contact` when the school has several)."""
    user = api_user()
    target = access.account_visible_to(user, account)
    body = json_body()
    label, contact = body.get("label"), _optional_text(body, "contact")
    done = changes.add_subdomain(user, target, label, contact=contact, channel="api")
    request = done.dns_request
    data = {
        "subdomain": f"{v.subdomain_label(label)}.{target.domain}",
        "dns_request": request.id if request else None,
        "dns_request_note": changes.dns_request_note(done, target),
    }
    return _answer(done, data, 201)
