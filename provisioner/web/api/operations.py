"""Operations: see them (technicians; contacts: their own school's cases' operations),
retry and cancel them (technicians)."""

from __future__ import annotations

from flask import jsonify, request

from provisioner.jobs import service
from provisioner.web.api import api, api_user, require_staff


@api.get("/operations")
def list_operations():
    """Operations, newest first (contacts: their school's cases); ?status=&kind=&resource=&limit="""
    rows = service.list_operations_for(
        api_user(),
        status=request.args.get("status") or None,
        kind=request.args.get("kind") or None,
        resource_key=request.args.get("resource") or None,
        limit=request.args.get("limit", 100, type=int),
    )
    return jsonify([service.operation_dict(op) for op in rows])


@api.get("/operations/<op_id>")
def get_operation(op_id):
    """One operation with its status, attempts, result, error and log."""
    operation = service.get_operation_for(api_user(), op_id)
    return jsonify(service.operation_dict(operation, with_log=True))


@api.post("/operations/<op_id>/retry")
def retry_operation(op_id):
    """Run a failed or cancelled operation again (409 in any other state)."""
    user = require_staff()
    op = service.retry_operation(op_id, by=user.email)
    return jsonify(service.operation_dict(op)), 202


@api.post("/operations/<op_id>/cancel")
def cancel_operation(op_id):
    """Cancel an operation that has not started, or whose worker died (409 otherwise)."""
    user = require_staff()
    op = service.cancel_operation(op_id, by=user.email)
    return jsonify(service.operation_dict(op))
