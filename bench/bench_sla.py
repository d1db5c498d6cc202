"""Due times for 100,000 cases over two years, and the same P1/P2 due times from
businesstimedelta (the peer) on a calendar both can express.

Run: .venv/bin/python bench/bench_sla.py [--cases N]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

import businesstimedelta as btd
import holidays
import pytz

from provisioner.sla import Pause, default_calendar, due_at, parse_calendar

# Fixed weekly hours and bank holidays: what businesstimedelta can express too.
FIXED = """
bank_holidays = "ENG"
[hours.term]
monday = "08:30-16:30"
tuesday = "08:30-16:30"
wednesday = "08:30-16:30"
thursday = "08:30-16:30"
friday = "08:30-16:00"
[hours.non_term]
monday = "08:30-16:30"
tuesday = "08:30-16:30"
wednesday = "08:30-16:30"
thursday = "08:30-16:30"
friday = "08:30-16:00"
"""
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_MIN = 2 * 365 * 24 * 60
HOURS = {"P1": 4, "P2": 8}


def make_cases(n: int, seed: int = 2026):
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        received = START + timedelta(minutes=rng.randrange(SPAN_MIN))
        priority = rng.choice(("P1", "P2", "P3", "P4"))
        pauses = ()
        if rng.random() < 0.2:  # one case in five waits for the school for a while
            p_start = received + timedelta(minutes=rng.randrange(3 * 24 * 60))
            pauses = (Pause(p_start, p_start + timedelta(minutes=rng.randrange(1, 4 * 24 * 60))),)
        cases.append((priority, received, pauses))
    return cases


def peer_rules():
    tz = pytz.timezone("Europe/London")
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(2025, 2030))
    return btd.Rules(
        [
            btd.WorkDayRule(
                start_time=datetime.min.time().replace(hour=8, minute=30),
                end_time=datetime.min.time().replace(hour=16, minute=30),
                working_days=[0, 1, 2, 3],
                tz=tz,
            ),
            btd.WorkDayRule(
                start_time=datetime.min.time().replace(hour=8, minute=30),
                end_time=datetime.min.time().replace(hour=16),
                working_days=[4],
                tz=tz,
            ),
            btd.HolidayRule([d for d in days if isinstance(d, date)], tz=tz),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--peer-cases", type=int, default=20_000)
    args = parser.parse_args()
    cases = make_cases(args.cases)

    cal = default_calendar()  # fresh: the compile of its timeline is part of the time
    t0 = time.perf_counter()
    for priority, received, pauses in cases:
        due_at(priority, received, cal, pauses)
    ours = time.perf_counter() - t0
    print(f"provisioner.sla, shipped calendar, all priorities, 20% paused: {len(cases):,} cases")
    print(f"  {ours:.3f} s  ({len(cases) / ours:,.0f} cases/s)  target < 2 s for 100,000")

    # Peer comparison: P1/P2 without pauses on the fixed calendar.
    hour_cases = [(p, r) for p, r, _ in cases if p in HOURS][: args.peer_cases]
    fixed = parse_calendar(FIXED)
    t0 = time.perf_counter()
    mine = [due_at(p, r, fixed) for p, r in hour_cases]
    ours_fixed = time.perf_counter() - t0

    rules = peer_rules()
    deltas = {p: btd.BusinessTimeDelta(rules, hours=h) for p, h in HOURS.items()}
    t0 = time.perf_counter()
    theirs = [r + deltas[p] for p, r in hour_cases]
    peer = time.perf_counter() - t0

    mismatches = [
        (p, r, a, b) for (p, r), a, b in zip(hour_cases, mine, theirs, strict=True) if a != b
    ]
    n = len(hour_cases)
    print(f"P1/P2 due times on fixed weekly hours + bank holidays: {n:,} cases")
    print(f"  provisioner.sla   {ours_fixed:.3f} s  ({n / ours_fixed:,.0f} cases/s)")
    print(f"  businesstimedelta {peer:.3f} s  ({n / peer:,.0f} cases/s)")
    print(f"  ratio: provisioner.sla is {peer / ours_fixed:,.1f}x the peer's speed")
    print(f"  mismatches: {len(mismatches)} of {n}")
    for p, r, a, b in mismatches[:5]:
        print(f"    {p} received {r.isoformat()}: ours {a.isoformat()} peer {b.isoformat()}")
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
