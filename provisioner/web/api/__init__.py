"""The JSON API, /api/v1. Bearer tokens; errors in the contract's shape."""

from __future__ import annotations

from flask import Blueprint, g, request

from provisioner.errors import Forbidden, ProvisionerError
from provisioner.schools.services import user_for_token

api = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


class Unauthorised(ProvisionerError):
    code = "unauthorised"
    status = 401


@api.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("send an API token as 'Authorization: Bearer TOKEN'")
    user = user_for_token(token.strip())
    if user is None:
        raise Unauthorised("the API token is not valid or has been revoked")
    g.api_user = user


def api_user():
    return g.api_user


def require_staff():
    if not g.api_user.is_staff:
        raise Forbidden("only technicians may do this")
    return g.api_user


def json_body() -> dict:
    from provisioner.errors import ValidationError

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(
            "the request body must be a JSON object", fields={"body": "JSON object"}
        )
    return body


from provisioner.web.api import (  # noqa: E402,F401 - routes register on import
    core,
    dns_requests,
    domain_requests,
    hosting,
    openapi,
    operations,
)
