"""Registrar adapters behind one Protocol, chosen by name from an explicit registry."""

from __future__ import annotations

from provisioner.registry.registrars.base import (
    Completion,
    Registrar,
    RegistrarError,
    RegistrarResult,
    UnknownRegistrar,
)

KINDS = ("manual", "route53domains")


def build(kind: str, config: dict) -> Registrar:
    """The adapter for `kind`, built from the app's config (ROUTE53DOMAINS_* keys)."""
    if kind == "manual":
        from provisioner.registry.registrars.manual import ManualRegistrar

        return ManualRegistrar()
    if kind == "route53domains":
        from provisioner.registry.registrars.route53domains import Route53DomainsRegistrar

        return Route53DomainsRegistrar.from_config(config)
    raise UnknownRegistrar(kind)


__all__ = [
    "KINDS",
    "Completion",
    "Registrar",
    "RegistrarError",
    "RegistrarResult",
    "UnknownRegistrar",
    "build",
]
