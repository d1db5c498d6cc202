"""iCalendar (RFC 5545) text for expiry dates, written by hand (pure).

Content lines end in CRLF and are folded at 75 octets (a continuation starts with one
space), never inside a UTF-8 character; TEXT values escape backslash, semicolon, comma
and newline (section 3.3.11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

LIMIT = 75


@dataclass(frozen=True)
class AllDayEvent:
    uid: str
    day: date
    summary: str
    description: str = ""
    url: str = ""


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """One content line, folded so that no physical line exceeds 75 octets."""
    data = line.encode("utf-8")
    if len(data) <= LIMIT:
        return line + "\r\n"
    parts, start, room = [], 0, LIMIT
    while start < len(data):
        end = min(start + room, len(data))
        # Step back off UTF-8 continuation bytes (10xxxxxx) so no character is split.
        while end < len(data) and end > start and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, room = end, LIMIT - 1  # the leading space takes one octet
    return "\r\n ".join(parts) + "\r\n"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def render(name: str, events: Iterable[AllDayEvent], now: datetime) -> str:
    """A VCALENDAR of all-day events; `now` (UTC) is each event's DTSTAMP."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Provisioner//Domain expiry dates//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape_text(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape_text(event.description)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)
