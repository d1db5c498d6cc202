"""Accounts and security: cookies, lock-out, hashed tokens and passwords, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from provisioner.db import db, utcnow
from provisioner.schools.models import User
from provisioner.schools.services import AccountLocked, LoginFailed, authenticate
from provisioner.schools.throttle import LoginThrottle, TooManyAttempts


def _all_text_in_database() -> str:
    """Every value of every table, as one string, to search for leaked secrets."""
    chunks = []
    for table in inspect(db.engine).get_table_names():
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
            chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def test_session_cookie_is_httponly_and_samesite(client, make_technician):
    tech = make_technician()
    response = client.post(
        "/login", data={"email": tech.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_says_so_without_naming_which_part(client, make_technician):
    tech = make_technician()
    response = client.post("/login", data={"email": tech.email, "password": "wrong-password"})
    assert response.status_code == 401
    assert "email or password is not correct" in response.get_data(as_text=True)
    unknown = client.post("/login", data={"email": "nobody@x.example", "password": "whatever"})
    assert unknown.status_code == 401
    assert "email or password is not correct" in unknown.get_data(as_text=True)


def test_five_failures_lock_the_account_even_for_the_right_password(client, make_technician):
    tech = make_technician()
    for attempt in range(4):
        response = client.post("/login", data={"email": tech.email, "password": f"wrong-{attempt}"})
        assert response.status_code == 401
    response = client.post("/login", data={"email": tech.email, "password": "wrong-5"})
    assert response.status_code == 429
    assert "too many failed logins: this account is locked for 15 minutes" in response.get_data(
        as_text=True
    )
    response = client.post(
        "/login", data={"email": tech.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "locked for 15 more minute(s)" in page
    assert client.get("/admin/schools").status_code == 302  # still not logged in


def test_lock_expires_and_a_good_login_resets_the_count(app, make_technician):
    tech = make_technician()
    start = utcnow()
    for _ in range(4):
        with pytest.raises(LoginFailed):
            authenticate(tech.email, "wrong", now=start)
    with pytest.raises(AccountLocked):
        authenticate(tech.email, "wrong", now=start)
    with pytest.raises(AccountLocked):
        authenticate(tech.email, "correct-horse-battery", now=start + timedelta(minutes=14))
    later = start + timedelta(minutes=16)
    assert authenticate(tech.email, "correct-horse-battery", now=later).id == tech.id
    db.session.refresh(tech)
    assert tech.failed_logins == 0 and tech.locked_until is None


def test_deactivated_user_cannot_log_in_or_use_a_token(client, api, make_technician):
    tech = make_technician()
    caller = api(tech)
    tech.active = False
    db.session.commit()
    response = client.post(
        "/login", data={"email": tech.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 401
    assert caller.get("/api/v1/me").status_code == 401


def test_token_is_printed_once_and_only_its_hash_is_stored(runner, client, make_technician):
    tech = make_technician()
    first = runner.invoke(["token", "create", "--email", tech.email])
    second = runner.invoke(["token", "create", "--email", tech.email])
    assert first.exit_code == 0 and second.exit_code == 0
    token1, token2 = first.output.strip(), second.output.strip()
    assert token1 != token2 and token1.startswith("prov_")
    stored = _all_text_in_database()
    for token in (token1, token2):
        assert token not in stored
        assert token[len("prov_") :] not in stored
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.get_json()["email"] == tech.email


def test_passwords_are_stored_as_argon2_hashes(app, make_technician):
    tech = make_technician(password="a-very-secret-password")
    assert "a-very-secret-password" not in _all_text_in_database()
    assert tech.password_hash.startswith("$argon2id$")


def test_bad_or_missing_token_gets_401_in_the_error_shape(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorised"
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer prov_not-a-token"})
    assert response.status_code == 401
    assert "not valid" in response.get_json()["error"]["message"]


def test_roles_contacts_cannot_do_staff_things(api, make_school, make_contact):
    school = make_school(urn="111111")
    contact = make_contact(school, "head@a.example", nominated=True)
    caller = api(contact)
    response = caller.post("/api/v1/domains", json={"school_urn": "111111", "name": "a.org.uk"})
    assert response.status_code == 403
    response = caller.post("/api/v1/schools", json={"urn": "222222", "name": "Mine now"})
    assert response.status_code == 403
    assert db.session.scalar(select(User).where(User.role == "technician")) is None


def test_login_redirect_only_goes_to_local_paths(client, make_technician):
    tech = make_technician()
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": tech.email, "password": "correct-horse-battery"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_one_address_guessing_across_accounts_is_throttled(client, make_technician):
    tech = make_technician()
    for n in range(20):  # unknown accounts: no account lock can stop this
        response = client.post("/login", data={"email": f"guess{n}@x.example", "password": "pw"})
        assert response.status_code == 401
    response = client.post(
        "/login", data={"email": tech.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "too many failed logins from your network address: try again in 15 minute(s)" in (
        response.get_data(as_text=True)
    )
    elsewhere = client.post(
        "/login",
        data={"email": tech.email, "password": "correct-horse-battery"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert elsewhere.status_code == 302


def test_address_throttle_forgets_failures_after_its_window():
    start = utcnow()
    throttle = LoginThrottle(max_failures=3, window=timedelta(minutes=10))
    for minute in range(3):
        throttle.check("192.0.2.1", start + timedelta(minutes=minute))
        throttle.failed("192.0.2.1", start + timedelta(minutes=minute))
    with pytest.raises(TooManyAttempts, match="try again in 8 minute"):
        throttle.check("192.0.2.1", start + timedelta(minutes=2, seconds=30))
    throttle.check("192.0.2.2", start)  # other addresses are not affected
    throttle.check("192.0.2.1", start + timedelta(minutes=10, seconds=1))  # oldest expired
