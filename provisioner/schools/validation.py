"""Checks on what people type about schools and contacts (pure)."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from provisioner.errors import ValidationError
from provisioner.schools.models import CONTACT_ROLES

# ASCII digits only: \d would also accept other scripts' digits.
URN_PATTERN = re.compile(r"[0-9]{6}")

# Free-text roles people type on the command line, mapped to our choices.
ROLE_ALIASES = {
    "slt": "slt",
    "senior leadership": "slt",
    "head": "slt",
    "head teacher": "slt",
    "headteacher": "slt",
    "deputy head": "slt",
    "business manager": "business_manager",
    "bursar": "business_manager",
    "office": "office",
    "office manager": "office",
    "it": "it_lead",
    "it lead": "it_lead",
}


def _text(value, field: str) -> str:
    """JSON bodies can carry numbers or lists where text belongs; refuse them by name."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", fields={field: "must be text"})
    return value


def clean_urn(urn: str | None) -> str:
    urn = _text(urn, "urn").strip()
    if not URN_PATTERN.fullmatch(urn):
        raise ValidationError(
            f"URN {urn!r} is not valid: a URN is exactly six digits, e.g. 123456",
            fields={"urn": "must be exactly six digits"},
        )
    return urn


def clean_name(value: str | None, field: str = "name", limit: int = 200) -> str:
    value = _text(value, field).strip()
    if not value:
        raise ValidationError(f"{field} is required", fields={field: "required"})
    if len(value) > limit:
        raise ValidationError(
            f"{field} is too long ({len(value)} characters, at most {limit})",
            fields={field: f"at most {limit} characters"},
        )
    return value


def clean_optional(value, field: str, limit: int = 120) -> str | None:
    value = _text(value, field).strip()
    if len(value) > limit:
        raise ValidationError(
            f"{field} is too long ({len(value)} characters, at most {limit})",
            fields={field: f"at most {limit} characters"},
        )
    return value or None


def clean_email(email: str | None) -> str:
    email = _text(email, "email").strip()
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            f"email {email!r} is not valid: {exc}", fields={"email": str(exc)}
        ) from exc
    return result.normalized.lower()


def clean_contact_role(role: str | None) -> str:
    raw = (role or "other").strip().lower().replace("-", " ")
    key = raw.replace(" ", "_")
    if key in CONTACT_ROLES:
        return key
    if raw in ROLE_ALIASES:
        return ROLE_ALIASES[raw]
    choices = ", ".join(CONTACT_ROLES)
    raise ValidationError(
        f"role {role!r} is not known; choose one of {choices}",
        fields={"role": f"one of {choices}"},
    )


def clean_password(password: str | None) -> str | None:
    if password is None or password == "":
        return None
    if len(password) < 10:
        raise ValidationError(
            "password is too short: use at least 10 characters",
            fields={"password": "at least 10 characters"},
        )
    return password
