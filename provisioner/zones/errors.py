"""Errors of the DNS engine, each with a stable code and a human message."""

from __future__ import annotations

from provisioner.errors import ProvisionerError


class InvalidRecords(ProvisionerError):
    code = "invalid_records"
    status = 422

    def __init__(self, reasons: list[str]):
        self.reasons = reasons
        super().__init__("; ".join(reasons), fields={"records": reasons})


class UnsafePlan(ProvisionerError):
    code = "unsafe_plan"
    status = 409


class PlanChanged(ProvisionerError):
    """The live zone no longer produces the plan that was reviewed."""

    code = "plan_changed"
    status = 409


class ConflictError(ProvisionerError):
    """A record set changed on the server between plan and apply."""

    code = "conflict"
    status = 409


class ZoneNotFound(ProvisionerError):
    code = "zone_not_found"
    status = 404


class ProviderError(ProvisionerError):
    code = "provider_error"
    status = 502


class ZoneExists(ProvisionerError):
    """create_zone for a zone the provider already holds."""

    code = "zone_exists"
    status = 409
