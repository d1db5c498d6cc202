"""The periodic SLA scan: mark cases at risk and breached, and tell people once.

A plain function the scheduler calls (and `provisioner jobs run-due`). Marking
happens on every scan; mail goes out only while the desk is open, so a breach at
02:00 is announced at the next opening, and each state is announced once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from provisioner.cases import calendars
from provisioner.cases.models import OPEN_STATUSES, Case
from provisioner.cases.services import add_event, pauses_of
from provisioner.db import db, utcnow
from provisioner.mail.outbound import MailError, Message
from provisioner.schools.models import STAFF_ROLES, User
from provisioner.sla import clock_start, elapsed_fraction

log = logging.getLogger("provisioner.cases.scan")

DEFAULT_AT_RISK = {"P1": 0.75, "P2": 0.75, "P3": 0.75, "P4": 0.75}


@dataclass
class ScanResult:
    at_risk: list[str] = field(default_factory=list)
    breached: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    mailed: list[str] = field(default_factory=list)
    mail_failures: list[str] = field(default_factory=list)
    desk_open: bool = False


def desk_open(now: datetime) -> bool:
    return clock_start(now, calendars.current_calendar()) == now


def _recipients(case: Case) -> list[str]:
    if case.assignee is not None and case.assignee.active:
        return [case.assignee.email]
    staff = db.session.scalars(
        select(User.email).where(User.role.in_(STAFF_ROLES), User.active.is_(True))
    )
    return sorted(staff)


def _message(case: Case, state: str, to: list[str]) -> Message:
    cal = calendars.calendar_of(case.calendar_version)
    due = case.due_at.astimezone(cal.tz).strftime("%a %d %b %Y %H:%M")
    what = "has breached its target" if state == "breached" else "is at risk of breaching"
    return Message(
        to=to,
        subject=f"[{case.reference}] {case.priority} {what}",
        text=(
            f"{case.reference} ({case.priority}, {case.school.name}) {what}.\n\n"
            f"Subject: {case.subject}\nDue: {due} (London)\nStatus: {case.status_label}\n"
            f"Assignee: {case.assignee.name if case.assignee else 'nobody'}\n"
        ),
        headers={"X-Provisioner-Case": case.reference},
    )


def scan_sla(now: datetime | None = None, *, send_mail, thresholds: dict | None = None):
    """One pass over the open cases. ``send_mail(Message)`` raises MailError on failure."""
    now = now or utcnow()
    limits = {**DEFAULT_AT_RISK, **(thresholds or {})}
    result = ScanResult(desk_open=desk_open(now))
    cases = db.session.scalars(
        select(Case).where(Case.status.in_(OPEN_STATUSES)).order_by(Case.due_at)
    ).all()
    for case in cases:
        if case.status == "awaiting_school":
            continue  # the clock is stopped; the due time moves on resume
        cal = calendars.calendar_of(case.calendar_version)
        if now >= case.due_at and not case.breached:
            case.breached, case.breached_at = True, case.due_at
            add_event(case, "breached", "Target breached", public=True, at=now)
            result.breached.append(case.reference)
        elif not case.breached:
            used = elapsed_fraction(
                case.priority, case.received_at, case.due_at, now, cal, pauses_of(case)
            )
            if used >= limits[case.priority] and not case.at_risk:
                case.at_risk, case.at_risk_at = True, now
                add_event(
                    case, "at_risk", f"At risk: {used:.0%} of the target used", public=False, at=now
                )
                result.at_risk.append(case.reference)
            elif used < limits[case.priority] and case.at_risk:
                # the due time moved later (priority, pause, calendar): no longer at risk
                case.at_risk, case.at_risk_at, case.at_risk_notified = False, None, False
                result.cleared.append(case.reference)
    db.session.commit()
    if result.desk_open:
        _notify(cases, result, send_mail)
    return result


def _notify(cases, result: ScanResult, send_mail) -> None:
    for case in cases:
        if case.breached and not case.breach_notified:
            state = "breached"
        elif case.at_risk and not case.breached and not case.at_risk_notified:
            state = "at_risk"
        else:
            continue
        try:
            send_mail(_message(case, state, _recipients(case)))
        except MailError as exc:
            # Not marked as sent, so the next scan tries again.
            log.warning("SLA %s mail for %s not sent: %s", state, case.reference, exc)
            result.mail_failures.append(case.reference)
            continue
        case.breach_notified = case.breach_notified or state == "breached"
        # a breach supersedes an unsent at-risk warning
        case.at_risk_notified = True
        db.session.commit()
        result.mailed.append(f"{case.reference}:{state}")
