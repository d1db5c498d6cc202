"""Usage collection and quota warnings (issue 8, "Quota").

Usage comes from usage.yml (the filesystem's own accounting: btrfs qgroups, XFS or
ext4 quotas), daily through the periodic job and on demand (`provisioner hosting
usage`). When an account crosses 80%, 95% or 100% of its quota its school's
nominated contacts get one email: the crossing is recorded (one row per account
and threshold) in the same transaction that queues the email as an operation, so
it is sent once, and retried until the mail server takes it. Several thresholds
crossed at once make one email, about the highest. **Decision**: a threshold is
re-armed when usage falls REARM_POINTS below it, so a school that tidies up and
fills up again is told again, without a mail a day while usage hovers at a line.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from provisioner.db import db
from provisioner.hosting import services
from provisioner.hosting.models import HostingAccount, HostingUsageAlert
from provisioner.hosting.runner import PlaybookFailed, PlaybookRunner
from provisioner.mail.outbound import Message
from provisioner.mail.queue import queue_mail

log = logging.getLogger("provisioner.hosting")

THRESHOLDS = (80, 95, 100)
REARM_POINTS = 5


def crossed(used_bytes: int, quota_bytes: int) -> list[int]:
    """The thresholds (percent) that `used_bytes` has reached."""
    return [t for t in THRESHOLDS if used_bytes * 100 >= quota_bytes * t]


def rearmed(announced: list[int], used_bytes: int, quota_bytes: int) -> list[int]:
    """Announced thresholds that usage has since fallen well below."""
    return [t for t in announced if used_bytes * 100 < quota_bytes * (t - REARM_POINTS)]


def _gib(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB"


def _message(account: HostingAccount, threshold: int, to: list[str]) -> Message:
    used, quota = account.used_bytes or 0, account.quota_bytes
    percent = used * 100 // quota
    if threshold >= 100:
        subject = f"Your website storage is full: {account.domain}"
        lead = (
            "Your school's web hosting has reached its storage limit. Uploads to the site "
            "and by FTP will fail until some files are removed."
        )
    else:
        subject = f"Your website storage is {threshold}% full: {account.domain}"
        lead = (
            f"Your school's web hosting has used over {threshold}% of its storage. When it "
            "is full, uploads to the site and by FTP will fail."
        )
    text = (
        f"{lead}\n\n"
        f"Account: {account.name} ({account.domain})\n"
        f"Used: {_gib(used)} of {_gib(quota)} ({percent}%)\n\n"
        "You can remove old files by FTP, or contact the service desk about your plan.\n"
    )
    return Message(to=to, subject=subject, text=text)


def announce(account: HostingAccount) -> int | None:
    """Record and queue the warning for thresholds newly crossed; returns the threshold
    announced, or None. Commits."""
    if account.used_bytes is None:
        return None
    announced = list(
        db.session.scalars(
            select(HostingUsageAlert.threshold).where(HostingUsageAlert.account_id == account.id)
        )
    )
    again = rearmed(announced, account.used_bytes, account.quota_bytes)
    if again:
        db.session.execute(
            delete(HostingUsageAlert).where(
                HostingUsageAlert.account_id == account.id, HostingUsageAlert.threshold.in_(again)
            )
        )
    new = [
        t
        for t in crossed(account.used_bytes, account.quota_bytes)
        if t not in announced or t in again
    ]
    if not new:
        db.session.commit()
        return None
    for threshold in new:
        db.session.add(
            HostingUsageAlert(
                account_id=account.id, threshold=threshold, used_bytes=account.used_bytes
            )
        )
    top = max(new)
    to = [c.email for c in account.school.nominated_contacts]
    try:
        db.session.flush()  # a concurrent collection that got here first wins
    except IntegrityError:
        db.session.rollback()
        return None
    if to:
        message = _message(account, top, to)
        queue_mail(message, resource_key=f"mail:hosting:{account.name}")
    else:
        log.warning(
            "account %s crossed %s%% but its school has no nominated contacts", account.name, top
        )
    db.session.commit()
    return top


def collect(runner: PlaybookRunner, name: str | None = None) -> list[HostingAccount]:
    """Refresh usage (one account, or every live one) and announce new crossings."""
    accounts = services.refresh_usage(runner, name)
    for account in accounts:
        announce(account)
    return accounts


def collect_all(runner: PlaybookRunner) -> tuple[int, list[str]]:
    """The daily job: every account, one failing server does not stop the others.
    Returns (accounts measured, failures)."""
    measured, failures = 0, []
    for account in services.list_accounts():
        if account.status not in ("active", "suspended"):
            continue
        try:
            collect(runner, account.name)
        except PlaybookFailed as exc:
            db.session.rollback()
            failures.append(f"{account.name}: {exc.message}")
            log.error("usage of %s not collected: %s", account.name, exc.message)
            continue
        measured += 1
    return measured, failures
