"""Adding a domain together with its zone on a DNS provider."""

from __future__ import annotations

from provisioner.registry import services as domains
from provisioner.registry.models import Domain
from provisioner.zones.models import DnsProviderConfig
from provisioner.zones.provider_configs import get_provider_config
from provisioner.zones.services import adopt_or_create, provider_from_config


def add_domain_with_zone(school_urn: str, name: str, provider_name: str | None) -> Domain:
    """With a provider: add the domain, then adopt the zone the provider already
    serves, or create it."""
    if not provider_name:
        return domains.add_domain(school_urn, name)  # its zone file is made when first read
    return add_domain_on(school_urn, name, get_provider_config(provider_name))


def add_domain_on(school_urn: str, name: str, config: DnsProviderConfig | None) -> Domain:
    """Add the domain and settle its zone on `config` (None: the embedded zone files).

    The domain is added first: it takes the school's slot (refused at the limit,
    also when two additions race), so a refused domain never leaves a zone behind
    on the provider. A provider error then gives the slot back: nothing is saved."""
    domain = domains.add_domain(school_urn, name, provider=config)
    try:
        adopt_or_create(provider_from_config(config), domain.name)
    except BaseException:
        domains.remove_domain(domain)
        raise
    return domain
