"""The explicit registry of provider kinds: configuration row -> adapter.

Adapters are imported lazily so a deployment without boto3 can still run
BIND and zone files.
"""

from __future__ import annotations

from pathlib import Path

from provisioner.errors import ValidationError
from provisioner.zones.providers.base import DnsProvider


def _rfc2136(settings: dict) -> DnsProvider:
    from provisioner.zones.providers.rfc2136 import Rfc2136Provider

    return Rfc2136Provider(
        settings["server"],
        key_file=settings["tsig_key_file"],
        nameservers=settings.get("nameservers") or None,
    )


def _route53(settings: dict) -> DnsProvider:
    from provisioner.zones.providers.route53 import Route53Provider

    return Route53Provider(endpoint_url=settings.get("endpoint_url"))


def _zonefile(settings: dict) -> DnsProvider:
    from provisioner.zones.providers.zonefile import ZonefileProvider

    return ZonefileProvider(settings["directory"], name=settings.get("name", "zonefile"))


REGISTRY = {"rfc2136": _rfc2136, "route53": _route53, "zonefile": _zonefile}


def check_settings(kind: str, settings: dict) -> dict:
    """Refuse a provider configuration that cannot work, before it is saved."""
    if kind not in REGISTRY:
        raise ValidationError(
            f"unknown provider kind {kind!r}; choose one of {', '.join(REGISTRY)}",
            fields={"kind": "unknown"},
        )
    if kind == "rfc2136":
        if not settings.get("server"):
            raise ValidationError(
                "an rfc2136 provider needs --server HOST:PORT", fields={"server": "required"}
            )
        key_file = settings.get("tsig_key_file")
        if not key_file:
            raise ValidationError(
                "an rfc2136 provider needs --tsig-key-file FILE",
                fields={"tsig_key_file": "required"},
            )
        settings["tsig_key_file"] = str(Path(key_file).resolve())
    if kind == "zonefile":
        if not settings.get("directory"):
            raise ValidationError(
                "a zonefile provider needs --directory DIR", fields={"directory": "required"}
            )
        settings["directory"] = str(Path(settings["directory"]).resolve())
    build(kind, settings)  # parses the key file, checks the endpoint: fails early
    return settings


def build(kind: str, settings: dict) -> DnsProvider:
    return REGISTRY[kind](settings)
