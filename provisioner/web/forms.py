"""Forms for the admin pages and the portal.

Forms only parse and carry CSRF tokens; the services decide what is valid,
and their refusals come back onto the form with show_error().
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Optional

from provisioner.errors import ProvisionerError
from provisioner.schools.models import CONTACT_ROLES

# Service field names that a form calls something else.
FIELD_ALIASES = {"school_urn": "school", "domain": "name", "contact": "email"}


class SchoolForm(FlaskForm):
    urn = StringField("URN (six digits)", validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired()])
    local_authority = StringField("Local authority", validators=[Optional()])


class SchoolEditForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    local_authority = StringField("Local authority", validators=[Optional()])


class ContactForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    email = EmailField("Email", validators=[DataRequired()])
    phone = TelField("Phone", validators=[Optional()])
    role = SelectField(
        "Role at the school",
        choices=[SelectChoice(key, label) for key, label in CONTACT_ROLES.items()],
    )
    nominated = BooleanField("Nominated contact (may request changes for the school)")
    password = PasswordField(
        "Portal password (at least 10 characters; leave empty for no login or to keep it)",
        validators=[Optional()],
    )


class DomainForm(FlaskForm):
    school = StringField("School URN", validators=[DataRequired()])
    name = StringField("Domain name", validators=[DataRequired()])


class TechnicianForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    email = EmailField("Email", validators=[DataRequired()])
    admin = BooleanField("Admin (manages technicians, providers and settings)")
    password = PasswordField("Password (at least 10 characters)", validators=[DataRequired()])


def show_error(form: FlaskForm, exc: ProvisionerError) -> None:
    """Put a service's refusal next to the field it names, or above the form."""
    placed = False
    for key in exc.fields:
        field = getattr(form, FIELD_ALIASES.get(key, key), None)
        if field is not None and hasattr(field, "errors") and key != "csrf_token":
            field.errors = [*field.errors, exc.message]
            placed = True
            break
    if not placed:
        form.form_errors.append(exc.message)
