"""Case pages: the technicians' queue, a case with its clock audit, the school's list,
logging a case, and the SLA report (HTML with a server-drawn SVG chart, and CSV)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from provisioner.cases import queries, services
from provisioner.cases.chart import percent_met_svg
from provisioner.cases.models import CATEGORY_LABELS, STATUS_LABELS, STATUSES
from provisioner.cases.present import clock_audit, hours_minutes
from provisioner.cases.report import report_csv, sla_report
from provisioner.db import db
from provisioner.errors import NotFound, ProvisionerError, ValidationError
from provisioner.schools import services as schools
from provisioner.schools.models import STAFF_ROLES, User
from provisioner.sla import PRIORITIES
from provisioner.web.guards import require_staff

cases = Blueprint("cases", __name__)
LONDON = ZoneInfo("Europe/London")
IMPACT_LABELS = {
    "critical": "Critical: a whole service is down, no way round it (P1)",
    "multiple_users": "Several people affected, or a service is unreliable (P2)",
    "degraded": "Something is slow or partly broken, there is a way round it (P3)",
    "service_request": "A request or change, little or no impact (P4)",
}


@cases.app_template_filter("london")
def london_time(value, fmt: str = "%a %d %b %Y %H:%M %Z") -> str:
    if value is None:
        return ""
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value.strftime("%a %d %b %Y")
    return value.astimezone(LONDON).strftime(fmt)


@cases.app_template_filter("hm")
def _hm(delta) -> str:
    return hours_minutes(delta)


@cases.before_request
@login_required
def _logged_in():
    return None


def _technicians():
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.name)
        )
    )


@cases.get("/cases")
def queue():
    if not current_user.is_staff:
        return redirect(url_for("cases.school_cases"))
    filters = {k: request.args.get(k, "").strip() for k in queries.FILTERS}
    error, rows = None, []
    try:
        rows = queries.cases_for(current_user, **{k: v or None for k, v in filters.items()})
    except ValidationError as exc:
        error = exc.message
    return render_template(
        "cases/queue.html",
        cases=rows,
        counts=queries.counts(current_user),
        filters=filters,
        error=error,
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
        categories=CATEGORY_LABELS,
        priorities=PRIORITIES,
        technicians=_technicians(),
    ), (422 if error else 200)


@cases.get("/portal/cases")
def school_cases():
    if current_user.is_staff:
        return redirect(url_for("cases.queue"))
    status = request.args.get("status", "all")
    try:
        rows = queries.cases_for(current_user, status=status)
    except ValidationError as exc:
        abort(422, exc.message)
    return render_template("cases/school_list.html", cases=rows, status=status)


@cases.route("/cases/new", methods=["GET", "POST"])
def new_case():
    form = request.form
    if request.method == "POST":
        try:
            case = _open_from_form(form)
        except ProvisionerError as exc:
            db.session.rollback()
            return _new_form(form, exc), exc.status
        flash(f"Case {case.reference} logged; due {london_time(case.due_at)}.", "success")
        return redirect(url_for("cases.case_page", reference=case.reference))
    return _new_form(form, None)


def _open_from_form(form):
    if current_user.is_staff:
        school = schools.get_school(form.get("school_urn", ""))
        contact = None
        if form.get("contact_email", "").strip():
            contact = schools.get_user_by_email(form["contact_email"])
        return services.open_case(
            school=school,
            contact=contact,
            subject=form.get("subject", ""),
            description=form.get("description", ""),
            category=form.get("category", "general"),
            channel=form.get("channel", "phone"),
            impact=form.get("impact") or None,
            priority=form.get("priority") or None,
            actor=current_user,
        )
    return services.open_case(
        school=current_user.school,
        contact=current_user,
        subject=form.get("subject", ""),
        description=form.get("description", ""),
        impact=form.get("impact") or None,
        channel="portal",
        actor=current_user,
    )


def _new_form(form, error):
    return render_template(
        "cases/new.html",
        form=form,
        error=error,
        impacts=IMPACT_LABELS,
        categories=CATEGORY_LABELS,
        priorities=PRIORITIES,
        channels=("phone", "email", "portal", "system"),
        schools=schools.list_schools() if current_user.is_staff else [],
    )


def _case_or_404(reference: str):
    try:
        return services.get_case(reference, current_user)
    except NotFound:
        abort(404, f"There is no case {reference} that you can see.")


@cases.get("/cases/<reference>")
def case_page(reference: str, error: ProvisionerError | None = None):
    case = _case_or_404(reference)
    return render_template(
        "cases/case.html",
        case=case,
        events=services.timeline(case, current_user),
        audit=clock_audit(case),
        error=error,
        statuses=STATUSES,
        status_labels=STATUS_LABELS,
        priorities=PRIORITIES,
        technicians=_technicians() if current_user.is_staff else [],
    )


ACTIONS = {
    "reply": lambda c, f: services.add_reply(c, f.get("text", ""), current_user),
    "note": lambda c, f: services.add_note(c, f.get("text", ""), current_user),
    "status": lambda c, f: services.set_status(
        c, f.get("status", ""), current_user, text=f.get("text", "")
    ),
    "priority": lambda c, f: services.change_priority(
        c, f.get("priority", ""), f.get("reason", ""), current_user
    ),
    "assign": lambda c, f: services.assign(c, _assignee(f.get("assignee", "")), current_user),
    "agreed-due": lambda c, f: services.set_agreed_due(
        c, _date(f.get("agreed_due", "")), f.get("reason", ""), current_user
    ),
}


def _assignee(value: str):
    if not value:
        return None
    user = db.session.get(User, int(value)) if value.isdigit() else None
    if user is None:
        raise ValidationError("choose a technician from the list", fields={"assignee": "unknown"})
    return user


def _date(value: str):
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a date (YYYY-MM-DD)", fields={"agreed_due": "YYYY-MM-DD"}
        ) from None


@cases.post("/cases/<reference>/<action>")
def case_action(reference: str, action: str):
    if action not in ACTIONS:
        abort(404)
    case = _case_or_404(reference)
    try:
        ACTIONS[action](case, request.form)
    except ProvisionerError as exc:
        db.session.rollback()
        return case_page(reference, error=exc), exc.status
    flash("Saved.", "success")
    return redirect(url_for("cases.case_page", reference=case.reference))


@cases.get("/reports/sla")
def report_page():
    require_staff()
    start, end = request.args.get("from") or None, request.args.get("to") or None
    try:
        rows = sla_report(start, end)
    except ValidationError as exc:
        abort(422, exc.message)
    return render_template(
        "cases/report.html",
        rows=rows,
        chart=Markup(percent_met_svg(rows)),  # noqa: S704 - built with escaped text only
        start=start or "",
        end=end or "",
        csv_url=url_for(
            "cases.report_csv_download", **{k: v for k, v in (("from", start), ("to", end)) if v}
        ),
    )


@cases.get("/reports/sla.csv")
def report_csv_download():
    require_staff()
    try:
        rows = sla_report(request.args.get("from") or None, request.args.get("to") or None)
    except ValidationError as exc:
        abort(422, exc.message)
    return Response(
        report_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="sla-report.csv"'},
    )


@cases.get("/reports/sla.svg")
def report_svg():
    require_staff()
    rows = sla_report(request.args.get("from") or None, request.args.get("to") or None)
    return Response(percent_met_svg(rows), mimetype="image/svg+xml")
