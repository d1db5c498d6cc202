"""Which reminder slot is due (pure)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from provisioner.registry.reminders_plan import (
    DEFAULT_SLOTS,
    due_slot,
    make_slots,
    parse_slots,
    slot_label,
)

EXPIRY = date(2027, 3, 1)


def day(offset: int) -> date:
    return EXPIRY + timedelta(days=offset)


def test_default_slots_are_the_service_rules():
    assert DEFAULT_SLOTS == (-90, -60, -30, -14, -7, -1, 1, 7)
    assert make_slots() == DEFAULT_SLOTS
    assert parse_slots("90,60,30,14,7,1,+1,+7") == DEFAULT_SLOTS


def test_nothing_is_due_before_the_first_slot():
    assert due_slot(EXPIRY, day(-91)) is None


def test_each_slot_is_due_on_its_day_and_only_once():
    sent: list[int] = []
    sent_on = {}
    for offset in range(-120, 30):
        slot = due_slot(EXPIRY, day(offset), sent)
        if slot is not None:
            sent.append(slot)
            sent_on[slot] = offset
    assert sent == list(DEFAULT_SLOTS)
    assert sent_on == {s: s for s in DEFAULT_SLOTS}


def test_after_a_week_of_downtime_only_the_latest_slot_goes_out():
    sent = [-90, -60, -30]
    # Down from day -16 to day -6: the -14 and -7 slots were missed.
    assert due_slot(EXPIRY, day(-6), sent) == -7
    assert due_slot(EXPIRY, day(-6), [*sent, -7]) is None
    assert due_slot(EXPIRY, day(-2), [*sent, -7]) is None
    assert due_slot(EXPIRY, day(-1), [*sent, -7]) == -1


def test_an_expired_domain_gets_the_after_slots():
    assert due_slot(EXPIRY, day(3), [-1]) == 1
    assert due_slot(EXPIRY, day(40), [-1, 1]) == 7
    assert due_slot(EXPIRY, day(40), [-1, 1, 7]) is None


def test_a_new_expiry_date_starts_a_fresh_series():
    renewed = EXPIRY.replace(year=2028)
    # The old series had sent -30; for the new date nothing was sent: nothing is due a year out.
    assert due_slot(renewed, day(-20), []) is None
    assert due_slot(renewed, renewed - timedelta(days=90), []) == -90


def test_a_domain_added_late_gets_the_current_slot_not_a_burst():
    assert due_slot(EXPIRY, day(-20), []) == -30


def test_configured_slots():
    slots = parse_slots("30, 7, +3")
    assert slots == (-30, -7, 3)
    assert due_slot(EXPIRY, day(-10), [], slots) == -30
    assert due_slot(EXPIRY, day(5), [-30, -7], slots) == 3


@pytest.mark.parametrize("text", ["", "30,soon", "-5", "30,,x"])
def test_bad_slot_lists_are_refused(text):
    with pytest.raises(ValueError, match="slot"):
        parse_slots(text)


def test_make_slots_refuses_negative_days():
    with pytest.raises(ValueError, match="0 or more"):
        make_slots(before=[30, -1])


def test_slot_labels_read_naturally():
    assert slot_label(-90) == "90 days before expiry"
    assert slot_label(-1) == "1 day before expiry"
    assert slot_label(1) == "1 day after expiry"
    assert slot_label(7) == "7 days after expiry"
