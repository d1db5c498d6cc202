"""Bad calendar files are refused with the key and the problem named."""

import pytest

from provisioner.errors import ValidationError
from provisioner.sla import CalendarError, default_calendar_text, parse_calendar

GOOD = """
timezone = "Europe/London"
bank_holidays = "ENG"

[hours.term]
monday = "08:30-16:30"
friday = "08:30-16:00"

[hours.non_term]
monday = "08:30-16:00"

[[terms]]
start = 2026-09-02
end = 2026-10-23

[[terms]]
start = 2026-11-02
end = 2026-12-18
"""


def problems(text: str) -> dict:
    with pytest.raises(CalendarError) as info:
        parse_calendar(text)
    assert isinstance(info.value, ValidationError)
    assert info.value.code == "invalid_calendar"
    for key in info.value.fields:
        assert key in info.value.message  # the message a person reads names every key
    return info.value.fields


def test_good_file_and_shipped_default_parse():
    cal = parse_calendar(GOOD)
    assert len(cal.terms) == 2
    shipped = parse_calendar(default_calendar_text())
    assert len(shipped.terms) >= 10 and shipped.closures


def test_overlapping_terms():
    fields = problems(GOOD + "\n[[terms]]\nstart = 2026-10-20\nend = 2026-10-30\n")
    assert "terms[2]" in fields or "terms[1]" in fields
    assert "overlaps" in " ".join(fields.values())


def test_end_before_start():
    fields = problems(GOOD + '\n[[closures]]\nname = "x"\nstart = 2027-01-01\nend = 2026-12-24\n')
    assert fields == {"closures[0].end": "end 2026-12-24 is before start 2027-01-01"}


def test_closing_before_opening():
    fields = problems(GOOD.replace('monday = "08:30-16:30"', 'monday = "16:30-08:30"'))
    assert fields == {"hours.term.monday": "closing time 08:30 is not after opening time 16:30"}


def test_unknown_weekday_and_weekend_day():
    fields = problems(GOOD.replace('friday = "08:30-16:00"', 'funday = "08:30-16:00"'))
    assert "unknown weekday 'funday'" in fields["hours.term.funday"]
    fields = problems(GOOD.replace('friday = "08:30-16:00"', 'saturday = "08:30-16:00"'))
    assert "weekends" in fields["hours.term.saturday"]


def test_unknown_keys():
    fields = problems("colour = 'blue'\n" + GOOD + '\n[hours.holiday]\nmonday = "09:00-10:00"\n')
    assert "unknown key" in fields["colour"]
    assert "unknown key" in fields["hours.holiday"]
    fields = problems(GOOD + "\n[[terms]]\nstart = 2027-01-04\nend = 2027-02-12\nhalf = 1\n")
    assert "unknown key" in fields["terms[2].half"]


@pytest.mark.parametrize("bad", ["8:30-16:30", "08:30 to 16:30", "25:00-26:00", "08:61-16:00"])
def test_malformed_time(bad):
    fields = problems(GOOD.replace('monday = "08:30-16:30"', f'monday = "{bad}"'))
    assert "malformed" in fields["hours.term.monday"]


def test_malformed_dates_and_toml():
    fields = problems(GOOD.replace("start = 2026-09-02", 'start = "2 Sept 2026"'))
    assert "YYYY-MM-DD" in fields["terms[0].start"]
    fields = problems("exam_download_days = [2027-08-14]\n" + GOOD)
    assert "saturday" in fields["exam_download_days[0]"]
    fields = problems("timezone = \n")
    assert "file" in fields


def test_unknown_timezone_and_region():
    fields = problems(GOOD.replace("Europe/London", "Europe/Narnia").replace('"ENG"', '"XYZ"'))
    assert set(fields) == {"timezone", "bank_holidays"}


def test_missing_hours_tables():
    fields = problems('timezone = "Europe/London"\n')
    assert fields == {"hours.term": "missing", "hours.non_term": "missing"}


def test_all_problems_reported_at_once():
    text = GOOD.replace('monday = "08:30-16:30"', 'monday = "16:30-08:30"').replace(
        "end = 2026-10-23", "end = 2026-08-01"
    )
    assert set(problems(text)) == {"hours.term.monday", "terms[0].end"}
