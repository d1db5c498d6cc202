"""Admin pages for technicians: schools, contacts, domains and staff.

Each view parses a form, calls one service and renders; a service's refusal
is shown on the form with its 4xx status. School contacts get 403 here.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from provisioner.errors import ProvisionerError
from provisioner.registry import services as domains
from provisioner.schools import services as schools
from provisioner.web.forms import (
    ContactForm,
    DomainForm,
    SchoolEditForm,
    SchoolForm,
    TechnicianForm,
    show_error,
)

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.before_request
@login_required
def _staff_only():
    if not current_user.is_staff:
        abort(403, "These pages are for the provider's technicians.")


def _render(template: str, form, status: int = 200, **context):
    """A form page: 422 when the form itself was incomplete, else the given status."""
    if request.method == "POST" and status == 200:
        status = 422
    return render_template(template, form=form, **context), status


@admin.get("/")
def home():
    return redirect(url_for("admin.schools"))


@admin.get("/schools", endpoint="schools")
def schools_list():
    search = request.args.get("q", "").strip()
    rows = schools.list_schools(search or None)
    return render_template("admin/schools.html", schools=rows, search=search)


@admin.route("/schools/new", methods=["GET", "POST"])
def school_new():
    form = SchoolForm()
    if form.validate_on_submit():
        try:
            school = schools.add_school(form.urn.data, form.name.data, form.local_authority.data)
        except ProvisionerError as exc:
            show_error(form, exc)
            return _render("admin/school_form.html", form, exc.status, school=None)
        flash(f"Added {school.name}.", "success")
        return redirect(url_for("admin.school", urn=school.urn))
    return _render("admin/school_form.html", form, school=None)


@admin.get("/schools/<urn>")
def school(urn: str):
    school = schools.get_school(urn)
    return render_template(
        "admin/school.html",
        school=school,
        domains=domains.domains_of(school),
        warnings=schools.nomination_warnings(school),
    )


@admin.route("/schools/<urn>/edit", methods=["GET", "POST"])
def school_edit(urn: str):
    school = schools.get_school(urn)
    form = SchoolEditForm(obj=school)
    if form.validate_on_submit():
        try:
            schools.update_school(school, form.name.data, form.local_authority.data)
        except ProvisionerError as exc:
            show_error(form, exc)
            return _render("admin/school_form.html", form, exc.status, school=school)
        flash(f"Saved {school.name}.", "success")
        return redirect(url_for("admin.school", urn=school.urn))
    return _render("admin/school_form.html", form, school=school)


@admin.route("/schools/<urn>/contacts/new", methods=["GET", "POST"])
def contact_new(urn: str):
    school = schools.get_school(urn)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            contact = schools.add_contact(
                school.urn,
                form.name.data,
                form.email.data,
                phone=form.phone.data,
                role=form.role.data,
                nominated=form.nominated.data,
                password=form.password.data,
            )
        except ProvisionerError as exc:
            show_error(form, exc)
            return _render("admin/contact_form.html", form, exc.status, school=school)
        flash(f"Added {contact.name} to {school.name}.", "success")
        return redirect(url_for("admin.school", urn=school.urn))
    return _render("admin/contact_form.html", form, school=school, contact=None)


@admin.route("/schools/<urn>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
def contact_edit(urn: str, contact_id: int):
    school = schools.get_school(urn)
    contact = schools.get_contact(school, contact_id)
    # Not obj=contact: User.role is the login role, the form's role is contact_role.
    form = ContactForm(
        data={
            "name": contact.name,
            "email": contact.email,
            "phone": contact.phone,
            "role": contact.contact_role,
            "nominated": contact.nominated,
        }
    )
    if form.validate_on_submit():
        try:
            schools.update_contact(
                contact,
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                role=form.role.data,
                nominated=form.nominated.data,
                password=form.password.data,
            )
        except ProvisionerError as exc:
            show_error(form, exc)
            return _render(
                "admin/contact_form.html", form, exc.status, school=school, contact=contact
            )
        flash(f"Saved {contact.name}.", "success")
        return redirect(url_for("admin.school", urn=school.urn))
    return _render("admin/contact_form.html", form, school=school, contact=contact)


@admin.get("/contacts")
def contacts():
    search = request.args.get("q", "").strip()
    rows = schools.list_contacts(search or None)
    return render_template("admin/contacts.html", contacts=rows, search=search)


@admin.route("/domains", methods=["GET", "POST"])
def domains_list():
    search = request.args.get("q", "").strip()
    form = DomainForm(school=request.args.get("school", ""))
    status = 200
    if form.validate_on_submit():
        try:
            domain = domains.add_domain(form.school.data, form.name.data)
        except ProvisionerError as exc:
            show_error(form, exc)
            status = exc.status
        else:
            flash(f"Added {domain.unicode_name} to {domain.school.name}.", "success")
            return redirect(url_for("admin.domains_list"))
    rows = domains.list_domains(search=search or None)
    return _render("admin/domains.html", form, status, domains=rows, search=search)


@admin.route("/technicians", methods=["GET", "POST"])
def technicians():
    if not current_user.is_admin:
        abort(403, "Only admins manage technicians.")
    form = TechnicianForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = schools.add_technician(
                form.email.data, form.name.data, admin=form.admin.data, password=form.password.data
            )
        except ProvisionerError as exc:
            show_error(form, exc)
            status = exc.status
        else:
            flash(f"Added {user.role} {user.name}.", "success")
            return redirect(url_for("admin.technicians"))
    return _render("admin/technicians.html", form, status, staff=schools.list_staff())
