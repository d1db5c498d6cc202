"""Which renewal reminder is due (pure).

A slot is an offset in days from the expiry date: -90 is "90 days before", 7 is
"7 days after". A (domain, expiry date, slot) is sent at most once; the caller passes
the slots already sent *for the current expiry date*, so a renewal (a new expiry date)
starts a fresh series by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

DEFAULT_BEFORE = (90, 60, 30, 14, 7, 1)
DEFAULT_AFTER = (1, 7)
DEFAULT_SLOTS: tuple[int, ...] = tuple(-d for d in DEFAULT_BEFORE) + DEFAULT_AFTER


def make_slots(before: Iterable[int] = DEFAULT_BEFORE, after: Iterable[int] = DEFAULT_AFTER):
    """Slots from "days before" and "days after" lists, sorted by when they fall."""
    before, after = list(before), list(after)
    bad = [d for d in before + after if not isinstance(d, int) or d < 0]
    if bad:
        raise ValueError(f"reminder days must be whole numbers of days, 0 or more: {bad}")
    return tuple(sorted({-d for d in before} | set(after)))


def parse_slots(text: str) -> tuple[int, ...]:
    """'90,60,30,14,7,1,+1,+7' -> slots: plain numbers are days before, '+N' days after."""
    slots = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        after = part.startswith("+")
        digits = part[1:] if after else part
        if not digits.isdigit():
            raise ValueError(
                f"reminder slot {part!r} is not N (days before) or +N (days after expiry)"
            )
        slots.add(int(digits) if after else -int(digits))
    if not slots:
        raise ValueError("no reminder slots given")
    return tuple(sorted(slots))


def slot_label(slot: int) -> str:
    if slot < 0:
        return f"{-slot} day{'s' if slot != -1 else ''} before expiry"
    if slot == 0:
        return "on the day of expiry"
    return f"{slot} day{'s' if slot != 1 else ''} after expiry"


def send_day(expiry: date, slot: int) -> date:
    return expiry + timedelta(days=slot)


def due_slot(
    expiry: date,
    today: date,
    sent: Iterable[int] = (),
    slots: Sequence[int] = DEFAULT_SLOTS,
) -> int | None:
    """The slot to send today, or None.

    Only the most recent slot whose day has come is a candidate: after downtime the
    job sends that one and skips the older ones, never a burst. It is due unless it
    (or, by a config change, a later one) was already sent for this expiry date.
    """
    passed = [s for s in slots if send_day(expiry, s) <= today]
    if not passed:
        return None
    latest = max(passed)
    if any(s >= latest for s in sent):
        return None
    return latest


def days_left(expiry: date, today: date) -> int:
    """Days until expiry (negative once expired)."""
    return (expiry - today).days
