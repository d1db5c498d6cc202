"""Checks that views share."""

from __future__ import annotations

from flask import abort
from flask_login import current_user


def require_staff(message: str = "This page is for the provider's technicians.") -> None:
    if not current_user.is_staff:
        abort(403, message)
