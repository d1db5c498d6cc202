"""Hosting pages: a school's account, usage, FTP users, subdomains (issue 8, item 6).

Technicians see and change every account; contacts see their own school's (another
school's is 404). Only nominated contacts change: the others see every form
disabled with the names of those who may, and their POSTs are refused (403).
A new FTP password is shown once, on the page that answers the POST, never again.
Technicians also create, suspend, unsuspend and delete accounts (the views are in
web/hosting_admin.py; their forms are here, on these pages, for technicians only).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Optional

from provisioner.errors import Forbidden, ProvisionerError
from provisioner.hosting import access, servers
from provisioner.hosting import school_changes as changes
from provisioner.hosting import validation as v
from provisioner.hosting.models import PLANS
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


class NewAccountForm(FlaskForm):
    """Technicians: a new account (the services check every field)."""

    school_urn = SelectField("School", choices=[], validate_choice=False)
    domain = StringField("Domain (one of the school's domains)", validators=[Optional()])
    plan = SelectField("Plan", choices=[], validate_choice=False)
    server = SelectField("Server", choices=[], validate_choice=False)
    wordpress = BooleanField("Install WordPress (its admin password is shown once)")


class DeleteAccountForm(FlaskForm):
    confirm = StringField("Type the account name to confirm", validators=[Optional()])


def new_account_form(form: NewAccountForm | None = None) -> NewAccountForm:
    form = form or NewAccountForm(formdata=None)
    form.school_urn.choices = [("", "Choose a school")] + [
        (school.urn, f"{school.name} ({school.urn}): {', '.join(domains)}")
        for school, domains in changes.schools_for_new_account()
    ]
    form.plan.choices = [
        (plan, f"{plan} ({quota / 1024**3:.0f} GB)") for plan, quota in PLANS.items()
    ]
    form.server.choices = [("", "The server with the most free capacity")] + [
        (s.name, f"{s.name} ({s.free_bytes / 1024**3:.1f} GB free)") for s in servers.list_servers()
    ]
    return form


def place_error(form: FlaskForm, exc: ProvisionerError) -> None:
    """The refusal at the field it names (by the form's own field names), else as
    show_error places it."""
    for key in exc.fields:
        if key in form._fields and key != "csrf_token":
            form[key].errors = [*form[key].errors, exc.message]
            return
    show_error(form, exc)


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


def account_page_response(
    account,
    *,
    ftp_form=None,
    sub_form=None,
    shown=None,
    wp_shown=None,
    delete_form=None,
    status=200,
):
    """The account page; `shown` (an FTP password) and `wp_shown` (the WordPress
    admin's) are only ever passed by the view answering the POST that made them."""
    sub_form = sub_form or SubdomainForm(formdata=None)
    sub_form.contact.choices = [
        (c.email, f"{c.name} ({c.email})") for c in account.school.nominated_contacts
    ]
    delete_form = delete_form or DeleteAccountForm(formdata=None)
    delete_form.confirm.label.text = f"Type the account name ({account.name}) to confirm"
    return (
        render_template(
            "hosting/account.html",
            account=account,
            refusal=_may_change(account),
            ftp_form=ftp_form or FtpUserForm(formdata=None),
            sub_form=sub_form,
            confirm=ConfirmForm(),
            shown=shown,
            wp_shown=wp_shown,
            delete_form=delete_form,
        ),
        status,
    )


def index_response(new_form: NewAccountForm | None = None, status: int = 200):
    """The accounts; technicians also get the new account form."""
    accounts = access.accounts_visible_to(current_user)
    new_form = new_account_form(new_form) if current_user.is_staff else None
    return render_template("hosting/index.html", accounts=accounts, new_form=new_form), status


@hosting.get("/")
def index():
    return index_response()


@hosting.get("/<name>")
def account_page(name: str):
    return account_page_response(access.account_visible_to(current_user, name))


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
        return account_page_response(account, ftp_form=form, status=exc.status)
    shown = {"user": form.user.data.strip(), "password": done.password, "done": done}
    return account_page_response(account, shown=shown, status=201)


@hosting.post("/<name>/ftp/<user>/reset")
def ftp_reset(name: str, user: str):
    account = access.account_visible_to(current_user, name)
    done = changes.reset_ftp_password(current_user, account, user)
    return account_page_response(
        account, shown={"user": user, "password": done.password, "done": done}
    )


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
        return account_page_response(account, sub_form=form, status=exc.status)
    label = v.subdomain_label(form.label.data)
    flash(
        f"Subdomain {label}.{account.domain} "
        f"{'added' if done.finished else 'is being added'} (case {done.case_reference}); "
        f"{changes.dns_request_note(done, account)}.",
        "success",
    )
    return redirect(url_for("hosting.account_page", name=account.name))
