"""Looking up configured DNS providers."""

from __future__ import annotations

from sqlalchemy import select

from provisioner.db import db
from provisioner.errors import NotFound
from provisioner.zones.models import DnsProviderConfig


def get_provider_config(name: str) -> DnsProviderConfig:
    row = db.session.scalar(select(DnsProviderConfig).where(DnsProviderConfig.name == name))
    if row is None:
        raise NotFound(f"no DNS provider named {name!r}", fields={"provider": "unknown provider"})
    return row
