"""Errors of the registry lookups (RDAP, WHOIS), each with a stable code and a human message."""

from __future__ import annotations

from provisioner.errors import NotFound, ProvisionerError, ValidationError


class NotRegistered(NotFound):
    """The registry has no record of the name: it is free to register (or has lapsed)."""

    code = "not_registered"

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source
        super().__init__(
            f"{source.upper()}: the registry has no record of {name}",
            fields={"domain": name, "source": source},
        )


class UnsupportedTld(ValidationError):
    """Neither an RDAP base URL nor a WHOIS server is known for the name's TLD."""

    code = "unknown_tld"

    def __init__(self, name: str, tld: str):
        self.name = name
        self.tld = tld
        super().__init__(
            f"no registry is known for .{tld} (looking up {name}); "
            "add it to the RDAP bootstrap file or the WHOIS server map",
            fields={"domain": name, "tld": tld},
        )


class LookupFailed(ProvisionerError):
    """The registry could not be asked (down, timeout) or answered something unusable."""

    code = "lookup_failed"
    status = 502

    def __init__(self, name: str, source: str, reason: str):
        self.name = name
        self.source = source
        self.reason = reason
        super().__init__(
            f"{source.upper()} lookup of {name} failed: {reason}",
            fields={"domain": name, "source": source},
        )


class MalformedAnswer(LookupFailed):
    """The registry answered, but not in a form we can read."""

    code = "malformed_answer"


class BadRegistryConfig(ValidationError):
    """The RDAP bootstrap file or the WHOIS server map cannot be used."""

    code = "bad_registry_config"
