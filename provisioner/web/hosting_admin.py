"""Technicians' hosting pages: new accounts, suspend / unsuspend / delete, servers.

Each change is an operation on a hosting case (hosting/school_changes.py), waited
for like the other hosting changes; the page flashes the case's reference. The
WordPress admin password of a new account is shown once, on the page answering
the POST, never flashed or stored. Contacts get 403 for every route here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from provisioner.errors import Forbidden, ProvisionerError
from provisioner.hosting import access, servers, services
from provisioner.hosting import school_changes as changes
from provisioner.web.guards import require_staff
from provisioner.web.hosting import (
    DeleteAccountForm,
    NewAccountForm,
    account_page_response,
    index_response,
    place_error,
)

hosting_admin = Blueprint("hosting_admin", __name__, url_prefix="/hosting")

_DONE = {"suspend": "suspended", "unsuspend": "unsuspended", "delete": "deleted"}
_DOING = {"suspend": "being suspended", "unsuspend": "being unsuspended", "delete": "being deleted"}


@hosting_admin.before_request
@login_required
def _technicians_only():
    require_staff("Only the provider's technicians manage hosting accounts and servers.")


@hosting_admin.post("/")
def create():
    form = NewAccountForm()
    try:
        account, done = changes.create_account(
            current_user,
            school_urn=form.school_urn.data,
            domain=form.domain.data,
            plan=form.plan.data,
            server=form.server.data,
            wordpress=bool(form.wordpress.data),
        )
    except Forbidden:
        raise
    except ProvisionerError as exc:
        place_error(form, exc)
        return index_response(form, status=exc.status)
    shown = {"done": done, "created": True}
    if account.wordpress:
        shown |= {"user": services.wordpress_admin_user(account), "password": done.password}
    return account_page_response(account, wp_shown=shown, status=201)


def _state_change(name: str, verb: str):
    account = access.account_visible_to(current_user, name)
    account, done = changes.change_state(current_user, account, verb)
    _flash(account, verb, done)
    return redirect(url_for("hosting.account_page", name=account.name))


def _flash(account, verb: str, done) -> None:
    what = _DONE[verb] if done.finished else _DOING[verb]
    flash(f"Hosting account {account.name} {what} (case {done.case_reference}).", "success")


@hosting_admin.post("/<name>/suspend")
def suspend(name: str):
    return _state_change(name, "suspend")


@hosting_admin.post("/<name>/unsuspend")
def unsuspend(name: str):
    return _state_change(name, "unsuspend")


@hosting_admin.post("/<name>/delete")
def delete(name: str):
    account = access.account_visible_to(current_user, name)
    form = DeleteAccountForm()
    try:
        account, done = changes.delete_account(current_user, account, form.confirm.data)
    except Forbidden:
        raise
    except ProvisionerError as exc:
        place_error(form, exc)
        return account_page_response(account, delete_form=form, status=exc.status)
    _flash(account, "delete", done)
    if not done.finished:
        return redirect(url_for("hosting.account_page", name=account.name))
    return redirect(url_for("hosting.index"))


@hosting_admin.get("/servers")
def servers_page():
    return render_template("hosting/servers.html", servers=servers.list_servers())
