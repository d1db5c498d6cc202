"""Adding a domain together with its zone on a DNS provider."""

from __future__ import annotations

from provisioner.registry import services as domains
from provisioner.registry.models import Domain
from provisioner.zones.provider_configs import get_provider_config


def add_domain_with_zone(school_urn: str, name: str, provider_name: str | None) -> Domain:
    provider = get_provider_config(provider_name) if provider_name else None
    return domains.add_domain(school_urn, name, provider=provider)
