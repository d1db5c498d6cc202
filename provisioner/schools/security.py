"""Password and token hashing."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_hasher = PasswordHasher()
# For test suites only (PASSWORD_HASH_CHEAP): each hash records its own parameters,
# so verifying works whichever hasher made it.
_cheap_hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
TOKEN_PREFIX = "prov_"  # noqa: S105 - a label, not a secret


def hash_password(password: str) -> str:
    if has_app_context() and current_app.config.get("PASSWORD_HASH_CHEAP"):
        return _cheap_hasher.hash(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
