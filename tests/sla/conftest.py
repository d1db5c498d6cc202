from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from provisioner.sla import default_calendar, parse_calendar

LONDON = ZoneInfo("Europe/London")

# The calendar file exactly as printed in contract.md.
CONTRACT_EXAMPLE = """
timezone = "Europe/London"
bank_holidays = "ENG"            # England and Wales, from the holidays package, offline
exam_download_days = [2027-08-12, 2027-08-19]   # top-level keys come before any [table]

[hours.term]
monday = "08:30-16:30"
tuesday = "08:30-16:30"
wednesday = "08:30-16:30"
thursday = "08:30-16:30"
friday = "08:30-16:00"

[hours.non_term]
monday = "08:30-16:00"
tuesday = "08:30-16:00"
wednesday = "08:30-16:00"
thursday = "08:30-16:00"
friday = "08:30-15:30"

[hours.exam_download]
hours = "07:00-16:00"

[[terms]]
start = 2026-09-02
end = 2026-10-23                 # inclusive

[[terms]]
start = 2026-11-02
end = 2026-12-18

[[closures]]
name = "Christmas shutdown"
start = 2026-12-24
end = 2027-01-01                 # inclusive
"""


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.fixture(scope="session")
def contract_calendar():
    return parse_calendar(CONTRACT_EXAMPLE)


@pytest.fixture(scope="session")
def calendar():
    return default_calendar()
