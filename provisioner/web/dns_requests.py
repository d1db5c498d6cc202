"""DNS change request pages: the school's form, the technicians' queue and review.

Views parse the form, call one service and render; errors from the services are
shown beside the row or field they name.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from provisioner.cases import services as cases
from provisioner.db import db
from provisioner.dns_requests import intake, review
from provisioner.dns_requests.models import IMPACTS
from provisioner.dns_requests.notify import describe_plan
from provisioner.dns_requests.text_format import parse_request
from provisioner.errors import NotNominated, ProvisionerError, ValidationError
from provisioner.registry import services as domains
from provisioner.registry.models import Domain
from provisioner.schools.models import User
from provisioner.web.guards import require_staff
from provisioner.zones import services as zones
from provisioner.zones.errors import InvalidRecords
from provisioner.zones.records import SUPPORTED_TYPES

dns_requests = Blueprint("dns_requests", __name__, url_prefix="/requests")
_CHANGE_N = re.compile(r"^change (\d+)\b")


@dns_requests.before_request
@login_required
def _logged_in():
    return None


def _domain_for_user(name: str) -> Domain:
    domain = domains.get_domain(name)
    if not current_user.is_staff and domain.school_id != current_user.school_id:
        abort(404)
    return domain


# -- reading the form ------------------------------------------------------------


def rows_from_form(form) -> tuple[list[dict], list[int]]:
    """The change rows typed into the form (blank rows skipped), and for each
    change the 1-based row number it came from."""
    fields = ("action", "name", "type", "ttl", "values")
    columns = {f: form.getlist(f"{f}[]") for f in fields}
    count = max((len(v) for v in columns.values()), default=0)
    changes, row_numbers = [], []
    for i in range(count):
        row = {f: (columns[f][i] if i < len(columns[f]) else "").strip() for f in fields}
        if not row["name"] and not row["values"]:
            continue
        change = {"action": row["action"] or "add", "name": row["name"], "type": row["type"]}
        values = [v.strip() for v in row["values"].splitlines() if v.strip()]
        if values:
            change["values"] = values
        if row["ttl"]:
            change["ttl"] = int(row["ttl"]) if row["ttl"].isdigit() else row["ttl"]
        changes.append(change)
        row_numbers.append(i + 1)
    return changes, row_numbers


def row_errors(exc: InvalidRecords, row_numbers: list[int]) -> dict[int, list[str]]:
    """'change 2 (A www): ...' -> {row of change 2: [message]}."""
    found: dict[int, list[str]] = {}
    for reason in exc.reasons:
        match = _CHANGE_N.match(reason)
        index = int(match.group(1)) - 1 if match else -1
        row = row_numbers[index] if 0 <= index < len(row_numbers) else 0
        found.setdefault(row, []).append(reason)
    return found


def _form_rows(form) -> list[dict]:
    """The rows as typed, to show the form again after an error."""
    fields = ("action", "name", "type", "ttl", "values")
    columns = {f: form.getlist(f"{f}[]") for f in fields}
    count = max((len(v) for v in columns.values()), default=0)
    return [{f: columns[f][i] if i < len(columns[f]) else "" for f in fields} for i in range(count)]


def _apply_after(form) -> str | None:
    if form.get("when") == "at":
        return form.get("apply_at") or "missing"
    return None


# -- the school's form -----------------------------------------------------------


def _form_context(domain: Domain, form=None, **extra) -> dict:
    school = domain.school
    may_request = current_user.is_staff or (
        current_user.nominated and current_user.school_id == domain.school_id
    )
    try:
        records = zones.live_records(domain)
        records_error = None
    except ProvisionerError as exc:
        records, records_error = [], exc.message
    rows = _form_rows(form) if form is not None else []
    rows += [{"action": "add", "name": "", "type": "A", "ttl": "", "values": ""}] * max(
        0, 3 - len(rows)
    )
    contacts = school.nominated_contacts if current_user.is_staff else []
    return {
        "domain": domain,
        "school": school,
        "may_request": may_request,
        "nominated": intake.nominated_names(school),
        "records": records,
        "records_error": records_error,
        "rows": rows,
        "types": SUPPORTED_TYPES,
        "impacts": IMPACTS,
        "form": form or {},
        "contacts": contacts,
        "row_errors": {},
        "preview": None,
        "error": None,
        "case_reference": (form or request.args).get("case", ""),
        **extra,
    }


@dns_requests.get("/new")
def choose_domain():
    """A technician names the domain (and maybe the case) to log a request for."""
    name = request.args.get("domain", "").strip()
    if not name:
        abort(404)
    domain = _domain_for_user(name)
    args = {"case": request.args["case"]} if request.args.get("case") else {}
    return redirect(url_for("dns_requests.new", domain_name=domain.name, **args))


@dns_requests.get("/new/<domain_name>")
def new(domain_name: str):
    domain = _domain_for_user(domain_name)
    return render_template("requests/form.html", **_form_context(domain))


@dns_requests.post("/new/<domain_name>")
def create(domain_name: str):
    domain = _domain_for_user(domain_name)
    form = request.form
    changes, row_numbers = rows_from_form(form)
    status = 422
    try:
        if form.get("action_button") == "preview":
            if not changes:
                raise ValidationError("add at least one change", fields={"changes": "empty"})
            found = intake.preview(domain, changes)
            context = _form_context(domain, form, preview=found)
            return render_template("requests/form.html", **context)
        requester, logged_by, channel, case = _who(form)
        made = intake.submit(
            requester=requester,
            domain=domain,
            changes=changes,
            notes=form.get("notes"),
            apply_after=_apply_after(form),
            impact=form.get("impact"),
            channel=channel,
            logged_by=logged_by,
            case=case,
        )
    except InvalidRecords as exc:
        context = _form_context(domain, form, row_errors=row_errors(exc, row_numbers), error=exc)
    except NotNominated as exc:
        context, status = _form_context(domain, form, error=exc), 403
    except ProvisionerError as exc:
        context, status = _form_context(domain, form, error=exc), exc.status
    else:
        flash(
            f"Request received: case {made.case.reference}, due "
            f"{made.case.due_at.strftime('%d %b %Y %H:%M')} UTC.",
            "success",
        )
        if made.short_notice:
            flash(
                "You asked for this change sooner than one business day's notice: we will "
                "try, but we may not be able to make this change by then.",
                "error",
            )
        return redirect(url_for("dns_requests.show", request_id=made.id))
    return render_template("requests/form.html", **context), status


def _who(form):
    """(requester, logged_by, channel, case): a technician logs for a chosen contact."""
    if not current_user.is_staff:
        return current_user, None, "portal", None
    contact_id = form.get("requester_id", "")
    requester = db.session.get(User, int(contact_id)) if contact_id.isdigit() else None
    if requester is None or requester.is_staff:
        raise ValidationError(
            "choose the nominated contact who asked", fields={"requester": "required"}
        )
    case = cases.get_case(form["case"]) if form.get("case") else None
    channel = case.channel if case is not None and case.channel in ("email", "phone") else "phone"
    return requester, current_user, channel, case


@dns_requests.post("/check/<domain_name>")
def check_row(domain_name: str):
    """Validate the rows as they are typed; the server's answer is the authority."""
    domain = _domain_for_user(domain_name)
    changes, row_numbers = rows_from_form(request.form)
    if not changes:
        return jsonify(ok=True, rows={}, plan=[], warnings=[])
    try:
        found = intake.preview(domain, changes)
    except InvalidRecords as exc:
        return jsonify(ok=False, rows=row_errors(exc, row_numbers), plan=[], warnings=[])
    return jsonify(ok=True, rows={}, plan=found.plan.describe(), warnings=list(found.warnings))


# -- one request ----------------------------------------------------------------


@dns_requests.get("/<int:request_id>")
def show(request_id: int, error: ProvisionerError | None = None, status: int = 200):
    item = review.get_request(request_id, current_user)
    live_plan = live_error = None
    if current_user.is_staff and item.status in ("submitted", "failed"):
        # The plan against the zone as served at this moment, not as it was submitted.
        try:
            live_plan = intake.preview(item.domain, item.changes)
        except ProvisionerError as exc:
            live_error = exc
    context = {
        "item": item,
        "case": item.case,
        "events": item.events,
        "stored_plan": describe_plan(item.plan),
        "live_plan": live_plan,
        "live_error": live_error,
        "error": error,
        "changes_text": _changes_as_text(item),
        "undo": _undo_of(item),
    }
    return render_template("requests/show.html", **context), status


def _undo_of(item):
    from provisioner.dns_requests.models import DnsChangeRequest

    return db.session.scalar(
        select(DnsChangeRequest).where(DnsChangeRequest.rollback_of_id == item.id)
    )


def _changes_as_text(item) -> str:
    lines = []
    for change in item.changes:
        values = change.get("values") or [""]
        ttl = f" TTL {change['ttl']}" if change.get("ttl") else ""
        for value in values:
            text = f"{change['action'].upper()} {change['name']} {change['type']} {value}"
            lines.append(text.rstrip() + (ttl if change["action"] != "delete" else ""))
    return "\n".join(lines)


_ACTIONS = {
    "approve": lambda item, f: review.approve(
        item,
        current_user,
        checksum=f.get("checksum") or None,
        force=bool(f.get("force")),
        forced_reason=f.get("forced_reason"),
    ),
    "reject": lambda item, f: review.reject(item, current_user, f.get("reason", "")),
    "retry": lambda item, f: review.retry(item, current_user),
    "rollback": lambda item, f: review.rollback(item, current_user),
    "edit": lambda item, f: review.edit(item, _edited_changes(item, f), current_user),
}


def _edited_changes(item, form) -> list[dict]:
    parsed = parse_request(form.get("changes_text", ""), [item.domain.name])
    if parsed.problems:
        raise InvalidRecords(parsed.problems)
    if parsed.domain and parsed.domain != item.domain.name:
        raise ValidationError(f"the changes must stay in {item.domain.name}")
    return parsed.changes


@dns_requests.post("/<int:request_id>/<action>")
def act(request_id: int, action: str):
    require_staff()
    item = review.get_request(request_id, current_user)
    if action not in _ACTIONS:
        abort(404)
    try:
        result = _ACTIONS[action](item, request.form)
    except ProvisionerError as exc:
        db.session.rollback()
        return show(request_id, error=exc, status=exc.status)
    messages = {
        "approve": "Approved: the change will be applied"
        + (" at the time the school asked for." if item.apply_after else " now."),
        "reject": "Rejected; the school has been told why.",
        "retry": "The change will be applied again.",
        "rollback": f"Undo requested as request {getattr(result, 'id', '')}.",
        "edit": "Changes edited; the old ones are kept in the history.",
    }
    flash(messages[action], "success")
    target = result.id if action == "rollback" else request_id
    return redirect(url_for("dns_requests.show", request_id=target))


# -- lists ------------------------------------------------------------------------


@dns_requests.get("/")
def index():
    """Technicians: the queue by due time. Schools: their own requests."""
    if current_user.is_staff:
        return render_template("requests/queue.html", items=review.queue())
    school = current_user.school
    return render_template(
        "requests/history.html",
        items=review.history(school=school),
        title=f"{school.name}: DNS changes",
        domains=domains.domains_of(school),
        describe=describe_plan,
    )


@dns_requests.get("/history/<domain_name>")
def domain_history(domain_name: str):
    domain = _domain_for_user(domain_name)
    return render_template(
        "requests/history.html",
        items=review.history(domain=domain),
        title=f"{domain.name}: DNS changes",
        domain=domain,
        describe=describe_plan,
    )
