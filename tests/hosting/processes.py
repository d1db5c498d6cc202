"""Stopping the servers the hosting tests start, by PID."""

from __future__ import annotations

import os
import signal
import time


def stop_pids(pids: list[int], timeout: float = 10) -> None:
    """SIGTERM each process, then wait (up to `timeout` in all) until they are gone."""
    running = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            running.append(pid)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    for pid in running:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
