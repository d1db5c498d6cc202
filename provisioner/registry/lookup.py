"""RDAP first, WHOIS as fallback: one call that says what the registry knows of a name."""

from __future__ import annotations

from pathlib import Path

from provisioner.registry.answers import Limiter, RegistryAnswer
from provisioner.registry.errors import LookupFailed, NotRegistered, UnsupportedTld
from provisioner.registry.names import normalise
from provisioner.registry.rdap import DEFAULT_BOOTSTRAP, RdapBootstrap, RdapClient
from provisioner.registry.whois_lookup import WhoisClient, load_servers


class RegistryLookup:
    """`lookup(name)` for a registrable IDNA name: a RegistryAnswer, or NotRegistered,
    LookupFailed (both sources failed, both reasons given) or UnsupportedTld."""

    def __init__(self, rdap: RdapClient | None, whois: WhoisClient | None):
        self.rdap = rdap
        self.whois = whois

    @classmethod
    def from_config(
        cls,
        config: dict,
        *,
        limiter: Limiter | None = None,
        timeout: float = 10.0,
    ) -> RegistryLookup:
        """Build from the app's config keys RDAP_BOOTSTRAP and WHOIS_SERVERS (paths or None)."""
        bootstrap = RdapBootstrap.load(config.get("RDAP_BOOTSTRAP") or DEFAULT_BOOTSTRAP)
        servers = load_servers(config.get("WHOIS_SERVERS"))
        return cls(
            RdapClient(bootstrap, timeout=timeout, limiter=limiter),
            WhoisClient(servers, timeout=timeout, limiter=limiter),
        )

    def lookup(self, name: str) -> RegistryAnswer:
        rdap_error: LookupFailed | None = None
        if self.rdap is not None and self.rdap.server_for(name):
            try:
                return self.rdap.lookup(name)
            except LookupFailed as exc:
                # RDAP down or unreadable: WHOIS may still know. A 404 is final.
                rdap_error = exc
        if self.whois is not None and self.whois.server_for(name):
            try:
                return self.whois.lookup(name)
            except LookupFailed as exc:
                if rdap_error is None:
                    raise
                raise LookupFailed(
                    name, "rdap+whois", f"{rdap_error.reason}; then {exc.reason}"
                ) from exc
        if rdap_error is not None:
            raise rdap_error
        raise UnsupportedTld(name, name.rsplit(".", 1)[-1])

    def lookup_domain(self, name: str) -> RegistryAnswer:
        """Any name a user typed (www.school.la.sch.uk, Unicode...): checked, normalised and
        looked up under its registrable name; public suffixes (sch.uk, co.uk) are refused."""
        return self.lookup(normalise(name).registrable)

    def is_available(self, name: str) -> bool:
        """True if the registry has no record of `name` (free to register)."""
        try:
            self.lookup_domain(name)
        except NotRegistered:
            return True
        return False


def default_bootstrap_path() -> Path:
    return DEFAULT_BOOTSTRAP
