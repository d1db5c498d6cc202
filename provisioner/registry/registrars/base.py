"""What every registrar adapter offers, and what it hands back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from provisioner.errors import ProvisionerError, ValidationError


@dataclass(frozen=True)
class Completion:
    """What the technician tells us about the job (all optional for automatic registrars)."""

    reference: str = ""  # the registrar's order or operation id
    cost_pence: int | None = None  # what the provider paid
    new_expiry: date | None = None  # the expiry date the registrar now shows
    note: str = ""


@dataclass(frozen=True)
class RegistrarResult:
    registrar: str
    reference: str
    expires_on: date
    cost_pence: int | None = None
    already_done: bool = False  # a retried job found the work done by an earlier attempt


class Registrar(Protocol):
    kind: str

    def is_available(self, name: str) -> bool: ...

    def register(self, name: str, years: int, details: Completion) -> RegistrarResult: ...

    def renew(
        self, name: str, years: int, current_expiry: date | None, details: Completion
    ) -> RegistrarResult: ...


class RegistrarError(ProvisionerError):
    """The registrar refused or could not be reached; nothing was recorded here."""

    code = "registrar_error"
    status = 502

    def __init__(self, registrar: str, message: str, *, retryable: bool = False):
        self.registrar = registrar
        self.retryable = retryable
        super().__init__(f"{registrar}: {message}", fields={"registrar": registrar})


class UnknownRegistrar(ValidationError):
    code = "unknown_registrar"

    def __init__(self, kind: str):
        super().__init__(
            f"unknown registrar {kind!r}: use manual or route53domains",
            fields={"registrar": "manual or route53domains"},
        )
