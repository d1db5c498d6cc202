"""Domain lifecycle pages: a domain's expiry and reminders, registration and renewal
requests (quote, approval, completion), auto-renew, and the iCalendar feeds.

Contacts see their own school only; nominated contacts ask and approve; technicians
set dates by hand and register or renew. Each view parses the form, calls one service
and renders; a refusal is shown on the page with its 4xx status and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from provisioner.errors import NotFound, ProvisionerError, ValidationError
from provisioner.registry import (
    auto_renew,
    fulfil,
    overview,
    quotes,
    registrar_jobs,
    registrars,
    scheduled,
)
from provisioner.registry import services as domains
from provisioner.registry.lifecycle import expiry_checks, set_expiry_manually

domain_lifecycle = Blueprint("domain_lifecycle", __name__)


class PostForm(FlaskForm):
    """Only the CSRF token: the fields are read by the services, which name bad input."""


def _login():
    if not current_user.is_authenticated:
        from flask_login import login_url

        return redirect(login_url("auth.login", request.url))
    return None


@domain_lifecycle.before_request
def _logged_in():
    if request.endpoint == "domain_lifecycle.calendar_feed":
        return None  # the feed's token is its credential
    return _login()


@domain_lifecycle.app_template_global()
def expiring_soon_panel() -> list[dict]:
    """Rows for the "expiring soon" panel: the viewer's school, or every school for staff."""
    if not current_user.is_authenticated:
        return []
    if current_user.is_staff:
        return overview.expiring_soon()
    return overview.expiring_soon(current_user.school) if current_user.school else []


@domain_lifecycle.app_template_filter("price")
def _price(pence: int | None, currency: str = "GBP") -> str:
    return "" if pence is None else quotes.format_price(pence, currency)


def _domain_for(name: str):
    domain = domains.get_domain(name)
    if not current_user.is_staff and domain.school_id != current_user.school_id:
        raise NotFound(f"no managed domain named {name!r}", fields={"domain": "unknown domain"})
    return domain


def _show_domain(domain, status=200, error=None):
    return render_template(
        "domains/detail.html",
        domain=domain,
        form=PostForm(),
        checks=expiry_checks(domain),
        last_check=overview.last_check(domain),
        reminders=overview.reminders_sent(domain),
        requests=overview.requests_for(domain),
        error=error,
        status_labels=fulfil.STATUS_LABELS,
    ), status


@domain_lifecycle.get("/domains/<name>")
def domain_detail(name: str):
    return _show_domain(_domain_for(name))


@domain_lifecycle.post("/domains/<name>/expiry")
def set_expiry(name: str):
    domain = _domain_for(name)
    if not current_user.is_staff:
        abort(403, "Only technicians set expiry dates by hand.")
    PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
    try:
        result = set_expiry_manually(domain, request.form.get("expires_on", ""), current_user)
        day = result.expiry
    except ProvisionerError as exc:
        return _show_domain(domain, exc.status, exc.message)
    flash(f"{domain.unicode_name} now expires on {day:%d %B %Y} (set by hand).", "success")
    return redirect(url_for("domain_lifecycle.domain_detail", name=domain.name))


@domain_lifecycle.post("/domains/<name>/auto-renew")
def set_auto_renew(name: str):
    domain = _domain_for(name)
    PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
    enabled = request.form.get("enabled") == "on"
    try:
        auto_renew.set_auto_renew(domain, enabled, current_user)
    except ProvisionerError as exc:
        return _show_domain(domain, exc.status, exc.message)
    flash(f"Auto-renew is {'on' if enabled else 'off'} for {domain.unicode_name}.", "success")
    return redirect(url_for("domain_lifecycle.domain_detail", name=domain.name))


@domain_lifecycle.get("/domains/expiring")
def expiring():
    return render_template("domains/expiring.html", rows=expiring_soon_panel())


# ---------------------------------------------------------------- requests


def _show_requests(status=200, error=None, name=""):
    return render_template(
        "domains/requests.html",
        rows=fulfil.list_requests(current_user),
        form=PostForm(),
        error=error,
        name=name,
        status_labels=fulfil.STATUS_LABELS,
        domains=domains.domains_visible_to(current_user),
    ), status


@domain_lifecycle.get("/domain-requests")
def requests_list():
    return _show_requests()


@domain_lifecycle.post("/domain-requests")
def request_new():
    PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
    kind, name = request.form.get("kind", ""), request.form.get("name", "")
    try:
        if kind == "register":
            lookup = scheduled.build_lookup(_config())
            made = quotes.request_registration(current_user, name, is_available=lookup.is_available)
        elif kind == "renew":
            made = quotes.request_renewal(current_user, name)
        else:
            raise ValidationError("choose register or renew", fields={"kind": "register|renew"})
    except ProvisionerError as exc:
        return _show_requests(exc.status, exc.message, name)
    flash(f"Quote #{made.id}: {quotes.format_price(made.price_pence)} for {made.name}.", "success")
    return redirect(url_for("domain_lifecycle.request_show", request_id=made.id))


def _config():
    from flask import current_app

    return current_app.config


def _show_request(made, status=200, error=None):
    return render_template(
        "domains/request.html",
        req=made,
        form=PostForm(),
        error=error,
        status_labels=fulfil.STATUS_LABELS,
        registrars=registrars.KINDS,
        providers=fulfil.provider_choices() if current_user.is_staff else [],
        school_provider=fulfil.school_provider(made.school) if current_user.is_staff else None,
    ), status


@domain_lifecycle.get("/domain-requests/<int:request_id>")
def request_show(request_id: int):
    return _show_request(fulfil.get_request(request_id, current_user))


@domain_lifecycle.post("/domain-requests/<int:request_id>/approve")
def request_approve(request_id: int):
    made = fulfil.get_request(request_id, current_user)
    PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
    try:
        quotes.approve_quote(made.id, current_user)
    except ProvisionerError as exc:
        return _show_request(made, exc.status, exc.message)
    flash(f"You approved {quotes.format_price(made.price_pence)} for {made.name}.", "success")
    return redirect(url_for("domain_lifecycle.request_show", request_id=made.id))


@domain_lifecycle.post("/domain-requests/<int:request_id>/complete")
def request_complete(request_id: int):
    if not current_user.is_staff:
        abort(403, "Only technicians register and renew domains.")
    made = fulfil.get_request(request_id, current_user)
    PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
    provider = request.form.get("provider") or None
    try:
        kind, details = fulfil.parse_completion(request.form)
        _done, operation = registrar_jobs.start_completion(
            made.id, current_user, kind, details, provider_name=provider
        )
        if operation is None:
            flash(f"{made.name}: done, and the case is resolved.", "success")
        else:
            flash(f"{made.name}: sent to {kind} (operation {operation.id}).", "success")
    except ProvisionerError as exc:
        return _show_request(made, exc.status, exc.message)
    return redirect(url_for("domain_lifecycle.request_show", request_id=made.id))


# ---------------------------------------------------------------- calendar feeds


@domain_lifecycle.route("/calendar-feeds", methods=["GET", "POST"])
def feeds():
    new_url = None
    if request.method == "POST":
        PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
        _feed, token = overview.create_feed(current_user)
        new_url = url_for("domain_lifecycle.calendar_feed", token=token, _external=True)
    return render_template(
        "domains/feeds.html",
        feeds=overview.feeds_of(current_user),
        new_url=new_url,
        form=PostForm(),
    ), (201 if new_url else 200)


@domain_lifecycle.post("/calendar-feeds/<int:feed_id>/revoke")
def feed_revoke(feed_id: int):
    PostForm().validate_on_submit() or abort(400, "The form expired; reload and try again.")
    overview.revoke_feed(feed_id, current_user)
    flash("The calendar feed was revoked; its address no longer works.", "success")
    return redirect(url_for("domain_lifecycle.feeds"))


@domain_lifecycle.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    feed = overview.feed_for_token(token)
    text = overview.feed_calendar(feed, base_url=url_for("index", _external=True))
    return Response(
        text,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="domain-expiry.ics"',
            "Cache-Control": "private, max-age=300",
        },
    )
