"""Domain lifecycle records: expiry checks, reminders sent, escalations, prices, quotes.

The expiry itself lives on Domain (expires_on, expiry_source, expiry_checked_at,
no_registry_expiry, auto_renew).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.cases.models import Case
from provisioner.db import UTCDateTime, db, utcnow
from provisioner.registry.models import Domain
from provisioner.schools.models import School, User


class ExpiryCheck(db.Model):
    """One lookup of a domain's expiry and what came of it (kept even when rejected)."""

    __tablename__ = "expiry_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(30))  # expiry.Outcome
    source: Mapped[str | None] = mapped_column(String(20))  # rdap, whois, manual
    reported_on: Mapped[date | None]  # what the registry said, believed or not
    expires_on: Mapped[date | None]  # what we hold after the check
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    domain: Mapped[Domain] = relationship()

    __table_args__ = (Index("ix_expiry_checks_domain_time", "domain_id", "checked_at"),)


class ReminderSent(db.Model):
    """A claim on one reminder: (domain, expiry date, slot) is sent at most once.

    The row is inserted before sending (the claim; the unique key makes it atomic
    across concurrent runs), stamped `sent_at` after the mail went, and deleted again
    if sending failed so the next run retries.
    """

    __tablename__ = "reminders_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    expiry_date: Mapped[date]
    slot: Mapped[int]  # days from expiry: -90 is 90 days before, 7 is 7 days after
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[str] = mapped_column(Text, default="")

    domain: Mapped[Domain] = relationship()

    __table_args__ = (
        UniqueConstraint("domain_id", "expiry_date", "slot", name="uq_reminders_sent_slot"),
    )


class ExpiryEscalation(db.Model):
    """An expired domain raised to the technicians' queue, once per expiry date."""

    __tablename__ = "expiry_escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    expiry_date: Mapped[date]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    domain: Mapped[Domain] = relationship()
    case: Mapped[Case | None] = relationship()

    __table_args__ = (
        UniqueConstraint("domain_id", "expiry_date", name="uq_expiry_escalations_domain"),
    )


class TldPrice(db.Model):
    """The provider's price list: what registering or renewing under a suffix costs."""

    __tablename__ = "tld_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    suffix: Mapped[str] = mapped_column(String(63), unique=True)  # "sch.uk", "co.uk", "com"
    register_pence: Mapped[int]
    renew_pence: Mapped[int]
    years: Mapped[int] = mapped_column(default=1)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


REQUEST_KINDS = ("register", "renew")
# "processing": a registrar job is running for it (route53domains); it ends completed or
# back at approved with the job's error on the case.
REQUEST_STATUSES = ("quoted", "approved", "processing", "completed", "cancelled")


class RegistrationRequest(db.Model):
    """A school's request to register or renew a name, with the quote it approves."""

    __tablename__ = "registration_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # register | renew
    name: Mapped[str] = mapped_column(String(253), index=True)  # IDNA registrable name
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), default="quoted", index=True)
    # The quote, frozen when made: a later price change does not alter an approved quote.
    price_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    years: Mapped[int] = mapped_column(default=1)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the technician did at the registrar.
    registrar: Mapped[str | None] = mapped_column(String(40))  # manual | route53domains
    registrar_reference: Mapped[str | None] = mapped_column(String(200))
    cost_pence: Mapped[int | None]
    new_expiry: Mapped[date | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship()
    domain: Mapped[Domain | None] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])


class AutoRenewConsent(db.Model):
    """Who turned auto-renew on for a domain (Domain.auto_renew): a nominated contact's
    standing approval of the renewal price, so auto-renew's request needs no second one."""

    __tablename__ = "auto_renew_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), unique=True
    )
    given_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    given_by: Mapped[User] = relationship()


class AutoRenewal(db.Model):
    """The renewal request auto-renew opened for a domain: once per expiry date."""

    __tablename__ = "auto_renewals"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    expiry_date: Mapped[date]
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_requests.id", ondelete="SET NULL")
    )
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("domain_id", "expiry_date", name="uq_auto_renewals_domain_expiry"),
    )


class CalendarFeed(db.Model):
    """A read-only iCalendar feed of expiry dates: one school's, or every school's
    (technicians). Only the sha256 of the URL's token is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)

    school: Mapped[School | None] = relationship()
