"""What a handler raises, and what the operations services refuse."""

from __future__ import annotations

from provisioner.errors import Conflict, NotFound, ProvisionerError, ValidationError


class RetryableError(ProvisionerError):
    """A handler failed in a way that may pass later (a timeout, a throttled API)."""

    code = "operation_retryable"
    status = 503


class PermanentError(ProvisionerError):
    """A handler failed in a way that retrying cannot fix (bad input, refused change)."""

    code = "operation_failed"
    status = 422


class OperationNotFound(NotFound):
    code = "operation_not_found"

    def __init__(self, operation_id):
        super().__init__(f"there is no operation {operation_id}", fields={"id": str(operation_id)})


class OperationStateConflict(Conflict):
    """Retry or cancel asked of an operation in a state that does not allow it."""

    code = "operation_state"


class UnknownOperationKind(ValidationError):
    code = "unknown_operation_kind"


class BadSchedule(ValidationError):
    code = "bad_schedule"
