"""Schools, contacts, nominations, staff, logins and API tokens.

Service functions own their transaction: they validate everything first,
then change and commit, so a refusal never leaves half a change behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from provisioner.db import db, utcnow
from provisioner.errors import Conflict, Forbidden, NotFound, ProvisionerError, ValidationError
from provisioner.schools import validation as v
from provisioner.schools.models import (
    ROLE_ADMIN,
    ROLE_CONTACT,
    ROLE_TECHNICIAN,
    ApiToken,
    School,
    User,
)
from provisioner.schools.security import hash_password, hash_token, new_token, verify_password
from provisioner.schools.throttle import LoginThrottle


class LoginFailed(ProvisionerError):
    code = "login_failed"
    status = 401


class AccountLocked(ProvisionerError):
    code = "account_locked"
    status = 429


def get_school(urn: str) -> School:
    school = db.session.scalar(select(School).where(School.urn == (urn or "").strip()))
    if school is None:
        raise NotFound(f"no school with URN {urn!r}", fields={"school_urn": "unknown school"})
    return school


def list_schools(search: str | None = None) -> list[School]:
    query = select(School).order_by(School.name)
    if search:
        like = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(School.name).like(like),
                School.urn.like(like),
                func.lower(School.local_authority).like(like),
            )
        )
    return list(db.session.scalars(query))


def list_contacts(search: str | None = None) -> list[User]:
    """Every school contact, optionally matching a name, email, phone or school."""
    query = (
        select(User)
        .join(School, User.school_id == School.id)
        .where(User.role == ROLE_CONTACT)
        .order_by(School.name, User.name)
    )
    if search and search.strip():
        like = f"%{search.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.name).like(like),
                User.email.like(like),
                User.phone.like(like),
                func.lower(School.name).like(like),
                School.urn.like(like),
            )
        )
    return list(db.session.scalars(query))


def add_school(urn: str, name: str, local_authority: str | None = None) -> School:
    urn = v.clean_urn(urn)
    name = v.clean_name(name)
    la = v.clean_optional(local_authority, "local_authority")
    if db.session.scalar(select(School.id).where(School.urn == urn)):
        raise Conflict(f"a school with URN {urn} already exists", fields={"urn": "already used"})
    school = School(urn=urn, name=name, local_authority=la)
    db.session.add(school)
    _commit_or_conflict(f"a school with URN {urn} already exists")
    return school


def update_school(school: School, name: str, local_authority: str | None) -> School:
    name = v.clean_name(name)
    la = v.clean_optional(local_authority, "local_authority")
    school.name, school.local_authority = name, la
    db.session.commit()
    return school


def nomination_warnings(school: School) -> list[str]:
    """What is wrong with the school's nominations, shown on the school, never hidden."""
    cfg = current_app.config
    nominated = school.nominated_contacts
    warnings = []
    if len(nominated) < cfg["MIN_NOMINATED"]:
        warnings.append(
            f"{school.name} has {len(nominated)} nominated contact(s); "
            f"the service asks for {cfg['MIN_NOMINATED']} to {cfg['MAX_NOMINATED']}."
        )
    if nominated and not any(c.is_slt for c in nominated):
        warnings.append(f"None of {school.name}'s nominated contacts is a member of the SLT.")
    if not nominated:
        warnings.append(f"{school.name} has no nominated contact: nobody can request changes.")
    return warnings


def _check_nomination_room(school: School, exclude: User | None = None) -> None:
    limit = current_app.config["MAX_NOMINATED"]
    others = [c for c in school.nominated_contacts if c is not exclude]
    if len(others) >= limit:
        names = ", ".join(c.name for c in others)
        raise Conflict(
            f"{school.name} already has {limit} nominated contacts ({names}); "
            "remove a nomination first",
            code="nomination_limit",
            fields={"nominated": f"at most {limit} per school"},
        )


def _check_email_free(email: str, exclude: User | None = None) -> None:
    other = db.session.scalar(select(User).where(User.email == email))
    if other is not None and other is not exclude:
        where = f"a contact of {other.school.name}" if other.school else "a member of staff"
        raise Conflict(f"{email} is already used by {where}", fields={"email": "already in use"})


def add_contact(
    school_urn: str,
    name: str,
    email: str,
    *,
    phone: str | None = None,
    role: str | None = None,
    nominated: bool = False,
    password: str | None = None,
) -> User:
    school = get_school(school_urn)
    name = v.clean_name(name)
    email = v.clean_email(email)
    contact_role = v.clean_contact_role(role)
    password = v.clean_password(password)
    _check_email_free(email)
    if nominated:
        _check_nomination_room(school)
    user = User(
        email=email,
        name=name,
        phone=v.clean_optional(phone, "phone", limit=40),
        role=ROLE_CONTACT,
        school=school,
        contact_role=contact_role,
        nominated=nominated,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    _commit_or_conflict(f"{email} is already in use")
    return user


def update_contact(
    contact: User,
    *,
    name: str,
    email: str,
    phone: str | None,
    role: str | None,
    nominated: bool,
    password: str | None = None,
) -> User:
    """Change a contact; an empty password keeps the current one."""
    name = v.clean_name(name)
    email = v.clean_email(email)
    contact_role = v.clean_contact_role(role)
    password = v.clean_password(password)
    phone = v.clean_optional(phone, "phone", limit=40)
    _check_email_free(email, exclude=contact)
    if nominated and not contact.nominated:
        _check_nomination_room(contact.school, exclude=contact)
    contact.name, contact.email, contact.contact_role = name, email, contact_role
    contact.phone = phone
    contact.nominated = nominated
    if password:
        contact.password_hash = hash_password(password)
    _commit_or_conflict(f"{email} is already in use")
    return contact


def get_contact(school: School, contact_id: int) -> User:
    """A contact of this school; another school's contact is simply not found."""
    contact = db.session.get(User, contact_id)
    if contact is None or contact.school_id != school.id:
        raise NotFound(
            f"{school.name} has no contact number {contact_id}", fields={"contact": "unknown"}
        )
    return contact


def list_staff() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role.in_((ROLE_ADMIN, ROLE_TECHNICIAN))).order_by(User.name)
        )
    )


def add_technician(email: str, name: str, *, admin: bool = False, password: str | None = None):
    email = v.clean_email(email)
    name = v.clean_name(name)
    password = v.clean_password(password)
    _check_email_free(email)
    user = User(
        email=email,
        name=name,
        role=ROLE_ADMIN if admin else ROLE_TECHNICIAN,
        password_hash=hash_password(password) if password else None,
    )
    db.session.add(user)
    _commit_or_conflict(f"{email} is already in use")
    return user


def get_user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email!r}", fields={"email": "unknown user"})
    return user


def create_token(email: str) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    user = get_user_by_email(email)
    if not user.active:
        raise Forbidden(f"{user.email} is deactivated")
    token = new_token()
    db.session.add(ApiToken(user=user, token_hash=hash_token(token), prefix=token[:12]))
    db.session.commit()
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
    )


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; anyone else's is simply not found."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"you have no API token number {token_id}", fields={"token": "unknown"})
    row.revoked = True
    db.session.commit()
    return row


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked.is_(False)
        )
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    db.session.commit()
    return row.user


def authenticate(email: str, password: str, now: datetime | None = None) -> User:
    """Check a login, counting failures and locking the account after too many."""
    now = now or utcnow()
    cfg = current_app.config
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise LoginFailed("email or password is not correct")
    if user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        raise AccountLocked(
            f"too many failed logins: this account is locked for {minutes} more minute(s)"
        )
    if not user.active or not verify_password(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"])
            user.failed_logins = 0
            db.session.commit()
            raise AccountLocked(
                "too many failed logins: this account is locked for "
                f"{cfg['LOGIN_LOCKOUT_MINUTES']} minutes"
            )
        db.session.commit()
        raise LoginFailed("email or password is not correct")
    user.failed_logins = 0
    user.locked_until = None
    db.session.commit()
    return user


def log_in(
    email: str, password: str, *, client: str, throttle: LoginThrottle, now: datetime | None = None
) -> User:
    """A login from a client address: the address's failures count as well as the account's."""
    now = now or utcnow()
    throttle.check(client, now)
    try:
        return authenticate(email, password, now)
    except (LoginFailed, AccountLocked):
        throttle.failed(client, now)
        raise


def _commit_or_conflict(message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(message) from exc


__all__ = [
    "AccountLocked",
    "LoginFailed",
    "ValidationError",
    "add_contact",
    "add_school",
    "add_technician",
    "authenticate",
    "log_in",
    "create_token",
    "get_school",
    "nomination_warnings",
    "user_for_token",
]
