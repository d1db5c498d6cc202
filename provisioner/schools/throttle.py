"""Failed logins counted per client address (pure: no Flask, no database).

The per-account lock-out (services.authenticate) stops guessing one password;
this stops one address trying a few passwords on many accounts. Counts live
in the process's memory: `provisioner serve` is one process, and a restart
forgetting them only gives an attacker back one window.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from provisioner.errors import ProvisionerError


class TooManyAttempts(ProvisionerError):
    code = "too_many_attempts"
    status = 429


class LoginThrottle:
    def __init__(self, max_failures: int = 20, window: timedelta = timedelta(minutes=15)):
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
        return times

    def check(self, client: str, now: datetime) -> None:
        """Refuses a login attempt from an address with too many recent failures."""
        with self._lock:
            times = self._recent(client, now)
            if len(times) >= self.max_failures:
                wait = times[0] + self.window - now
                minutes = max(1, int(wait.total_seconds() // 60) + 1)
                raise TooManyAttempts(
                    "too many failed logins from your network address: "
                    f"try again in {minutes} minute(s)"
                )

    def failed(self, client: str, now: datetime) -> None:
        with self._lock:
            self._recent(client, now)
            self._failures.setdefault(client, deque()).append(now)
