"""Adding a domain together with its zone on a DNS provider."""

from __future__ import annotations

import logging

from provisioner.registry import services as domains
from provisioner.registry.models import Domain
from provisioner.zones.errors import ProviderError
from provisioner.zones.models import DnsProviderConfig
from provisioner.zones.provider_configs import get_provider_config
from provisioner.zones.services import provider_from_config, settle_zone

log = logging.getLogger("provisioner.zones")


def add_domain_with_zone(school_urn: str, name: str, provider_name: str | None) -> Domain:
    """With a provider: add the domain, then adopt the zone the provider already
    serves, or create it."""
    if not provider_name:
        return domains.add_domain(school_urn, name)  # its zone file is made when first read
    return add_domain_on(school_urn, name, get_provider_config(provider_name))[0]


def add_domain_on(
    school_urn: str, name: str, config: DnsProviderConfig | None
) -> tuple[Domain, bool]:
    """Add the domain and settle its zone on `config` (None: the embedded zone
    files); (domain, whether the zone was created rather than adopted).

    The domain is added first: it takes the school's slot (refused at the limit,
    also when two additions race), so a refused domain never leaves a zone behind
    on the provider. A provider error then gives the slot back: nothing is saved."""
    domain = domains.add_domain(school_urn, name, provider=config)
    try:
        created = settle_zone(provider_from_config(config), domain.name)
    except BaseException:
        domains.remove_domain(domain)
        raise
    return domain, created


def undo_domain_on(domain: Domain, config: DnsProviderConfig | None, zone_created: bool) -> None:
    """Take back add_domain_on when what it was for failed: the school's slot, and
    the zone if it made one (an empty hosted zone left on Route 53 is billed).
    A zone that cannot be removed is logged; the caller's own error matters more."""
    name = domain.name
    domains.remove_domain(domain)
    if not zone_created:
        return
    try:
        provider_from_config(config).delete_zone(name)
    except ProviderError as exc:
        log.warning("zone %s was left on its provider: %s", name, exc.message)
