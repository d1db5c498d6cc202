"""Opening intervals of a calendar compiled into sorted arrays of UTC microseconds.

Every business day k has an interval ``[start[k], end[k])`` and ``cum[k]``, the open
time before it. Open time between two instants is then a difference of two prefix
sums, and adding open time is one bisection: no walking minute by minute. Arrays are
built a few years at a time and rebuilt wider when a query falls outside them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta

from provisioner.errors import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
DAY_US = 86_400_000_000
# A calendar with no opening hours for this long is a mistake, not a slow desk.
MAX_YEARS = 30


class NoOpeningHours(ValidationError):
    code = "no_opening_hours"


def to_us(dt: datetime) -> int:
    return (dt - EPOCH) // US


class Timeline:
    def __init__(self, calendar):
        self.calendar = calendar
        self.tz = calendar.tz
        self.first_year = self.last_year = None

    # -- building -----------------------------------------------------------------

    def _build(self, first_year: int, last_year: int) -> None:
        cal, tz = self.calendar, self.tz
        first, last = date(first_year, 1, 1), date(last_year, 12, 31)
        self.base_ord = first.toordinal()
        starts, ends, cums, ordinals, opens_local = [], [], [], [], []
        next_index = []  # per date: index of the first business day on or after it
        total = 0
        d = first
        while d <= last:
            next_index.append(len(starts))
            hours = cal.hours_on(d)
            if hours is not None:
                s = to_us(datetime.combine(d, hours[0], tzinfo=tz))
                e = to_us(datetime.combine(d, hours[1], tzinfo=tz))
                starts.append(s)
                ends.append(e)
                cums.append(total)
                ordinals.append(d.toordinal())
                opens_local.append(hours)
                total += e - s
            d += timedelta(days=1)
        self.first_year, self.last_year = first_year, last_year
        self.starts, self.ends, self.cums = starts, ends, cums
        self.cum_ends = [c + (e - s) for c, s, e in zip(cums, starts, ends, strict=True)]
        self.ordinals, self.next_index = ordinals, next_index
        # opening time of each business day, in microseconds after local midnight
        self.open_local = [
            (o.hour * 3600 + o.minute * 60 + o.second) * 10**6 for o, _ in opens_local
        ]
        self.safe_lo = to_us(datetime.combine(first, datetime.min.time(), tzinfo=tz)) + DAY_US
        self.safe_hi = to_us(datetime.combine(last, datetime.min.time(), tzinfo=tz)) - 7 * DAY_US

    def _cover(self, us: int, forward: int = 0) -> None:
        """Make sure the arrays cover instant ``us`` plus ``forward`` more business days."""
        if self.first_year is not None and self.safe_lo <= us < self.safe_hi:
            if bisect_right(self.ends, us) + forward < len(self.starts):
                return  # the hot path: one range check and one bisection
        if self.first_year is None:
            year = (EPOCH + timedelta(microseconds=us)).year
            self._build(year - 1, year + 2)
        first, last = self.first_year, self.last_year
        while True:
            if us < self.safe_lo:
                first -= 2
            elif us >= self.safe_hi:
                last += 2
            else:
                k = bisect_right(self.ends, us)
                if k + forward < len(self.starts):
                    return
                last += 2
            if last - first > MAX_YEARS:
                raise NoOpeningHours(
                    "The business calendar has no opening hours for years around this date.",
                    fields={"calendar": "no opening hours"},
                )
            self._build(first, last)

    # -- queries (all in UTC microseconds) ---------------------------------------

    def clock_start(self, us: int) -> int:
        """Rule 2: ``us`` if the desk is open then, else the next opening time."""
        self._cover(us, 1)
        k = bisect_right(self.ends, us)  # first interval whose closing is after us
        s = self.starts[k]
        return us if s <= us else s

    def open_before(self, us: int) -> int:
        """Open time from the start of the arrays up to ``us``."""
        k = bisect_right(self.ends, us)
        if k < len(self.starts) and self.starts[k] <= us:
            return self.cums[k] + us - self.starts[k]
        return self.cums[k] if k < len(self.cums) else self.cum_ends[-1]

    def open_between(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        self._cover(a)
        self._cover(b)
        return self.open_before(b) - self.open_before(a)

    def add_open(self, us: int, amount: int) -> int:
        """Rule 3: the instant at which open time counted from ``us`` reaches ``amount``.

        Landing exactly on a closing time gives that closing time (bisect_left).
        """
        if amount <= 0:
            return us  # nothing to add: stay put, even at a closed instant
        self._cover(us, 1)
        target = self.open_before(us) + amount
        while target > self.cum_ends[-1]:
            self._cover(self.safe_hi, 400)
            target = self.open_before(us) + amount
        j = bisect_left(self.cum_ends, target)
        return self.starts[j] + target - self.cums[j]

    def add_business_days(self, us: int, days: int) -> int:
        """Rule 4: the clock time of ``us`` (an open instant) on the N-th business day
        after its date, moved into that day's opening hours."""
        self._cover(us, days + 1)
        k = bisect_right(self.ends, us)
        j = k + days
        # Opening hours never contain a DST change, so wall-clock offsets within
        # them are plain differences of UTC instants.
        local_time = self.open_local[k] + max(0, us - self.starts[k])
        if local_time <= self.open_local[j]:
            return self.starts[j]
        return min(self.starts[j] + local_time - self.open_local[j], self.ends[j])

    def business_index(self, day: date) -> int:
        """Index of the first business day on or after ``day``."""
        us = to_us(datetime.combine(day, datetime.min.time(), tzinfo=self.tz))
        self._cover(us, 1)
        return self.next_index[day.toordinal() - self.base_ord]
