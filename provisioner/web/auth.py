"""Logging in and out."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from provisioner.schools.services import AccountLocked, LoginFailed, log_in
from provisioner.schools.throttle import LoginThrottle, TooManyAttempts

auth = Blueprint("auth", __name__)


@auth.record_once
def _make_throttle(state) -> None:
    cfg = state.app.config
    state.app.extensions["login_throttle"] = LoginThrottle(
        max_failures=cfg.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        window=timedelta(minutes=cfg.get("LOGIN_ADDRESS_WINDOW_MINUTES", 15)),
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


def _safe_next(target: str | None) -> str | None:
    # Only local paths, so a crafted link cannot bounce a user to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@auth.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = log_in(
                form.email.data,
                form.password.data,
                client=request.remote_addr or "unknown",
                throttle=current_app.extensions["login_throttle"],
            )
        except (LoginFailed, AccountLocked, TooManyAttempts) as exc:
            form.password.errors.append(exc.message)
            status = exc.status
        else:
            login_user(user)
            flash(f"Welcome, {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("index"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@auth.post("/logout")
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
