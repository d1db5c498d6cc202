"""Domain lifecycle services: refresh expiry dates, set one by hand, send renewal reminders.

Collaborators come in as arguments: the registry lookup (RDAP then WHOIS), `send_mail`
and `escalate`. Only the database is reached directly.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from provisioner.db import db, utcnow
from provisioner.errors import Forbidden, ProvisionerError
from provisioner.mail.outbound import MailError, Message, render_message
from provisioner.registry.answers import RegistryAnswer
from provisioner.registry.errors import LookupFailed, NotRegistered, UnsupportedTld
from provisioner.registry.expiry import (
    MAX_YEARS_AHEAD,
    ExpiryResult,
    Known,
    Outcome,
    check_one,
    manual,
    parse_day,
    run_concurrently,
)
from provisioner.registry.lifecycle_models import ExpiryCheck, ExpiryEscalation, ReminderSent
from provisioner.registry.models import Domain
from provisioner.registry.reminders_plan import (
    DEFAULT_SLOTS,
    days_left,
    due_slot,
    parse_slots,
    slot_label,
)
from provisioner.schools.models import ROLE_CONTACT, STAFF_ROLES, School, User

log = logging.getLogger("provisioner.registry")

# ---------------------------------------------------------------- expiry dates


def known_of(domain: Domain) -> Known:
    return Known(domain.expires_on, domain.expiry_source, domain.expiry_checked_at)


def refresh_expiry(
    domains: Sequence[Domain],
    lookup: Callable[[str], RegistryAnswer],
    *,
    now: datetime | None = None,
    workers: int = 8,
    progress: Callable[[int, int, str], None] | None = None,
    max_years: int = MAX_YEARS_AHEAD,
) -> list[ExpiryResult]:
    """Ask the registries about each domain's registrable name (concurrently, each name
    once) and store what is believable; every check is kept in ExpiryCheck."""
    now = now or utcnow()
    names = sorted({d.registrable_name for d in domains})

    def ask(name: str):
        # The answer or the registry's refusal, judged later against the stored date.
        try:
            return name, lookup(name)
        except (NotRegistered, LookupFailed, UnsupportedTld) as exc:
            return name, exc

    def tick(done: int, total: int, item) -> None:
        if progress is not None:
            progress(done, total, item[0])

    answers = dict(run_concurrently(names, ask, workers=workers, progress=tick))
    results = []
    # Judge against the dates held now, not when the lookups started: a technician
    # may have set one meanwhile.
    ids = [d.id for d in domains]
    fresh = db.session.scalars(
        select(Domain).where(Domain.id.in_(ids)).execution_options(populate_existing=True)
    ).all()
    for domain in sorted(fresh, key=lambda d: d.name):
        got = answers[domain.registrable_name]

        def replay(_name: str, got=got) -> RegistryAnswer:
            if isinstance(got, ProvisionerError):
                raise got
            return got

        result = check_one(
            domain.registrable_name, known_of(domain), replay, now, max_years=max_years
        )
        _apply(domain, result)
        results.append(result)
    db.session.commit()
    return results


def _apply(domain: Domain, result: ExpiryResult, actor: User | None = None) -> None:
    if result.outcome in (Outcome.UPDATED, Outcome.UNCHANGED):
        domain.expires_on = result.expiry
        domain.expiry_source = str(result.source)
        domain.expiry_checked_at = result.checked_at
        domain.no_registry_expiry = False
    elif result.outcome is Outcome.NO_REGISTRY_EXPIRY:
        domain.no_registry_expiry = True
        domain.expiry_checked_at = result.checked_at
    db.session.add(
        ExpiryCheck(
            domain_id=domain.id,
            checked_at=result.checked_at,
            outcome=str(result.outcome),
            source=str(result.source) if result.source else None,
            reported_on=result.reported
            or (result.expiry if result.outcome in (Outcome.UPDATED, Outcome.UNCHANGED) else None),
            expires_on=domain.expires_on,
            reason=result.reason,
            actor_id=actor.id if actor else None,
        )
    )


def set_expiry_manually(
    domain: Domain, expiry: date | str, actor: User, *, now: datetime | None = None
) -> ExpiryResult:
    """A technician's date (for names with no registry expiry, or a registry that
    lags), as a date or as the YYYY-MM-DD text a form or request sent."""
    if not actor.is_staff:
        raise Forbidden("only technicians may set an expiry date by hand")
    result = manual(domain.name, parse_day(expiry, "expires_on"), now or utcnow())
    _apply(domain, result, actor)
    db.session.commit()
    return result


def expiry_checks(domain: Domain, limit: int = 20) -> list[ExpiryCheck]:
    return list(
        db.session.scalars(
            select(ExpiryCheck)
            .where(ExpiryCheck.domain_id == domain.id)
            .order_by(ExpiryCheck.checked_at.desc(), ExpiryCheck.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- reminders


@dataclass
class ReminderRun:
    today: date
    sent: dict[str, list[str]] = field(default_factory=dict)  # school URN -> domain names
    failed: dict[str, str] = field(default_factory=dict)  # school URN -> why
    claimed_elsewhere: list[str] = field(default_factory=list)  # school URNs
    not_attempted: list[str] = field(default_factory=list)  # after repeated SMTP failures
    escalated: list[str] = field(default_factory=list)  # domain names

    @property
    def reminders(self) -> int:
        return sum(len(v) for v in self.sent.values())


@dataclass(frozen=True)
class SchoolInfo:
    id: int
    urn: str
    name: str


@dataclass(frozen=True)
class DueItem:
    domain_id: int
    name: str
    unicode_name: str
    expiry: date
    slot: int
    days_left: int
    auto_renew: bool

    @property
    def slot_label(self) -> str:
        return slot_label(self.slot)


def slots_from_config(config: dict) -> tuple[int, ...]:
    value = config.get("REMINDER_SLOTS")
    if value is None:
        return DEFAULT_SLOTS
    if isinstance(value, str):
        return parse_slots(value)
    return tuple(sorted(int(v) for v in value))


def due_reminders(today: date, slots: Sequence[int] = DEFAULT_SLOTS) -> dict[int, list[DueItem]]:
    """school id -> the reminders due today (one per domain, the latest due slot)."""
    slots = tuple(sorted(slots))
    # Only domains whose first slot has come: the rest cannot be due.
    window = and_(
        Domain.expires_on.is_not(None),
        Domain.expires_on <= today - timedelta(days=slots[0]),
    )
    rows = db.session.execute(
        select(
            Domain.id,
            Domain.name,
            Domain.unicode_name,
            Domain.expires_on,
            Domain.school_id,
            Domain.auto_renew,
        ).where(window)
    ).all()
    sent: dict[int, list[int]] = defaultdict(list)
    for domain_id, slot in db.session.execute(
        select(ReminderSent.domain_id, ReminderSent.slot)
        .join(Domain, Domain.id == ReminderSent.domain_id)
        .where(window, ReminderSent.expiry_date == Domain.expires_on)
    ):
        sent[domain_id].append(slot)
    due: dict[int, list[DueItem]] = defaultdict(list)
    for domain_id, name, unicode_name, expiry, school_id, auto_renew in rows:
        slot = due_slot(expiry, today, sent.get(domain_id, ()), slots)
        if slot is not None:
            due[school_id].append(
                DueItem(
                    domain_id,
                    name,
                    unicode_name,
                    expiry,
                    slot,
                    days_left(expiry, today),
                    bool(auto_renew),
                )
            )
    for items in due.values():
        items.sort(key=lambda i: (i.expiry, i.name))
    return dict(due)


def run_reminders(
    today: date,
    send_mail: Callable[[Message], None],
    *,
    now: datetime | None = None,
    slots: Sequence[int] = DEFAULT_SLOTS,
    escalate: Callable[[Domain, date], object] | None = None,
    stale_claim: timedelta = timedelta(minutes=30),
    max_consecutive_failures: int = 3,
) -> ReminderRun:
    """Send the reminders due `today`: one email per school listing its due domains, to
    its nominated contacts (technicians in Cc). Each (domain, expiry date, slot) is
    claimed before sending, so concurrent runs never send it twice; a failed send
    releases its claim for the next run. Expired domains are escalated once per expiry.
    """
    now = now or utcnow()
    run = ReminderRun(today)
    # Claims left by a run that died between claiming and sending.
    db.session.execute(
        delete(ReminderSent).where(
            ReminderSent.sent_at.is_(None), ReminderSent.claimed_at < now - stale_claim
        )
    )
    db.session.commit()

    due = due_reminders(today, slots)
    # Plain values, not ORM objects: each commit below would expire and reload them.
    schools = {
        row.id: SchoolInfo(row.id, row.urn, row.name)
        for row in db.session.execute(
            select(School.id, School.urn, School.name).where(School.id.in_(list(due)))
        )
    }
    contacts: dict[int, list[str]] = defaultdict(list)
    for school_id, email in db.session.execute(
        select(User.school_id, User.email)
        .where(
            User.school_id.in_(list(due)),
            User.role == ROLE_CONTACT,
            User.nominated.is_(True),
            User.active.is_(True),
        )
        .order_by(User.email)
    ):
        contacts[school_id].append(email)
    technicians = list(
        db.session.scalars(
            select(User.email)
            .where(User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.email)
        )
    )

    failures = 0
    for school_id in sorted(due, key=lambda i: schools[i].urn):
        school, items = schools[school_id], due[school_id]
        if failures >= max_consecutive_failures:
            run.not_attempted.append(school.urn)
            continue
        to = contacts.get(school_id) or technicians
        if not to:
            run.failed[school.urn] = "no nominated contacts and no technicians to write to"
            continue
        claim_ids = _claim(items, utcnow())
        if claim_ids is None:
            run.claimed_elsewhere.append(school.urn)
            continue
        cc = [t for t in technicians if t not in to]
        message = _reminder_message(school, items, to, cc, today, bool(contacts.get(school_id)))
        try:
            send_mail(message)
        except MailError as exc:
            db.session.execute(
                delete(ReminderSent)
                .where(ReminderSent.id.in_(claim_ids))
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            run.failed[school.urn] = exc.message
            failures += 1
            log.warning("renewal reminder to %s not sent: %s", school.urn, exc.message)
            continue
        failures = 0
        db.session.execute(
            update(ReminderSent)
            .where(ReminderSent.id.in_(claim_ids))
            .values(sent_at=utcnow(), recipients=", ".join(to + cc))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        run.sent[school.urn] = [i.name for i in items]

    if escalate is not None:
        run.escalated = _escalate_expired(today, escalate)
    return run


def _claim(items: list[DueItem], now: datetime) -> list[int] | None:
    """Claim every reminder in one transaction; None if another run holds any of them."""
    rows = [
        {"domain_id": i.domain_id, "expiry_date": i.expiry, "slot": i.slot, "claimed_at": now}
        for i in items
    ]
    # A Core-style bulk insert: no ORM objects pile up in the session over 1,000 schools.
    try:
        ids = list(db.session.scalars(insert(ReminderSent).returning(ReminderSent.id), rows))
    except IntegrityError:
        db.session.rollback()
        return None
    db.session.commit()
    return ids


def _reminder_message(
    school: SchoolInfo, items: list[DueItem], to: list[str], cc: list[str], today: date, named: bool
) -> Message:
    expired = [i for i in items if i.days_left < 0]
    if expired:
        subject = f"Domain expired: {school.name} ({len(items)} domain{'s' * (len(items) > 1)})"
    else:
        soonest = items[0]
        subject = (
            f"Domain renewal: {soonest.unicode_name} expires on {soonest.expiry:%d %B %Y}"
            if len(items) == 1
            else f"Domain renewal: {len(items)} domains for {school.name} expire soon"
        )
    message = render_message(
        to,
        subject,
        "renewal_reminder",
        school=school,
        items=items,
        today=today,
        has_nominated=named,
    )
    if cc:
        message.headers["Cc"] = ", ".join(cc)
    return message


def _escalate_expired(today: date, escalate: Callable[[Domain, date], object]) -> list[str]:
    """Raise each expired domain once per expiry date; the claim and the case commit together."""
    done = select(ExpiryEscalation.id).where(
        ExpiryEscalation.domain_id == Domain.id,
        ExpiryEscalation.expiry_date == Domain.expires_on,
    )
    expired = db.session.scalars(
        select(Domain)
        .where(Domain.expires_on.is_not(None), Domain.expires_on < today, ~done.exists())
        .order_by(Domain.name)
    ).all()
    escalated = []
    for domain in expired:
        claim = ExpiryEscalation(domain_id=domain.id, expiry_date=domain.expires_on)
        db.session.add(claim)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()  # another run escalated it first
            continue
        case = escalate(domain, today)
        claim.case_id = getattr(case, "id", None)
        db.session.commit()
        escalated.append(domain.name)
    return escalated


def open_expiry_case(domain: Domain, today: date):
    """The default `escalate`: a P2 renewal case in the technicians' queue."""
    from provisioner.cases.services import open_case

    days = (today - domain.expires_on).days
    return open_case(
        school=domain.school,
        subject=f"Domain expired: {domain.unicode_name}",
        category="domain_renewal",
        channel="system",
        priority="P2",
        description=(
            f"{domain.unicode_name} expired on {domain.expires_on:%d %B %Y} ({days} day"
            f"{'s' * (days != 1)} ago; source {domain.expiry_source or 'unknown'}). Renew it at "
            "the registrar or confirm the school has let it go, then record the new expiry date."
        ),
        commit=False,
    )
