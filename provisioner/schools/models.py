"""Schools, the people who act for them, and provider staff."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.db import UTCDateTime, db, utcnow

ROLE_ADMIN = "admin"
ROLE_TECHNICIAN = "technician"
ROLE_CONTACT = "contact"
STAFF_ROLES = (ROLE_ADMIN, ROLE_TECHNICIAN)

# What a contact does at the school; "slt" is the senior leadership team.
CONTACT_ROLES = {
    "slt": "Senior leadership (SLT)",
    "business_manager": "Business manager",
    "office": "Office",
    "it_lead": "IT lead",
    "other": "Other",
}


class School(db.Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    local_authority: Mapped[str | None] = mapped_column(String(120))
    # Maintained by registry.services.add_domain with a conditional UPDATE, so the
    # ten-domain limit holds under concurrent requests on SQLite and PostgreSQL.
    domain_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contacts: Mapped[list[User]] = relationship(
        back_populates="school", order_by="User.name", lazy="selectin"
    )

    __table_args__ = (CheckConstraint("domain_count >= 0", name="domain_count_positive"),)

    @property
    def nominated_contacts(self) -> list[User]:
        return [c for c in self.contacts if c.nominated and c.active]


class User(UserMixin, db.Model):
    """Anyone who can log in or be named on a case: staff and school contacts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    contact_role: Mapped[str | None] = mapped_column(String(40))
    nominated: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School | None] = relationship(back_populates="contacts")

    __table_args__ = (
        CheckConstraint(
            "(role = 'contact' AND school_id IS NOT NULL) OR "
            "(role IN ('admin', 'technician') AND school_id IS NULL)",
            name="staff_have_no_school",
        ),
    )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    @property
    def is_slt(self) -> bool:
        return self.contact_role == "slt"

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # sha256 of the token: tokens are 256-bit random, so a slow hash adds nothing.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()
