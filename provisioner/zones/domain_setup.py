"""Adding a domain together with its zone on a DNS provider."""

from __future__ import annotations

from provisioner.registry import services as domains
from provisioner.registry.models import Domain
from provisioner.registry.names import normalise
from provisioner.zones.provider_configs import get_provider_config
from provisioner.zones.services import adopt_or_create, provider_from_config


def add_domain_with_zone(school_urn: str, name: str, provider_name: str | None) -> Domain:
    """With a provider: adopt the zone it already serves, or create it, then add
    the domain. The zone is settled first so a provider error saves nothing."""
    config = get_provider_config(provider_name) if provider_name else None
    if config is not None:
        zone = normalise(name).ascii
        adopt_or_create(provider_from_config(config), zone)
    return domains.add_domain(school_urn, name, provider=config)
