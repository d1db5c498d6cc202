"""Changes asked for on the hosting pages, the API and the CLI (issue 8, "School access").

Each function checks who asks (technicians, or a nominated contact of the
account's school; actor None is the CLI), asks for the change as an operation on
a case, waits for it (up to `wait` seconds; None: until it ends) and returns what
to show. A refusal changes nothing.

A new subdomain also files a DNS change request for its record on the school's
zone, through the DNS request flow (dns_requests.intake.submit), so a technician
reviews and applies it like any other DNS change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from provisioner.db import db
from provisioner.dns_requests import intake
from provisioner.dns_requests.models import DnsChangeRequest
from provisioner.errors import Forbidden, NotFound, ProvisionerError, ValidationError
from provisioner.hosting import access, services, sites
from provisioner.hosting import operations as ops
from provisioner.hosting import validation as v
from provisioner.hosting.models import HostingAccount
from provisioner.jobs.models import SUCCEEDED
from provisioner.registry import services as registry
from provisioner.zones import services as zones
from provisioner.zones.errors import InvalidRecords

# How long a page or API call waits for its change before saying it is still
# running: the app's HOSTING_WAIT_SECONDS (config.py).
CONFIGURED_WAIT = "configured"


@dataclass(frozen=True)
class Done:
    """What a change did: its case, whether it finished, a secret to show once."""

    case_reference: str
    operation_id: int
    finished: bool
    password: str | None = None
    dns_request: DnsChangeRequest | None = None


def _check(actor, account: HostingAccount) -> None:
    # actor None: the CLI, run by the provider's technicians on the server
    if actor is not None:
        access.check_may_change(actor, account)


def _wait(case, operation, wait, password: str | None = None, dns_request=None) -> Done:
    reference = case.reference
    if wait == CONFIGURED_WAIT:
        wait = current_app.config["HOSTING_WAIT_SECONDS"]
    operation = ops.run_and_wait(operation.id, timeout=wait)
    ops.raise_if_failed(operation)
    return Done(reference, operation.id, operation.status == SUCCEEDED, password, dns_request)


def add_ftp_user(
    actor, account: HostingAccount, user, path, *, channel="portal", wait=CONFIGURED_WAIT
) -> Done:
    _check(actor, account)
    user, path = v.ftp_user(user), v.relative_path(path or "")
    case, operation, password = ops.request_ftp_account(
        account.name, user, path, actor=actor, channel=channel
    )
    return _wait(case, operation, wait, password)


def reset_ftp_password(
    actor, account: HostingAccount, user: str, *, channel="portal", wait=CONFIGURED_WAIT
) -> Done:
    _check(actor, account)
    case, operation, password = ops.request_ftp_reset(
        account.name, user, actor=actor, channel=channel
    )
    return _wait(case, operation, wait, password)


def delete_ftp_user(
    actor, account: HostingAccount, user: str, *, channel="portal", wait=CONFIGURED_WAIT
) -> Done:
    _check(actor, account)
    case, operation = ops.request_ftp_delete(account.name, user, actor=actor, channel=channel)
    return _wait(case, operation, wait)


def subdomain_record(account: HostingAccount, label: str) -> dict:
    """The DNS change for a new subdomain, in the DNS request API's shape.

    A CNAME to the account's primary domain: that name already reaches the
    account's server, and the models hold no public address for a server (a
    local server has none; an ssh server's `host` may be a name), so an A record
    could not be filled in reliably.
    """
    return {"action": "add", "name": label, "type": "CNAME", "values": [f"{account.domain}."]}


def _requester(actor, account: HostingAccount, contact: str | None = None):
    """(requester, logged_by) of the subdomain's DNS request, or None when there is
    nobody to file it for.

    A nominated contact files it themselves. A technician (or the CLI, actor None)
    files it for the nominated contact named by `contact` (an email address), else
    for the school's first; the technician logs it (the DNS flow's "phone" channel:
    a request is always a school contact's). A school with no nominated contact
    gets its subdomain without a DNS request: the technician is told to make one."""
    if actor is not None and not actor.is_staff:
        return actor, None
    nominated = account.school.nominated_contacts
    if contact:
        chosen = next((c for c in nominated if c.email.lower() == contact.strip().lower()), None)
        if chosen is None:
            choices = ", ".join(c.email for c in nominated) or "none yet"
            raise ValidationError(
                f"{contact} is not a nominated contact of {account.school.name} "
                f"(nominated: {choices})",
                fields={"contact": "not a nominated contact"},
            )
        return chosen, actor
    return (nominated[0], actor) if nominated else None


def add_subdomain(
    actor,
    account: HostingAccount,
    label,
    *,
    contact: str | None = None,
    channel: str = "portal",
    wait: float | str | None = CONFIGURED_WAIT,
    live: Callable = zones.live_zone,
    notify: Callable | None = None,
) -> Done:
    _check(actor, account)
    _, label = sites.check_subdomain(account.name, label)
    filer = _requester(actor, account, contact)
    dns_request = (
        None
        if filer is None
        else _request_record(actor, account, label, filer, live, notify, channel)
    )
    case, operation, _fqdn = ops.request_subdomain(
        account.name, label, actor=actor, channel=channel
    )
    return _wait(case, operation, wait, dns_request=dns_request)


def _request_record(actor, account, label, filer, live, notify, channel) -> DnsChangeRequest | None:
    """File the subdomain's DNS request. It is checked against the live zone and
    saved before the subdomain is made: if the zone refuses the record, no
    subdomain is made either."""
    requester, logged_by = filer
    try:
        return intake.submit(
            requester=requester,
            domain=account.domain,
            changes=[subdomain_record(account, label)],
            notes=f"Subdomain {label}.{account.domain} of hosting account {account.name}",
            # a technician logs it for the contact; the CLI's is the provider's own
            channel="phone" if logged_by else ("system" if actor is None else channel),
            logged_by=logged_by,
            live=live,
            notify=notify,
        )
    except (InvalidRecords, ValidationError) as exc:
        if exc.fields == {"changes": "nothing to change"}:
            return None  # the zone already serves the record
        # said in terms of the subdomain asked for; nothing was saved
        raise ValidationError(
            f"The DNS record for {label}.{account.domain} cannot be requested, so the "
            f"subdomain was not added: {exc.message}",
            fields={"label": exc.message},
        ) from exc


def dns_request_note(done: Done, account: HostingAccount) -> str:
    """What became of the subdomain's DNS record, in a sentence."""
    request = done.dns_request
    if request is not None:
        return f"its DNS record was requested as DNS change request {request.id}"
    if not account.school.nominated_contacts:
        return (
            f"no DNS request was filed: {account.school.name} has no nominated contact "
            "to file it for, so make its record yourself"
        )
    return f"its DNS record is already served by {account.domain}"


# -- technicians: creating, suspending, unsuspending and deleting accounts -------------


def _check_staff(actor, what: str) -> None:
    # actor None: the CLI, run by the provider's technicians on the server
    if actor is not None and not actor.is_staff:
        raise Forbidden(f"Only the provider's technicians may {what}.")


def _text_or_none(name: str, value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", fields={name: "must be text"})
    return value.strip() or None


def schools_for_new_account() -> list[tuple]:
    """(school, its domain names) for every school with at least one domain."""
    by_school: dict = {}
    for domain in registry.list_domains():
        by_school.setdefault(domain.school, []).append(domain.name)
    return sorted(by_school.items(), key=lambda item: (item[0].name, item[0].urn))


def create_account(
    actor,
    *,
    school_urn,
    domain,
    plan=None,
    server=None,
    wordpress=False,
    channel: str = "portal",
    wait: float | str | None = CONFIGURED_WAIT,
) -> tuple[HostingAccount, Done]:
    """A new account for a school's domain, on the named server or the one with
    the most free capacity; Done.password is the WordPress admin password (shown
    once, stored nowhere), None without WordPress. Technicians only."""
    _check_staff(actor, "create hosting accounts")
    school_urn = _text_or_none("school_urn", school_urn)
    plan = _text_or_none("plan", plan) or "standard"
    server = _text_or_none("server", server)
    if not isinstance(wordpress, bool):
        raise ValidationError(
            "wordpress must be true or false", fields={"wordpress": "true or false"}
        )
    if school_urn is None:
        raise ValidationError("Choose the school", fields={"school_urn": "required"})
    domain = v.domain_name(domain)
    try:
        account, case, operation, password = ops.request_create(
            school_urn=school_urn,
            domain=domain,
            plan=plan,
            server_name=server,
            wordpress=wordpress,
            actor=actor,
            channel=channel,
        )
    except NotFound as exc:
        db.session.rollback()
        # an unknown school or server in what was sent: bad input, not a missing page
        raise ValidationError(exc.message, fields=exc.fields) from exc
    except ProvisionerError:
        db.session.rollback()  # nothing half-made stays in the session
        raise
    account_id = account.id
    done = _wait(case, operation, wait, password)
    return db.session.get(HostingAccount, account_id, populate_existing=True), done


def change_state(
    actor,
    account: HostingAccount,
    verb: str,
    *,
    channel: str = "portal",
    wait: float | str | None = CONFIGURED_WAIT,
) -> tuple[HostingAccount, Done]:
    """suspend, unsuspend or delete the account (Conflict when its status does not
    allow it). Technicians only."""
    _check_staff(actor, f"{verb} hosting accounts")
    if verb not in services.STATE_CHANGES:
        raise ValidationError(
            f"Unknown change {verb!r}; use one of {', '.join(services.STATE_CHANGES)}",
            fields={"verb": "unknown"},
        )
    account, case, operation = ops.request_state_change(
        account.name, verb, actor=actor, channel=channel
    )
    account_id = account.id
    done = _wait(case, operation, wait)
    return db.session.get(HostingAccount, account_id, populate_existing=True), done


def delete_account(
    actor,
    account: HostingAccount,
    confirm,
    *,
    channel: str = "portal",
    wait: float | str | None = CONFIGURED_WAIT,
) -> tuple[HostingAccount, Done]:
    """Delete the account once the technician has typed its name to confirm."""
    _check_staff(actor, "delete hosting accounts")
    if not isinstance(confirm, str) or confirm.strip() != account.name:
        raise ValidationError(
            f"Type the account name, {account.name}, to confirm deleting it and its files",
            fields={"confirm": "does not match the account name"},
        )
    return change_state(actor, account, "delete", channel=channel, wait=wait)
