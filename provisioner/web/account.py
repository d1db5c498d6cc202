"""The logged-in person's own API tokens: created here, shown once, revocable."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from provisioner.schools import services

account = Blueprint("account", __name__, url_prefix="/account")


@account.before_request
@login_required
def _logged_in():
    return None


@account.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = FlaskForm()  # only the CSRF token
    new_token = None
    if form.validate_on_submit():
        new_token = services.create_token(current_user.email)
    return render_template(
        "account/tokens.html",
        form=form,
        new_token=new_token,
        tokens=services.tokens_of(current_user),
    )


@account.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    form = FlaskForm()
    if form.validate_on_submit():
        row = services.revoke_token(current_user, token_id)
        flash(f"Token {row.prefix}… is revoked.", "success")
    return redirect(url_for("account.tokens"))
