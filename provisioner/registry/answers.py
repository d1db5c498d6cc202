"""What a registry said about a name: the value object RDAP and WHOIS lookups return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class RegistryAnswer:
    name: str
    source: str  # "rdap" or "whois"
    server: str  # where the answer came from (URL host or host:port)
    expires_at: datetime | None
    registered_at: datetime | None = None


class Limiter(Protocol):
    """Called before each request to a server; blocks until the server may be asked again."""

    def acquire(self, server: str) -> None: ...
