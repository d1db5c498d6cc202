"""One place that turns errors into JSON for API clients and HTML for people."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from provisioner.db import db
from provisioner.errors import ProvisionerError, ValidationError


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, message=message), status


def _nul_in(value, where: str) -> str | None:
    """Where (a field's name, dotted into JSON) a NUL character is in `value`."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if not isinstance(value, dict | list):
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        inner = f"{where}.{key}" if where else str(key)
        found = _nul_in(str(key), inner) or _nul_in(item, inner)
        if found:
            return found
    return None


def refuse_nul_characters() -> None:
    """No text the database cannot hold (PostgreSQL text refuses NUL): such a
    request is refused whole, naming the field, before any view sees it."""
    fields = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    fields += request.form.items(multi=True)
    found = next((name for name, value in fields if _nul_in(value, name)), None)
    if found is None and request.is_json:
        found = _nul_in(request.get_json(silent=True), "")
    if found is not None:
        raise ValidationError(
            f"{found or 'the body'} contains a NUL character (\\x00), which cannot be stored",
            fields={found or "body": "NUL character"},
        )


def register(app: Flask) -> None:
    app.before_request(refuse_nul_characters)

    @app.errorhandler(ProvisionerError)
    def _provisioner_error(exc: ProvisionerError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_response(
            400,
            "csrf",
            f"The form expired or was not sent by this site: "
            f"{exc.description} Reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)
