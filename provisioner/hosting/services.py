"""Hosting services: accounts, state changes, usage.

Servers and placement are in hosting/servers.py; FTP users and subdomains in
hosting/sites.py.

Each takes its PlaybookRunner as an argument (runner.AnsibleRunner in production,
a recording fake in unit tests). The account's row is committed before a playbook
runs (status `provisioning`) so a crash leaves a visible record, and again after.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Callable

from sqlalchemy import select

from provisioner.db import db, utcnow
from provisioner.errors import Conflict, NotFound, ValidationError
from provisioner.hosting import servers
from provisioner.hosting import validation as v
from provisioner.hosting.models import (
    ACTIVE,
    DELETED,
    FAILED,
    LIVE_STATUSES,
    PLANS,
    PROVISIONING,
    SUSPENDED,
    HostingAccount,
)
from provisioner.hosting.runner import (
    PlaybookFailed,
    PlaybookRunner,
    run_or_raise,
)
from provisioner.hosting.runner import (
    create_account as run_create,
)
from provisioner.registry.models import Domain
from provisioner.schools.models import School
from provisioner.schools.services import get_school

LineSink = Callable[[str], None] | None
_ALPHABET = string.ascii_letters + string.digits


def new_secret(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


# -- accounts --------------------------------------------------------------


def get_account(name: str) -> HostingAccount:
    account = db.session.scalar(select(HostingAccount).where(HostingAccount.name == name))
    if account is None or account.status == DELETED:
        raise NotFound(f"No hosting account named {name!r}", fields={"account": "unknown"})
    return account


def list_accounts(school: School | None = None) -> list[HostingAccount]:
    query = select(HostingAccount).where(HostingAccount.status != DELETED)
    if school is not None:
        query = query.where(HostingAccount.school_id == school.id)
    return list(db.session.scalars(query.order_by(HostingAccount.name)))


def school_domains(school: School) -> list[str]:
    return list(db.session.scalars(select(Domain.name).where(Domain.school_id == school.id)))


def _account_name_for(domain: str) -> str:
    """`stmarys.essex.sch.uk` -> `stmarys` (or `stmarys2`... when taken)."""
    base = re.sub(r"[^a-z0-9]", "", domain.split(".")[0])[:20] or "site"
    if not base[0].isalpha():
        base = ("s" + base)[:20]
    base = base.ljust(3, "0")
    name, n = base, 1
    while name in v.RESERVED_ACCOUNTS or db.session.scalar(
        select(HostingAccount.id).where(HostingAccount.name == name)
    ):
        n += 1
        name = f"{base}{n}"
    return v.account_name(name)


def new_account(
    *,
    school_urn: str,
    domain: str,
    plan: str = "standard",
    server_name: str | None = None,
    wordpress: bool = False,
) -> HostingAccount:
    """Check the request, place it and add the account row (`provisioning`) to the
    session without committing: the caller commits it with whatever tracks it."""
    school = get_school(school_urn)
    domain = v.domain_name(domain)
    if plan not in PLANS:
        raise ValidationError(
            f"Unknown plan {plan!r}; plans: {', '.join(PLANS)}", fields={"plan": plan}
        )
    if domain not in school_domains(school):
        raise ValidationError(
            f"{domain} is not one of {school.name}'s domains; add the domain first",
            fields={"domain": "not the school's"},
        )
    existing = db.session.scalar(
        select(HostingAccount).where(
            HostingAccount.school_id == school.id,
            HostingAccount.plan == plan,
            HostingAccount.status.in_(LIVE_STATUSES),
        )
    )
    if existing:
        raise Conflict(
            f"{school.name} already has a {plan} hosting account ({existing.name}, "
            f"{existing.domain}); one account per school per plan",
            fields={"school_urn": "has an account"},
        )
    quota = PLANS[plan]
    server = servers.place(quota, server_name)
    failed = db.session.scalar(
        select(HostingAccount)
        .where(
            HostingAccount.school_id == school.id,
            HostingAccount.plan == plan,
            HostingAccount.domain == domain,
            HostingAccount.status == FAILED,
        )
        .order_by(HostingAccount.id.desc())
    )
    if failed is not None:
        # asked again after a failure: the same account, under the same name, is
        # tried again (its creation was rolled back, or converges if it was not)
        failed.server, failed.wordpress = server, wordpress
        failed.status, failed.failure_reason = PROVISIONING, None
        db.session.flush()
        return failed
    account = HostingAccount(
        name=_account_name_for(domain),
        school=school,
        server=server,
        plan=plan,
        quota_bytes=quota,
        domain=domain,
        wordpress=wordpress,
        status=PROVISIONING,
    )
    db.session.add(account)
    db.session.flush()
    return account


def wordpress_admin_user(account: HostingAccount) -> str:
    """The WordPress administrator the install creates (derived, so never stored)."""
    return f"{account.name}-admin"


def database_password(secret_key: str, account: HostingAccount) -> str:
    """The account's MariaDB password, derived from the app's secret key and the
    account (name and id, so a re-created account gets a new one). Every attempt at
    creating the account, a retry after a crash included, gives MariaDB and
    wp-config.php the same password, and it is stored nowhere."""
    message = f"hosting-db:{account.id}:{account.name}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def provision(
    runner: PlaybookRunner,
    account: HostingAccount,
    on_line: LineSink = None,
    *,
    wordpress_admin_password: str | None = None,
    db_password: str | None = None,
) -> HostingAccount:
    """Run account creation for a `provisioning` account; it ends `active`, or `failed`
    with the reason (PlaybookFailed is raised after the failure is committed).

    A WordPress account needs the admin password the caller generated (and shows
    once): it goes to the playbook only, never to the database. The database
    password should be database_password(): a random one does not survive a retry."""
    variables = {
        "account": account.name,
        "domain": account.domain,
        "quota_bytes": account.quota_bytes,
        "wordpress": account.wordpress,
        "db_password": db_password or new_secret(),
    }
    if account.wordpress:
        if wordpress_admin_password is None:
            raise ValidationError(
                f"Account {account.name} has WordPress: its admin password is required",
                fields={"wordpress_admin_password": "required"},
            )
        variables |= {
            "wordpress_admin_user": wordpress_admin_user(account),
            "wordpress_admin_password": wordpress_admin_password,
            "wordpress_title": " ".join(account.school.name.split())[: v.WP_TITLE_MAX]
            or account.domain,
        }
    try:
        run_create(runner, account.server.target(), variables, on_line=on_line)
    except PlaybookFailed as exc:
        account.status, account.failure_reason = FAILED, exc.message
        db.session.commit()
        raise
    account.status, account.failure_reason = ACTIVE, None
    db.session.commit()
    return account


def create_account(
    runner: PlaybookRunner,
    *,
    school_urn: str,
    domain: str,
    plan: str = "standard",
    server_name: str | None = None,
    wordpress: bool = False,
    wordpress_admin_password: str | None = None,
    on_line: LineSink = None,
) -> HostingAccount:
    """Create and provision an account at once (no case, no operation)."""
    if wordpress and wordpress_admin_password is None:
        raise ValidationError(
            "A WordPress account needs the admin password to give the school",
            fields={"wordpress_admin_password": "required"},
        )
    account = new_account(
        school_urn=school_urn,
        domain=domain,
        plan=plan,
        server_name=server_name,
        wordpress=wordpress,
    )
    # committed before the playbook runs, so a crash leaves a visible record
    db.session.commit()
    return provision(runner, account, on_line, wordpress_admin_password=wordpress_admin_password)


# playbook, the statuses it may start from, the status it leaves
STATE_CHANGES = {
    "suspend": ("suspend.yml", (ACTIVE,), SUSPENDED),
    "unsuspend": ("unsuspend.yml", (SUSPENDED,), ACTIVE),
    "delete": ("delete.yml", (ACTIVE, SUSPENDED, FAILED, PROVISIONING), DELETED),
}


def check_state_change(name: str, verb: str) -> HostingAccount:
    """The account, if `verb` may be applied to it now."""
    account = get_account(name)
    _playbook, allowed, _new = STATE_CHANGES[verb]
    if account.status not in allowed:
        raise Conflict(
            f"Account {name} is {account.status}; {verb} needs it {' or '.join(allowed)}",
            fields={"status": account.status},
        )
    return account


def change_state(
    runner: PlaybookRunner, name: str, verb: str, on_line: LineSink = None
) -> HostingAccount:
    """suspend, unsuspend or delete an account (delete also forgets its FTP users
    and subdomains)."""
    account = check_state_change(name, verb)
    playbook, _allowed, new_status = STATE_CHANGES[verb]
    run_or_raise(runner, playbook, account.server.target(), {"account": name}, on_line=on_line)
    account.status = new_status
    if new_status == DELETED:
        account.ftp_accounts.clear()
        account.subdomains.clear()
    db.session.commit()
    return account


def suspend(runner: PlaybookRunner, name: str, on_line: LineSink = None) -> HostingAccount:
    return change_state(runner, name, "suspend", on_line)


def unsuspend(runner: PlaybookRunner, name: str, on_line: LineSink = None) -> HostingAccount:
    return change_state(runner, name, "unsuspend", on_line)


def delete(runner: PlaybookRunner, name: str, on_line: LineSink = None) -> HostingAccount:
    return change_state(runner, name, "delete", on_line)


def refresh_usage(
    runner: PlaybookRunner, name: str | None = None, on_line: LineSink = None
) -> list[HostingAccount]:
    accounts = [get_account(name)] if name else list_accounts()
    for account in accounts:
        if account.status not in (ACTIVE, SUSPENDED):
            continue
        result = run_or_raise(
            runner,
            "usage.yml",
            account.server.target(),
            {"account": account.name},
            on_line=on_line,
        )
        account.used_bytes = int(result.facts["hosting_usage"]["used_bytes"])
        account.usage_checked_at = utcnow()
        db.session.commit()
    return accounts


# -- FTP users and subdomains ------------------------------------------------
