"""Background execution inside `provisioner serve` (filled in by the operations work)."""

from __future__ import annotations


def start_background(app) -> None:
    """Start the embedded worker and scheduler threads for this app."""
    return None
