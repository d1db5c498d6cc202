"""Domain names: normalisation, label rules and registrable names (pure).

Registrable names come from tldextract's bundled public suffix list, never
fetched. The list has `*.sch.uk`, so `www.stmarys.essex.sch.uk` is under the
registrable `stmarys.essex.sch.uk` (python-whois gets this wrong).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import idna
import tldextract

from provisioner.errors import ValidationError

MAX_NAME = 253
MAX_LABEL = 63
_LDH = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Second-level names Nominet keeps for itself; the PSL lists `*.sch.uk` but not `sch.uk`.
RESERVED = frozenset({"sch.uk", "nhs.uk", "police.uk", "mod.uk", "nic.uk"})


@dataclass(frozen=True)
class DomainName:
    ascii: str  # lower-case IDNA (punycode), no trailing dot
    unicode: str  # for display
    registrable: str  # the name a registrar sells


@cache
def _extractor() -> tldextract.TLDExtract:
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())


def _invalid(name: str, problem: str) -> ValidationError:
    return ValidationError(
        f"domain name {name!r} is not valid: {problem}", fields={"name": problem}
    )


def to_ascii(name: str) -> str:
    """Lower-case IDNA form of a host name, checking every label; no trailing dot."""
    original = name
    name = (name or "").strip().rstrip(".").lower()
    if not name:
        raise _invalid(original, "it is empty")
    labels = name.split(".")
    for label in labels:
        if not label:
            raise _invalid(original, "it has an empty label (two dots together or a leading dot)")
    try:
        ascii_labels = [
            label if label.isascii() else idna.encode(label, uts46=True).decode()
            for label in labels
        ]
    except idna.IDNAError as exc:
        raise _invalid(original, f"it cannot be encoded as IDNA ({exc})") from exc
    for label in ascii_labels:
        if len(label) > MAX_LABEL:
            raise _invalid(
                original, f"the label {label[:20]}... is {len(label)} characters (at most 63)"
            )
        if "_" in label:
            raise _invalid(
                original, f"the label {label!r} has an underscore, not allowed in host names"
            )
        if not _LDH.match(label):
            raise _invalid(
                original,
                f"the label {label!r} may only hold letters, digits and inner hyphens",
            )
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError) as exc:
                raise _invalid(
                    original, f"the label {label!r} is not valid punycode ({exc})"
                ) from exc
    result = ".".join(ascii_labels)
    if len(result) > MAX_NAME:
        raise _invalid(original, f"it is {len(result)} characters long (at most 253)")
    return result


def to_unicode(ascii_name: str) -> str:
    try:
        return ".".join(
            idna.decode(label) if label.startswith("xn--") else label
            for label in ascii_name.split(".")
        )
    except idna.IDNAError:
        return ascii_name


def registrable_name(ascii_name: str) -> str | None:
    """The registrable name (public suffix + one label), or None for a suffix itself."""
    if ascii_name in RESERVED:
        return None
    parts = _extractor()(ascii_name)
    if not parts.suffix or not parts.domain:
        return None
    registrable = f"{parts.domain}.{parts.suffix}"
    return None if registrable in RESERVED else registrable


def normalise(name: str) -> DomainName:
    """Check and normalise a domain a school manages."""
    ascii_name = to_ascii(name)
    if "." not in ascii_name:
        raise _invalid(name, "it needs at least two labels, e.g. school.sch.uk")
    registrable = registrable_name(ascii_name)
    if registrable is None:
        parts = _extractor()(ascii_name)
        if not parts.suffix:
            raise _invalid(name, "its top-level domain is not known")
        raise _invalid(name, f"{ascii_name} is a public suffix; nobody can register it")
    return DomainName(ascii=ascii_name, unicode=to_unicode(ascii_name), registrable=registrable)
