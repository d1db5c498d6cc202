"""The `route53domains` registrar: Amazon Route 53 Domains through boto3.

Registration and renewal are asynchronous at AWS: the call returns an operation id and
the work finishes minutes later. An unfinished operation is a retryable RegistrarError,
so the durable job that calls this comes back later; every call first looks at what the
account already holds, so a retry never registers or renews twice.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from provisioner.errors import ValidationError
from provisioner.registry.registrars.base import Completion, RegistrarError, RegistrarResult

# Route 53 Domains has a single endpoint, in us-east-1.
REGION = "us-east-1"
CONTACT_KEYS = (
    "FirstName",
    "LastName",
    "ContactType",
    "AddressLine1",
    "City",
    "CountryCode",
    "ZipCode",
    "PhoneNumber",
    "Email",
)
RETRYABLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
    "OperationLimitExceeded",
}
DONE, FAILED = "SUCCESSFUL", ("ERROR", "FAILED")


def load_contact(value) -> dict:
    """The provider's contact details for registrations: a dict, JSON text or a JSON file."""
    if isinstance(value, str):
        is_json = value.lstrip().startswith("{")
        text = value if is_json else Path(value).read_text(encoding="utf-8")
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValidationError(f"ROUTE53DOMAINS_CONTACT is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValidationError(
            "set ROUTE53DOMAINS_CONTACT to the registrant contact (a JSON object) "
            "before registering through Route 53 Domains",
            fields={"registrar": "no contact configured"},
        )
    missing = [k for k in CONTACT_KEYS if not value.get(k)]
    if missing:
        raise ValidationError(
            f"ROUTE53DOMAINS_CONTACT lacks {', '.join(missing)}",
            fields={"registrar": "incomplete contact"},
        )
    return dict(value)


class Route53DomainsRegistrar:
    kind = "route53domains"

    def __init__(self, client, contact: dict | None = None, *, auto_renew: bool = False):
        self.client = client
        self.contact = contact
        self.auto_renew = auto_renew

    @classmethod
    def from_config(cls, config: dict) -> Route53DomainsRegistrar:
        client = boto3.client(
            "route53domains",
            region_name=REGION,
            endpoint_url=config.get("ROUTE53DOMAINS_ENDPOINT_URL") or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10),
        )
        contact = config.get("ROUTE53DOMAINS_CONTACT")
        return cls(client, load_contact(contact) if contact else None)

    # ------------------------------------------------------------------ calls

    def _error(self, what: str, name: str, exc: Exception) -> RegistrarError:
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code, message = error.get("Code", "Error"), error.get("Message", str(exc))
            if code == "DuplicateRequest" and what == "register_domain":
                return RegistrarError(
                    self.kind,
                    f"registration of {name} is already under way at AWS; checked again shortly",
                    retryable=True,
                )
            return RegistrarError(
                self.kind,
                f"{what} for {name} refused ({code}): {message}",
                retryable=code in RETRYABLE_CODES,
            )
        return RegistrarError(
            self.kind, f"{what} for {name}: cannot reach AWS ({exc})", retryable=True
        )

    def _call(self, what: str, name: str, **kwargs) -> dict:
        try:
            return getattr(self.client, what)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(what, name, exc) from exc

    def _detail(self, name: str) -> dict | None:
        """The domain as the account holds it, or None if the account does not hold it."""
        try:
            return self.client.get_domain_detail(DomainName=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidInput":
                return None  # "Domain is not associated with this account"
            raise self._error("get_domain_detail", name, exc) from exc
        except BotoCoreError as exc:
            raise self._error("get_domain_detail", name, exc) from exc

    def _wait_for(self, operation_id: str, name: str, what: str) -> None:
        status = self._call("get_operation_detail", name, OperationId=operation_id)
        state = status.get("Status")
        if state in FAILED:
            raise RegistrarError(
                self.kind,
                f"{what} of {name} failed at AWS (operation {operation_id}): "
                f"{status.get('Message', state)}",
            )
        if state != DONE:
            raise RegistrarError(
                self.kind,
                f"{what} of {name} is {state or 'pending'} at AWS (operation {operation_id}); "
                "it is checked again shortly",
                retryable=True,
            )

    # ------------------------------------------------------------------ Protocol

    def is_available(self, name: str) -> bool:
        answer = self._call("check_domain_availability", name, DomainName=name)
        return answer.get("Availability") in ("AVAILABLE", "AVAILABLE_PREORDER")

    def register(self, name: str, years: int, details: Completion) -> RegistrarResult:
        held = self._detail(name)
        if held is not None:
            return self._result(name, held, details, "", already_done=True)
        if self.contact is None:
            load_contact(None)  # raises the "configure a contact" message
        contact = dict(self.contact)
        answer = self._call(
            "register_domain",
            name,
            DomainName=name,
            DurationInYears=years,
            AutoRenew=self.auto_renew,
            AdminContact=contact,
            RegistrantContact=contact,
            TechContact=contact,
            PrivacyProtectAdminContact=True,
            PrivacyProtectRegistrantContact=True,
            PrivacyProtectTechContact=True,
        )
        operation_id = answer["OperationId"]
        self._wait_for(operation_id, name, "registration")
        held = self._call("get_domain_detail", name, DomainName=name)
        return self._result(name, held, details, operation_id)

    def renew(
        self, name: str, years: int, current_expiry: date | None, details: Completion
    ) -> RegistrarResult:
        held = self._detail(name)
        if held is None:
            raise RegistrarError(
                self.kind,
                f"{name} is not in this AWS account; renew it where it is registered "
                "and record it with the manual registrar",
            )
        expiry = held["ExpirationDate"].date()
        if current_expiry is not None and expiry > current_expiry:
            # An earlier attempt (or AWS auto-renew) already moved the date.
            return self._result(name, held, details, "", already_done=True)
        answer = self._call(
            "renew_domain",
            name,
            DomainName=name,
            DurationInYears=years,
            CurrentExpiryYear=expiry.year,
        )
        operation_id = answer["OperationId"]
        self._wait_for(operation_id, name, "renewal")
        held = self._call("get_domain_detail", name, DomainName=name)
        return self._result(name, held, details, operation_id)

    def _result(self, name, held, details, operation_id, already_done=False) -> RegistrarResult:
        expires = held.get("ExpirationDate")
        if expires is None:
            raise RegistrarError(self.kind, f"AWS shows no expiry date for {name}", retryable=True)
        return RegistrarResult(
            self.kind,
            operation_id or details.reference or f"route53domains:{name}",
            expires.date(),
            details.cost_pence,
            already_done,
        )
