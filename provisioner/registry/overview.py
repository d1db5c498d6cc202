"""What the pages show about domain lifecycles: the expiring-soon panel, a domain's
expiry history and reminders, and the read-only iCalendar feeds of expiry dates."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from provisioner.db import db, utcnow
from provisioner.errors import Forbidden, NotFound
from provisioner.registry import ical
from provisioner.registry.lifecycle_models import (
    CalendarFeed,
    ExpiryCheck,
    RegistrationRequest,
    ReminderSent,
)
from provisioner.registry.models import Domain
from provisioner.registry.reminders_plan import slot_label
from provisioner.schools.models import School, User

PANEL_DAYS = 90


def expiring_soon(
    school: School | None = None, *, today: date | None = None, days: int = PANEL_DAYS
) -> list[dict]:
    """Domains expiring within `days` (or already expired), soonest first; one school's,
    or every school's for technicians."""
    today = today or datetime.now(ZoneInfo("Europe/London")).date()
    query = (
        select(Domain)
        .where(Domain.expires_on.is_not(None), Domain.expires_on <= today + timedelta(days=days))
        .order_by(Domain.expires_on, Domain.name)
    )
    if school is not None:
        query = query.where(Domain.school_id == school.id)
    return [
        {
            "domain": d,
            "days_left": (d.expires_on - today).days,
            "expired": d.expires_on < today,
        }
        for d in db.session.scalars(query)
    ]


def reminders_sent(domain: Domain) -> list[dict]:
    rows = db.session.scalars(
        select(ReminderSent)
        .where(ReminderSent.domain_id == domain.id, ReminderSent.sent_at.is_not(None))
        .order_by(ReminderSent.sent_at.desc())
    )
    return [
        {
            "expiry_date": r.expiry_date,
            "slot": slot_label(r.slot),
            "sent_at": r.sent_at,
            "recipients": r.recipients,
        }
        for r in rows
    ]


def last_check(domain: Domain) -> ExpiryCheck | None:
    return db.session.scalar(
        select(ExpiryCheck)
        .where(ExpiryCheck.domain_id == domain.id)
        .order_by(ExpiryCheck.checked_at.desc(), ExpiryCheck.id.desc())
        .limit(1)
    )


def requests_for(domain: Domain) -> list[RegistrationRequest]:
    return list(
        db.session.scalars(
            select(RegistrationRequest)
            .where(
                (RegistrationRequest.domain_id == domain.id)
                | (RegistrationRequest.name == domain.registrable_name)
            )
            .order_by(RegistrationRequest.id.desc())
        )
    )


# ---------------------------------------------------------------- iCalendar feeds


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(actor: User, *, all_schools: bool = False) -> tuple[CalendarFeed, str]:
    """A new feed URL token (returned once; only its hash is kept). Contacts get their
    school's feed; technicians every school's."""
    if all_schools and not actor.is_staff:
        raise Forbidden("only technicians may have the feed of every school")
    if not actor.is_staff and actor.school_id is None:
        raise Forbidden("your account is not linked to a school")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(
        token_hash=_hash(token),
        prefix=token[:8],
        school_id=None if actor.is_staff else actor.school_id,
        created_by_id=actor.id,
    )
    db.session.add(feed)
    db.session.commit()
    return feed, token


def feeds_of(actor: User) -> list[CalendarFeed]:
    return list(
        db.session.scalars(
            select(CalendarFeed)
            .where(CalendarFeed.created_by_id == actor.id, CalendarFeed.revoked.is_(False))
            .order_by(CalendarFeed.id)
        )
    )


def revoke_feed(feed_id: int, actor: User) -> None:
    feed = db.session.get(CalendarFeed, feed_id)
    if feed is None or feed.created_by_id != actor.id:
        raise NotFound(f"no calendar feed #{feed_id}")
    feed.revoked = True
    db.session.commit()


def feed_for_token(token: str) -> CalendarFeed:
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    creator = db.session.get(User, feed.created_by_id) if feed else None
    # A feed dies with its creator's access: revoked, deactivated, or moved school.
    if (
        feed is None
        or feed.revoked
        or creator is None
        or not creator.active
        or (feed.school_id is not None and creator.school_id != feed.school_id)
    ):
        raise NotFound("no such calendar feed (it may have been revoked)")
    return feed


def feed_calendar(feed: CalendarFeed, *, now: datetime | None = None, base_url: str = "") -> str:
    now = now or utcnow()
    query = select(Domain).where(Domain.expires_on.is_not(None)).order_by(Domain.name)
    if feed.school_id is not None:
        query = query.where(Domain.school_id == feed.school_id)
        title = f"Domain expiry dates: {feed.school.name}"
    else:
        title = "Domain expiry dates: all schools"
    events = [
        ical.AllDayEvent(
            uid=f"domain-{d.id}-{d.expires_on:%Y%m%d}@provisioner",
            day=d.expires_on,
            summary=f"Domain expires: {d.unicode_name}",
            description=(
                f"{d.unicode_name} ({d.school.name}, URN {d.school.urn}) expires on "
                f"{d.expires_on:%d %B %Y}. Source: {d.expiry_source or 'unknown'}."
                + (" Auto-renew is on." if d.auto_renew else " Ask us to renew it in time.")
            ),
            url=base_url,
        )
        for d in db.session.scalars(query)
    ]
    feed.last_used_at = now
    db.session.commit()
    return ical.render(title, events, now)
