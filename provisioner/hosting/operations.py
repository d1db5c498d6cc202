"""Hosting changes as durable operations on SLA cases (issue 8, "Running them").

Each change is checked first (a refusal changes nothing), then a case (category
`hosting`) is opened and an operation enqueued in one transaction, with
resource_key `hosting:<account>` so one change runs at a time per account. The
handler (registered in hosting/tasks.py) runs the playbooks with their lines
streaming into the operation's log; the case gets the result: resolved when the
change is done, a note with the reason when it failed (left open for a technician).

The CLI and the API wait for their operation: run_and_wait() claims it and runs
it in this process, or waits for the worker that already has it.
"""

from __future__ import annotations

import threading

from flask import current_app

from provisioner.cases import services as cases
from provisioner.cases.models import Case
from provisioner.db import db
from provisioner.errors import ProvisionerError
from provisioner.hosting import services, sites
from provisioner.hosting.models import ACTIVE, FtpAccount, HostingAccount
from provisioner.jobs import PermanentError, enqueue
from provisioner.jobs.models import FAILED, Operation

CREATE = "hosting.create"
FTP_ADD = "hosting.ftp_add"
SUBDOMAIN_ADD = "hosting.subdomain_add"
FTP_RESET = "hosting.ftp_reset"
FTP_DELETE = "hosting.ftp_delete"
STATE_KINDS = {f"hosting.{verb}": verb for verb in services.STATE_CHANGES}
KINDS = (CREATE, FTP_ADD, SUBDOMAIN_ADD, FTP_RESET, FTP_DELETE, *STATE_KINDS)

# FTP and WordPress admin passwords waiting for their operation, by operation id:
# held in this process's memory only, never in the operation's payload, so no
# secret is ever stored.
_SECRETS: dict[int, str] = {}
_SECRETS_LOCK = threading.Lock()


class HostingChangeFailed(ProvisionerError):
    code = "hosting_change_failed"
    status = 502


def app_runner():
    """The app's PlaybookRunner when one is registered (tests), else ansible-runner."""
    runner = current_app.extensions.get("hosting_runner")
    if runner is None:
        from provisioner.hosting.runner import AnsibleRunner

        runner = AnsibleRunner()
    return runner


def resource_key(account_name: str) -> str:
    return f"hosting:{account_name}"


def _track(
    account: HostingAccount, kind: str, payload: dict, subject: str, actor, channel: str
) -> tuple[Case, Operation]:
    """Open the case and enqueue the operation; the caller's commit makes both real."""
    case = cases.open_case(
        school=account.school,
        subject=subject,
        category="hosting",
        channel=channel,
        contact=actor if actor is not None and not actor.is_staff else None,
        description=f"{subject} (hosting account {account.name}, {account.domain})",
        actor=actor,
        commit=False,
    )
    db.session.flush()
    operation = enqueue(
        kind,
        payload,
        resource_key=resource_key(account.name),
        case_id=case.id,
        requested_by=actor.id if actor is not None else None,
    )
    cases.link_operation(
        case, f"Operation {operation.id} queued: {subject}", {"operation_id": operation.id}
    )
    return case, operation


def request_create(
    *,
    school_urn: str,
    domain: str,
    plan: str = "standard",
    server_name: str | None = None,
    wordpress: bool = False,
    actor=None,
    channel: str = "system",
) -> tuple[HostingAccount, Case, Operation, str | None]:
    """Returns the account, case and operation, and for a WordPress account the
    generated admin password (shown once; None without WordPress)."""
    account = services.new_account(
        school_urn=school_urn,
        domain=domain,
        plan=plan,
        server_name=server_name,
        wordpress=wordpress,
    )
    subject = f"Create hosting account {account.name} for {account.domain}"
    case, operation = _track(account, CREATE, {"account": account.name}, subject, actor, channel)
    if not wordpress:
        db.session.commit()
        return account, case, operation, None
    password = services.new_secret()
    _commit_with_secret(operation, password)
    return account, case, operation, password


def request_state_change(
    name: str, verb: str, *, actor=None, channel: str = "system"
) -> tuple[HostingAccount, Case, Operation]:
    account = services.check_state_change(name, verb)
    subject = f"{verb.capitalize()} hosting account {account.name}"
    case, operation = _track(
        account, f"hosting.{verb}", {"account": account.name}, subject, actor, channel
    )
    db.session.commit()
    return account, case, operation


def request_ftp_account(
    name: str, user: str, path: str = "", *, actor=None, channel: str = "system"
) -> tuple[Case, Operation, str]:
    """Returns the case, the operation and the new user's password (shown once)."""
    account, user, path = sites.check_ftp_account(name, user, path)
    subject = f"Add FTP user {user} to hosting account {account.name}"
    payload = {"account": account.name, "user": user, "path": path}
    case, operation = _track(account, FTP_ADD, payload, subject, actor, channel)
    password = services.new_secret()
    _commit_with_secret(operation, password)
    return case, operation, password


def _commit_with_secret(operation: Operation, password: str) -> None:
    """Commit the operation with its secret held in this process's memory only."""
    with _SECRETS_LOCK:
        _SECRETS[operation.id] = password
    try:
        db.session.commit()
    except BaseException:
        with _SECRETS_LOCK:
            _SECRETS.pop(operation.id, None)
        raise


def request_ftp_reset(
    name: str, user: str, *, actor=None, channel: str = "system"
) -> tuple[Case, Operation, str]:
    """Returns the case, the operation and the user's new password (shown once)."""
    account, ftp = sites.check_ftp_user(name, user)
    subject = f"Reset the password of FTP user {ftp.user} of hosting account {account.name}"
    payload = {"account": account.name, "user": ftp.user}
    case, operation = _track(account, FTP_RESET, payload, subject, actor, channel)
    password = services.new_secret()
    _commit_with_secret(operation, password)
    return case, operation, password


def request_ftp_delete(
    name: str, user: str, *, actor=None, channel: str = "system"
) -> tuple[Case, Operation]:
    account, ftp = sites.check_ftp_user(name, user)
    subject = f"Delete FTP user {ftp.user} of hosting account {account.name}"
    payload = {"account": account.name, "user": ftp.user}
    case, operation = _track(account, FTP_DELETE, payload, subject, actor, channel)
    db.session.commit()
    return case, operation


def request_subdomain(
    name: str, label: str, *, actor=None, channel: str = "system"
) -> tuple[Case, Operation, str]:
    """Returns the case, the operation and the subdomain's full name."""
    account, label = sites.check_subdomain(name, label)
    fqdn = f"{label}.{account.domain}"
    subject = f"Add subdomain {fqdn} to hosting account {account.name}"
    payload = {"account": account.name, "label": label}
    case, operation = _track(account, SUBDOMAIN_ADD, payload, subject, actor, channel)
    db.session.commit()
    return case, operation, fqdn


# -- the handler -------------------------------------------------------------


def _account_any_status(name: str) -> HostingAccount:
    account = db.session.query(HostingAccount).filter_by(name=name).one_or_none()
    if account is None:
        raise PermanentError(f"hosting account {name} no longer exists")
    return account


def _perform(ctx) -> tuple[str, dict]:
    """Do the change (skipping what an earlier attempt already did); (text, result)."""
    payload, runner = ctx.payload, app_runner()
    name = payload["account"]
    account = _account_any_status(name)
    if ctx.kind == CREATE:
        if account.status != ACTIVE:
            # kept (not popped) until it succeeds, so a retry installs with the
            # password the requester was shown; record_failure drops it
            with _SECRETS_LOCK:
                password = _SECRETS.get(ctx.id)
            if account.wordpress and password is None:
                raise PermanentError(
                    f"the WordPress admin password for account {name} was held only by the "
                    "process that asked for it, which has gone: delete the account and ask again"
                )
            services.provision(
                runner,
                account,
                on_line=ctx.log,
                wordpress_admin_password=password,
                db_password=services.database_password(current_app.config["SECRET_KEY"], account),
            )
        with _SECRETS_LOCK:
            _SECRETS.pop(ctx.id, None)
        text = f"Hosting account {name} ({account.domain}) is active on {account.server.name}"
    elif ctx.kind in STATE_KINDS:
        verb = STATE_KINDS[ctx.kind]
        if account.status != services.STATE_CHANGES[verb][2]:
            services.change_state(runner, name, verb, on_line=ctx.log)
        text = f"Hosting account {name} is {account.status}"
    elif ctx.kind == FTP_ADD:
        user = payload["user"]
        with _SECRETS_LOCK:
            password = _SECRETS.pop(ctx.id, None)
        exists = db.session.query(FtpAccount.id).filter_by(user=user).first() is not None
        if not exists:
            if password is None:
                raise PermanentError(
                    f"the password for FTP user {user} was held only by the process that "
                    "asked for it, which has gone; nothing was created: please ask again"
                )
            sites.add_ftp_account(
                runner, name, user, payload.get("path", ""), ctx.log, password=password
            )
        text = f"FTP user {user} added to hosting account {name}"
    elif ctx.kind == FTP_RESET:
        user = payload["user"]
        with _SECRETS_LOCK:
            password = _SECRETS.pop(ctx.id, None)
        if password is None:
            raise PermanentError(
                f"the new password for FTP user {user} was held only by the process that "
                "asked for it, which has gone; nothing was changed: please ask again"
            )
        sites.reset_ftp_password(runner, name, user, ctx.log, password=password)
        text = f"Password of FTP user {user} of hosting account {name} reset"
    elif ctx.kind == FTP_DELETE:
        user = payload["user"]
        if any(f.user == user for f in account.ftp_accounts):
            sites.remove_ftp_account(runner, name, user, ctx.log)
        text = f"FTP user {user} deleted from hosting account {name}"
    elif ctx.kind == SUBDOMAIN_ADD:
        label = payload["label"]
        if all(s.label != label for s in account.subdomains):
            sites.add_subdomain(runner, name, label, on_line=ctx.log)
        text = f"Subdomain {label}.{account.domain} added to hosting account {name}"
    else:
        raise PermanentError(f"unknown hosting operation {ctx.kind}")
    return text, {"account": name, "status": account.status}


def handle(ctx) -> dict:
    text, result = _perform(ctx)
    ctx.log(text)
    case = db.session.get(Case, ctx.case_id) if ctx.case_id else None
    if case is not None:
        cases.link_operation(case, text, {"operation_id": ctx.id})
        if case.is_open:
            # the system resolves it; commits with the operation's "succeeded" mark
            cases._move(case, "resolved", None, text, ctx.clock.now())
    return result


def record_failure(operation: Operation) -> None:
    """Final-failure hook: the reason goes on the case, which stays open."""
    if operation.kind not in KINDS or operation.case_id is None:
        return
    with _SECRETS_LOCK:
        _SECRETS.pop(operation.id, None)
    case = db.session.get(Case, operation.case_id)
    if case is None:
        return
    cases.link_operation(
        case,
        f"Operation {operation.id} failed: {operation.error}",
        {"operation_id": operation.id, "error": operation.error},
    )
    db.session.commit()


# -- waiting -------------------------------------------------------------------


def run_and_wait(operation_id: int, *, timeout: float | None = None) -> Operation:
    """Run the operation here if no worker has it yet, else wait for it; returns it
    when it has finished (or, with a timeout, when that has passed)."""
    from provisioner.jobs.inline import run_and_wait as run_inline

    return run_inline(operation_id, timeout=timeout)


def raise_if_failed(operation: Operation) -> None:
    if operation.status == FAILED:
        failed = HostingChangeFailed(
            operation.error or f"operation {operation.id} failed",
            fields={"operation": f"{operation.id} failed"},
        )
        failed.operation_id = operation.id  # whose log tells the whole story
        raise failed
