"""The school portal: a contact's own school, nothing else.

Every query here starts from current_user.school, so a contact can never
name another school's data.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from provisioner.registry import services as domains
from provisioner.schools import services as schools
from provisioner.schools.models import CONTACT_ROLES

portal = Blueprint("portal", __name__, url_prefix="/portal")


@portal.app_template_filter("contact_role")
def contact_role_label(key: str | None) -> str:
    """The readable name of a contact's role, for the admin pages and the portal."""
    return CONTACT_ROLES.get(key or "", key or "")


@portal.before_request
@login_required
def _contacts_only():
    if current_user.is_staff:
        return redirect(url_for("admin.schools"))
    if current_user.school is None:
        abort(403, "Your account is not linked to a school.")
    return None


@portal.get("/")
def home():
    school = current_user.school
    return render_template(
        "portal/home.html",
        school=school,
        domains=domains.domains_of(school),
        warnings=schools.nomination_warnings(school),
    )
