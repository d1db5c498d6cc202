"""Light syntax checks for SPF (RFC 7208) and DMARC (RFC 7489) TXT values.

They only produce warnings: a broken SPF or DMARC record is legal DNS, but a
school would want to know before its mail starts bouncing. Pure functions.
"""

from __future__ import annotations

import ipaddress
import re

_SPF_MECHANISMS = {"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"}
_SPF_NEEDS_ARG = {"include", "ip4", "ip6", "exists"}
_SPF_LOOKUPS = {"include", "a", "mx", "ptr", "exists"}
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$")
_DOMAIN_SPEC = re.compile(r"^[A-Za-z0-9_.%{}+=-]+$")
_MAX_SPF_LOOKUPS = 10


def is_spf(text: str) -> bool:
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def is_dmarc(text: str) -> bool:
    return text.replace(" ", "").upper().startswith("V=DMARC1")


def spf_problems(text: str) -> list[str]:
    """What makes this SPF value fail to parse or evaluate; empty when it is fine."""
    terms = text.split()
    if not terms or terms[0].lower() != "v=spf1":
        return ["it does not start with v=spf1"]
    problems: list[str] = []
    lookups = 0
    seen_all = False
    modifiers: set[str] = set()
    for term in terms[1:]:
        if seen_all:
            problems.append(f"'{term}' comes after 'all' and is never used")
            continue
        modifier = _MODIFIER.match(term)
        if modifier:
            key = modifier.group(1).lower()
            if key in modifiers and key in {"redirect", "exp"}:
                problems.append(f"'{key}=' appears more than once")
            modifiers.add(key)
            if key == "redirect":
                lookups += 1
            if key in {"redirect", "exp"} and not _DOMAIN_SPEC.match(modifier.group(2)):
                problems.append(f"'{term}' needs a domain")
            continue
        problem, is_lookup, is_all = _spf_directive(term)
        lookups += is_lookup
        seen_all = seen_all or is_all
        if problem:
            problems.append(problem)
    if lookups > _MAX_SPF_LOOKUPS:
        problems.append(f"it needs {lookups} DNS lookups, more than the {_MAX_SPF_LOOKUPS} allowed")
    return problems


def _spf_directive(term: str) -> tuple[str | None, int, bool]:
    body = term[1:] if term[0] in "+-~?" else term
    name, sep, arg = body.partition(":")
    if not sep:
        name, _slash, _cidr = body.partition("/")
    name = name.lower()
    if name not in _SPF_MECHANISMS:
        return f"'{term}' is not an SPF mechanism", 0, False
    if name in _SPF_NEEDS_ARG and not arg:
        return f"'{term}' needs a value after ':'", 0, False
    if name in {"ip4", "ip6"}:
        try:
            network = ipaddress.ip_network(arg, strict=False)
        except ValueError:
            return f"'{arg}' in '{term}' is not an IP address or network", 0, False
        if network.version != int(name[-1]):
            return f"'{arg}' in '{term}' is not an IPv{name[-1]} address", 0, False
    elif arg and not _DOMAIN_SPEC.match(arg.split("/")[0]):
        return f"'{arg}' in '{term}' is not a domain", 0, False
    return None, int(name in _SPF_LOOKUPS), name == "all"


_DMARC_POLICIES = {"none", "quarantine", "reject"}
_DMARC_TAGS = {"v", "p", "sp", "np", "rua", "ruf", "pct", "adkim", "aspf", "fo", "rf", "ri", "psd"}


def dmarc_problems(text: str) -> list[str]:
    """What makes this DMARC value fail to parse; empty when it is fine."""
    parts = [p.strip() for p in text.split(";")]
    tags: dict[str, str] = {}
    problems: list[str] = []
    for index, part in enumerate(p for p in parts if p):
        key, sep, value = part.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            problems.append(f"'{part}' is not a tag=value pair")
            continue
        if index == 0 and (key != "v" or value != "DMARC1"):
            return ["it does not start with v=DMARC1"]
        if key not in _DMARC_TAGS:
            problems.append(f"'{key}' is not a DMARC tag")
        elif key in tags:
            problems.append(f"'{key}' appears more than once")
        tags[key] = value
        problem = _dmarc_value(key, value)
        if problem:
            problems.append(problem)
    if not tags:
        return ["it does not start with v=DMARC1"]
    if "p" not in tags:
        problems.append("the policy tag p= (none, quarantine or reject) is missing")
    return problems


def _dmarc_value(key: str, value: str) -> str | None:
    if key in {"p", "sp", "np"} and value.lower() not in _DMARC_POLICIES:
        return f"{key}={value} must be none, quarantine or reject"
    if key == "pct" and not (value.isdigit() and 0 <= int(value) <= 100):
        return f"pct={value} must be a whole number from 0 to 100"
    if key in {"adkim", "aspf"} and value.lower() not in {"r", "s"}:
        return f"{key}={value} must be r (relaxed) or s (strict)"
    if key == "ri" and not value.isdigit():
        return f"ri={value} must be a number of seconds"
    if key in {"rua", "ruf"}:
        for uri in (u.strip() for u in value.split(",")):
            address = uri[len("mailto:") :] if uri.lower().startswith("mailto:") else None
            if address is None or "@" not in address:
                return f"{key}={value} must be mailto: addresses"
    if key == "fo" and not all(f.strip() in {"0", "1", "d", "s"} for f in value.split(":")):
        return f"fo={value} must be 0, 1, d or s (separated by ':')"
    return None
