"""FTP users and subdomains of a hosting account.

Like hosting/services.py, each change takes its PlaybookRunner as an argument
and checks everything before a playbook runs.
"""

from __future__ import annotations

from sqlalchemy import select

from provisioner.db import db
from provisioner.errors import Conflict, NotFound
from provisioner.hosting import validation as v
from provisioner.hosting.models import ACTIVE, FtpAccount, HostingAccount, Subdomain
from provisioner.hosting.runner import PlaybookRunner, run_or_raise
from provisioner.hosting.services import LineSink, get_account, new_secret, school_domains


def _require_active(account: HostingAccount, what: str) -> None:
    if account.status != ACTIVE:
        raise Conflict(
            f"Account {account.name} is {account.status}: {what} needs an active account",
            fields={"status": account.status},
        )


def check_ftp_account(name: str, user: str, path: str = "") -> tuple[HostingAccount, str, str]:
    """(account, user, path) if that FTP user may be added now."""
    account = get_account(name)
    _require_active(account, "adding an FTP user")
    user, path = v.ftp_user(user), v.relative_path(path)
    if db.session.scalar(select(FtpAccount.id).where(FtpAccount.user == user)):
        raise Conflict(f"FTP user {user} already exists", fields={"user": "taken"})
    return account, user, path


def add_ftp_account(
    runner: PlaybookRunner,
    name: str,
    user: str,
    path: str = "",
    on_line: LineSink = None,
    *,
    password: str | None = None,
) -> tuple[FtpAccount, str]:
    """Adds an FTP user; returns it and its password (shown once, never stored)."""
    account, user, path = check_ftp_account(name, user, path)
    password = v.secret(password, "ftp_password") if password else new_secret()
    variables = {"account": name, "ftp_user": user, "ftp_path": path, "ftp_password": password}
    run_or_raise(runner, "ftp.yml", account.server.target(), variables, on_line=on_line)
    ftp = FtpAccount(account=account, user=user, path=path)
    db.session.add(ftp)
    db.session.commit()
    return ftp, password


def check_subdomain(name: str, label: str) -> tuple[HostingAccount, str]:
    """(account, label) if that subdomain may be added now."""
    account = get_account(name)
    _require_active(account, "adding a subdomain")
    fqdn = v.subdomain_within(label, account.domain, school_domains(account.school))
    label = fqdn.split(".", 1)[0]
    if any(s.label == label for s in account.subdomains):
        raise Conflict(f"{fqdn} already exists", fields={"label": "taken"})
    return account, label


def add_subdomain(
    runner: PlaybookRunner, name: str, label: str, on_line: LineSink = None
) -> Subdomain:
    account, label = check_subdomain(name, label)
    variables = {"account": name, "domain": account.domain, "subdomain": label}
    run_or_raise(runner, "subdomain.yml", account.server.target(), variables, on_line=on_line)
    sub = Subdomain(account=account, label=label)
    db.session.add(sub)
    db.session.commit()
    return sub


def check_ftp_user(name: str, user: str) -> tuple[HostingAccount, FtpAccount]:
    """(account, FTP user) if that existing FTP user may be changed now."""
    account = get_account(name)
    _require_active(account, "changing an FTP user")
    ftp = next((f for f in account.ftp_accounts if f.user == user), None)
    if ftp is None:
        raise NotFound(
            f"Account {account.name} has no FTP user named {user!r}", fields={"user": "unknown"}
        )
    return account, ftp


def reset_ftp_password(
    runner: PlaybookRunner,
    name: str,
    user: str,
    on_line: LineSink = None,
    *,
    password: str | None = None,
) -> str:
    """Gives an FTP user a new password; returns it (shown once, never stored)."""
    account, ftp = check_ftp_user(name, user)
    password = v.secret(password, "ftp_password") if password else new_secret()
    variables = {
        "account": name,
        "ftp_user": ftp.user,
        "ftp_path": ftp.path,
        "ftp_password": password,
        "ftp_password_reset": True,
    }
    run_or_raise(runner, "ftp.yml", account.server.target(), variables, on_line=on_line)
    return password


def remove_ftp_account(
    runner: PlaybookRunner, name: str, user: str, on_line: LineSink = None
) -> None:
    account, ftp = check_ftp_user(name, user)
    variables = {"account": name, "ftp_user": ftp.user, "ftp_path": ftp.path, "ftp_state": "absent"}
    run_or_raise(runner, "ftp.yml", account.server.target(), variables, on_line=on_line)
    account.ftp_accounts.remove(ftp)
    db.session.commit()
