"""The error vocabulary of the whole product.

Every failure a user can cause or meet is a ProvisionerError with a stable
code, an HTTP status and a message a person can act on. The web layer maps
them to JSON or HTML in one place; the CLI prints the message and exits 1.
"""

from __future__ import annotations


class ProvisionerError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationError(ProvisionerError):
    code = "invalid"
    status = 422


class NotFound(ProvisionerError):
    code = "not_found"
    status = 404


class Forbidden(ProvisionerError):
    code = "forbidden"
    status = 403


class NotNominated(Forbidden):
    code = "not_nominated"


class Conflict(ProvisionerError):
    code = "conflict"
    status = 409


class DomainLimitReached(Conflict):
    code = "domain_limit"
