"""Adding and listing the domains schools manage."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from provisioner.db import db
from provisioner.errors import Conflict, DomainLimitReached, NotFound, ValidationError
from provisioner.registry.models import Domain
from provisioner.registry.names import normalise, to_ascii
from provisioner.schools.models import School, User
from provisioner.schools.services import get_school


def get_domain(name: str) -> Domain:
    try:
        ascii_name = to_ascii(name)
    except ValidationError:  # a malformed name is simply not one of ours
        ascii_name = name
    domain = db.session.scalar(select(Domain).where(Domain.name == ascii_name))
    if domain is None:
        raise NotFound(f"no managed domain named {name!r}", fields={"domain": "unknown domain"})
    return domain


def domains_visible_to(user: User) -> list[Domain]:
    query = select(Domain).order_by(Domain.name)
    if not user.is_staff:
        query = query.where(Domain.school_id == user.school_id)
    return list(db.session.scalars(query))


def add_domain(school_urn: str, name: str, provider=None) -> Domain:
    """Add a domain to a school, holding the per-school limit under concurrency.

    The count is claimed with one conditional UPDATE, which PostgreSQL and
    SQLite both evaluate atomically against the committed value, so 20 racing
    adds for a school with 8 domains let exactly 2 through.
    """
    domain_name = normalise(name)
    school = get_school(school_urn)
    limit = current_app.config["DOMAIN_LIMIT"]
    owner = db.session.scalar(select(Domain).where(Domain.name == domain_name.ascii))
    if owner is not None:
        raise _owned(domain_name.ascii, owner.school)
    claimed = db.session.execute(
        update(School)
        .where(School.id == school.id, School.domain_count < limit)
        .values(domain_count=School.domain_count + 1)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise DomainLimitReached(
            f"{school.name} already has {limit} domains, the most a school may have; "
            "remove one before adding another",
            fields={"name": f"at most {limit} domains per school"},
        )
    domain = Domain(
        name=domain_name.ascii,
        unicode_name=domain_name.unicode,
        registrable_name=domain_name.registrable,
        school_id=school.id,
        provider=provider,
    )
    db.session.add(domain)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        owner = db.session.scalar(select(Domain).where(Domain.name == domain_name.ascii))
        raise _owned(domain_name.ascii, owner.school if owner else school) from exc
    return domain


def remove_domain(domain: Domain) -> None:
    db.session.execute(
        update(School)
        .where(School.id == domain.school_id)
        .values(domain_count=School.domain_count - 1)
    )
    db.session.delete(domain)
    db.session.commit()


def _owned(name: str, school: School) -> Conflict:
    return Conflict(
        f"{name} is already managed for {school.name} (URN {school.urn})",
        code="domain_taken",
        fields={"name": "already managed"},
    )


def list_domains(school_urn: str | None = None, search: str | None = None) -> list[Domain]:
    query = select(Domain).order_by(Domain.name)
    if school_urn:
        query = query.where(Domain.school_id == get_school(school_urn).id)
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(or_(Domain.name.like(like), func.lower(Domain.unicode_name).like(like)))
    return list(db.session.scalars(query))


def domains_of(school: School) -> list[Domain]:
    return list(
        db.session.scalars(
            select(Domain).where(Domain.school_id == school.id).order_by(Domain.name)
        )
    )
