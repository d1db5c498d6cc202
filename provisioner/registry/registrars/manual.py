"""The `manual` registrar: the technician did the work at the registrar's own site and
records here what they did (order reference, cost, the new expiry date)."""

from __future__ import annotations

from datetime import date

from provisioner.errors import ValidationError
from provisioner.registry.registrars.base import Completion, RegistrarResult


class ManualRegistrar:
    kind = "manual"

    def is_available(self, name: str) -> bool:
        # Nothing to ask: availability came from RDAP/WHOIS when the quote was made.
        return True

    def register(self, name: str, years: int, details: Completion) -> RegistrarResult:
        return self._record(details, previous=None)

    def renew(
        self, name: str, years: int, current_expiry: date | None, details: Completion
    ) -> RegistrarResult:
        return self._record(details, previous=current_expiry)

    def _record(self, details: Completion, previous: date | None) -> RegistrarResult:
        problems = {}
        if not details.reference.strip():
            problems["reference"] = "the registrar's order or reference number"
        if details.cost_pence is None:
            problems["cost_pence"] = "what the registrar charged, in pence"
        if details.new_expiry is None:
            problems["new_expiry"] = "the expiry date the registrar now shows"
        elif previous is not None and details.new_expiry <= previous:
            problems["new_expiry"] = f"a renewal moves the expiry date past {previous.isoformat()}"
        if problems:
            raise ValidationError(
                "record what was done at the registrar: " + "; ".join(problems.values()),
                fields=problems,
            )
        return RegistrarResult(
            "manual", details.reference.strip(), details.new_expiry, details.cost_pence
        )
