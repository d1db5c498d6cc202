"""The operations page (staff): status, attempts, a live log tail, retry and cancel."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from provisioner.errors import ProvisionerError
from provisioner.jobs import service
from provisioner.jobs.models import STATUSES

operations = Blueprint("operations", __name__, url_prefix="/operations")


@operations.before_request
@login_required
def _staff_only():
    if not current_user.is_staff:
        abort(403, "Only technicians can see background operations.")


@operations.get("/")
def index():
    status = request.args.get("status") or None
    rows = service.list_operations(status=status, limit=200)
    return render_template(
        "operations/index.html", operations=rows, statuses=STATUSES, status=status
    )


@operations.get("/<int:op_id>")
def detail(op_id: int):
    op = service.get_operation(op_id)
    return render_template("operations/detail.html", op=op, lines=service.log_lines(op.id))


@operations.get("/<int:op_id>/tail.json")
def tail(op_id: int):
    """New log lines after ?after=ID, with the current status (polled by the page)."""
    op = service.get_operation(op_id)
    lines = service.log_lines(op.id, after_id=request.args.get("after", 0, type=int))
    return jsonify(
        status=op.status,
        attempts=op.attempts,
        max_attempts=op.max_attempts,
        error=op.error,
        finished=op.finished,
        lines=[service.line_dict(line) for line in lines],
    )


@operations.post("/<int:op_id>/retry")
def retry(op_id: int):
    try:
        service.retry_operation(op_id, by=current_user.email)
    except ProvisionerError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Operation {op_id} will run again.", "success")
    return redirect(url_for("operations.detail", op_id=op_id))


@operations.post("/<int:op_id>/cancel")
def cancel(op_id: int):
    try:
        service.cancel_operation(op_id, by=current_user.email)
    except ProvisionerError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Operation {op_id} is cancelled.", "success")
    return redirect(url_for("operations.detail", op_id=op_id))
