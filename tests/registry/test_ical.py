"""iCalendar text by hand: CRLF lines, folded at 75 octets, TEXT escaped (RFC 5545)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from provisioner.registry.ical import AllDayEvent, escape_text, fold, render

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")[:-1]


def test_every_line_ends_in_crlf_and_fits_in_75_octets():
    long_name = "ysgol-gynradd-" + "llanfairpwllgwyngyll" * 4 + ".sch.uk"
    text = render(
        "Domain expiry dates: Ysgol Gymraeg Bro Ddyfi, Machynlleth",
        [AllDayEvent("d-1@provisioner", date(2027, 3, 1), f"Domain expires: {long_name}")],
        NOW,
    )
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n")[:-1]:
        assert len(line.encode("utf-8")) <= 75
    lines = unfold(text)
    assert f"SUMMARY:Domain expires: {long_name}" in lines
    assert "DTSTART;VALUE=DATE:20270301" in lines
    assert "DTEND;VALUE=DATE:20270302" in lines
    assert "DTSTAMP:20261129T090000Z" in lines
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"


def test_folding_never_splits_a_multibyte_character():
    line = "SUMMARY:" + "ŵ" * 60 + "ğ" * 10  # two octets each
    folded = fold(line)
    for part in folded.split("\r\n")[:-1]:
        part.encode("utf-8")  # each physical line is whole UTF-8 on its own
        assert len(part.encode("utf-8")) <= 75
    assert folded.replace("\r\n ", "") == line + "\r\n"


def test_text_values_are_escaped():
    assert escape_text("a,b;c\\d\nnext") == "a\\,b\\;c\\\\d\\nnext"
    text = render("St Mary's, Essex; C of E", [], NOW)
    assert "X-WR-CALNAME:St Mary's\\, Essex\\; C of E" in unfold(text)
