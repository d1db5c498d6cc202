"""The plain-text change format used in emails (see EMAIL_FORMAT.md).

    Domain: stmarys.essex.sch.uk
    ADD intranet A 192.0.2.10 TTL 3600
    REPLACE @ MX 10 mail.example.net.
    DELETE old CNAME

Each change line becomes a change in the API's JSON shape. Lines that are not
change lines are kept as free text for the technician. A line that starts
with an upper-case ADD/REPLACE/DELETE but cannot be read is a problem, named
by its line number. Values are checked later by zones/validate.py; this
module only reads the structure. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from provisioner.zones.records import SUPPORTED_TYPES

ACTIONS = ("ADD", "REPLACE", "DELETE")
_KNOWN_TYPES = frozenset(SUPPORTED_TYPES) | {"SOA"}
_DOMAIN_LINE = re.compile(r"^\s*(domain|zone)\s*:\s*(\S+?)\.?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_TTL_SUFFIX = re.compile(r"\s+TTL\s*[=:]?\s*(\S+)\s*$", re.IGNORECASE)
_DOMAINISH = re.compile(r"(?<![\w.-])((?:[a-z0-9-]+\.)+[a-z]{2,})\.?(?![\w-])", re.IGNORECASE)


@dataclass
class ParsedRequest:
    domain: str | None
    changes: list[dict] = field(default_factory=list)
    free_text: str = ""
    problems: list[str] = field(default_factory=list)
    # The 1-based message line(s) each change came from, parallel to `changes`.
    change_lines: list[list[int]] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)


class _LineProblem(Exception):
    pass


def parse_request(text: str, known_domains: Iterable[str] = ()) -> ParsedRequest:
    """Read the change lines of a message body.

    `known_domains` (lower-case ASCII names) lets the reader tell which zone a
    fully qualified name such as intranet.stmarys.essex.sch.uk belongs to.
    """
    known = sorted({d.lower().rstrip(".") for d in known_domains}, key=len, reverse=True)
    explicit: list[str] = []
    free: list[str] = []
    problems: list[str] = []
    parsed: list[tuple[int, dict]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        line = _BULLET.sub("", raw).strip()
        domain_match = _DOMAIN_LINE.match(line)
        if domain_match:
            explicit.append(domain_match.group(2).lower())
            continue
        if not _is_change_line(line):
            free.append(raw.rstrip())
            continue
        try:
            parsed.append((number, _parse_line(line)))
        except _LineProblem as exc:
            problems.append(f"line {number} ({line[:60]}): {exc}")
    domain = _pick_domain(explicit, parsed, "\n".join(free), known, problems)
    result = ParsedRequest(domain=domain, free_text="\n".join(free).strip(), problems=problems)
    _merge(parsed, domain, result)
    return result


def _is_change_line(line: str) -> bool:
    tokens = line.split()
    if not tokens or tokens[0].upper() not in ACTIONS:
        return False
    if tokens[0] in ACTIONS:
        return True  # upper-case keyword: the writer meant a change line
    # "delete the old record please" is prose; "delete old CNAME" is a change.
    return any(t.upper() in _KNOWN_TYPES for t in tokens[2:4])


def _parse_line(line: str) -> dict:
    ttl = None
    suffix = _TTL_SUFFIX.search(line)
    if suffix:
        ttl = _ttl(suffix.group(1))
        line = line[: suffix.start()]
    tokens = line.split()
    action = tokens[0].lower()
    if len(tokens) < 3:
        raise _LineProblem(f"write {tokens[0].upper()} NAME TYPE VALUE")
    name, rest = tokens[1], tokens[2:]
    if rest[0].isdigit() and len(rest) > 1 and rest[1].upper() in _KNOWN_TYPES:
        if ttl is not None:
            raise _LineProblem("the TTL is given twice")
        ttl, rest = _ttl(rest[0]), rest[1:]
    rtype = rest[0].upper()
    if rtype not in _KNOWN_TYPES:
        raise _LineProblem(
            f"'{rest[0]}' is not a record type; use one of {', '.join(SUPPORTED_TYPES)}"
        )
    # The value is the rest of the line as written (MX "10 host.", quoted TXT).
    value = line.split(None, len(tokens) - len(rest) + 1)[-1] if len(rest) > 1 else ""
    change: dict = {"action": action, "name": name, "type": rtype}
    if value:
        change["values"] = [value.strip()]
    elif action != "delete":
        raise _LineProblem(f"{action.upper()} needs a value after the type {rtype}")
    if ttl is not None:
        if action == "delete":
            raise _LineProblem("DELETE takes no TTL")
        change["ttl"] = ttl
    return change


def _ttl(text: str) -> int:
    if not text.isdigit():
        raise _LineProblem(f"TTL '{text}' is not a whole number of seconds")
    return int(text)


def _zone_of(name: str, known: list[str]) -> str | None:
    name = name.lower().rstrip(".")
    return next((d for d in known if name == d or name.endswith("." + d)), None)


def _pick_domain(explicit, parsed, free_text, known, problems) -> str | None:
    if explicit:
        if len(set(explicit)) > 1:
            problems.append(
                f"the message names more than one domain ({', '.join(sorted(set(explicit)))});"
                " send one message per domain"
            )
            return None
        return explicit[0]
    from_names = {_zone_of(c["name"], known) for _, c in parsed} - {None}
    if not from_names:
        from_names = {
            d for m in _DOMAINISH.finditer(free_text) if (d := _zone_of(m.group(1), known))
        }
    if len(from_names) > 1:
        problems.append(
            f"the message names more than one domain ({', '.join(sorted(from_names))});"
            " send one message per domain"
        )
        return None
    return from_names.pop() if from_names else None


def relative_name(name: str, domain: str | None) -> str:
    """'intranet.stmarys.essex.sch.uk' -> 'intranet' inside that domain; '@' for the apex."""
    if not domain:
        return name
    bare = name.lower().rstrip(".")
    if bare == domain:
        return "@"
    if bare.endswith("." + domain):
        return name.rstrip(".")[: -(len(domain) + 1)]
    return name


def _merge(parsed: list[tuple[int, dict]], domain: str | None, result: ParsedRequest) -> None:
    """Lines with the same action, name and type make one change with several values
    (two REPLACE @ MX lines mean 'the MX set is these two')."""
    index: dict[tuple, int] = {}
    for number, change in parsed:
        change["name"] = relative_name(change["name"], domain)
        key = (change["action"], change["name"].lower(), change["type"])
        if key not in index:
            index[key] = len(result.changes)
            result.changes.append(change)
            result.change_lines.append([number])
            continue
        target = result.changes[index[key]]
        result.change_lines[index[key]].append(number)
        if ("values" in target) != ("values" in change):
            result.problems.append(
                f"line {number}: {change['action'].upper()} {change['name']} {change['type']}"
                " is given both with and without values"
            )
            continue
        if "values" in change:
            target["values"] += change["values"]
        if "ttl" in change and target.setdefault("ttl", change["ttl"]) != change["ttl"]:
            result.problems.append(
                f"line {number}: {change['name']} {change['type']} is given two different TTLs"
            )
