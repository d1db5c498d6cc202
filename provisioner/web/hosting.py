"""Hosting pages: a school's account, usage, FTP users, subdomains (issue 8, item 6).

Technicians see and change every account; contacts see their own school's (another
school's is 404). Only nominated contacts change: the others see every form
disabled with the names of those who may, and their POSTs are refused (403).
A new FTP password is shown once, on the page that answers the POST, never again.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional

from provisioner.errors import Forbidden, ProvisionerError
from provisioner.hosting import access
from provisioner.hosting import school_changes as changes
from provisioner.hosting import validation as v
from provisioner.web.forms import show_error

hosting = Blueprint("hosting", __name__, url_prefix="/hosting")


class FtpUserForm(FlaskForm):
    user = StringField("FTP user name", validators=[Optional()])
    path = StringField("Folder (empty for the whole account, e.g. public_html/images)")


class SubdomainForm(FlaskForm):
    label = StringField("Subdomain label (e.g. events)", validators=[Optional()])
    # technicians only: the nominated contact the DNS request is filed for
    contact = SelectField(
        "File its DNS request for", choices=[], validate_choice=False, validators=[Optional()]
    )


class ConfirmForm(FlaskForm):
    """Buttons that change one thing; carries only the CSRF token."""


@hosting.before_request
@login_required
def _logged_in():
    return None


def _may_change(account) -> str | None:
    """None when the user may change the account, else the refusal to show."""
    try:
        access.check_may_change(current_user, account)
    except Forbidden as exc:
        return exc.message
    return None


def _page(account, *, ftp_form=None, sub_form=None, shown=None, status=200):
    sub_form = sub_form or SubdomainForm(formdata=None)
    sub_form.contact.choices = [
        (c.email, f"{c.name} ({c.email})") for c in account.school.nominated_contacts
    ]
    return (
        render_template(
            "hosting/account.html",
            account=account,
            refusal=_may_change(account),
            ftp_form=ftp_form or FtpUserForm(formdata=None),
            sub_form=sub_form,
            confirm=ConfirmForm(),
            shown=shown,
        ),
        status,
    )


@hosting.get("/")
def index():
    accounts = access.accounts_visible_to(current_user)
    return render_template("hosting/index.html", accounts=accounts)


@hosting.get("/<name>")
def account_page(name: str):
    return _page(access.account_visible_to(current_user, name))


@hosting.post("/<name>/ftp")
def ftp_add(name: str):
    account = access.account_visible_to(current_user, name)
    form = FtpUserForm()
    try:
        done = changes.add_ftp_user(current_user, account, form.user.data, form.path.data)
    except Forbidden:
        raise
    except ProvisionerError as exc:
        show_error(form, exc)
        return _page(account, ftp_form=form, status=exc.status)
    shown = {"user": form.user.data.strip(), "password": done.password, "done": done}
    return _page(account, shown=shown, status=201)


@hosting.post("/<name>/ftp/<user>/reset")
def ftp_reset(name: str, user: str):
    account = access.account_visible_to(current_user, name)
    done = changes.reset_ftp_password(current_user, account, user)
    return _page(account, shown={"user": user, "password": done.password, "done": done})


@hosting.post("/<name>/ftp/<user>/delete")
def ftp_delete(name: str, user: str):
    account = access.account_visible_to(current_user, name)
    done = changes.delete_ftp_user(current_user, account, user)
    flash(
        f"FTP user {user} deleted (case {done.case_reference})."
        if done.finished
        else f"FTP user {user} is being deleted (case {done.case_reference}).",
        "success",
    )
    return redirect(url_for("hosting.account_page", name=account.name))


@hosting.post("/<name>/subdomains")
def subdomain_add(name: str):
    account = access.account_visible_to(current_user, name)
    form = SubdomainForm()
    try:
        contact = form.contact.data if current_user.is_staff else None
        done = changes.add_subdomain(current_user, account, form.label.data, contact=contact)
    except Forbidden:
        raise
    except ProvisionerError as exc:
        show_error(form, exc)
        return _page(account, sub_form=form, status=exc.status)
    label = v.subdomain_label(form.label.data)
    flash(
        f"Subdomain {label}.{account.domain} "
        f"{'added' if done.finished else 'is being added'} (case {done.case_reference}); "
        f"{changes.dns_request_note(done, account)}.",
        "success",
    )
    return redirect(url_for("hosting.account_page", name=account.name))
