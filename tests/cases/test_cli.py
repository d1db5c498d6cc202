"""`provisioner sla due` and `provisioner calendar load|show` as contract.md prints them."""

import json

import pytest

from provisioner.sla import default_calendar_text

SHORT_TERMS = """
timezone = "Europe/London"
bank_holidays = "ENG"

[hours.term]
monday = "09:00-17:00"
tuesday = "09:00-17:00"
wednesday = "09:00-17:00"
thursday = "09:00-17:00"
friday = "09:00-17:00"

[hours.non_term]
monday = "09:00-12:00"
tuesday = "09:00-12:00"
wednesday = "09:00-12:00"
thursday = "09:00-12:00"
friday = "09:00-12:00"
"""


@pytest.mark.parametrize(
    "priority,received,due",
    [
        ("P1", "2026-11-26T15:00", "2026-11-27T11:00:00+00:00"),
        ("P2", "2026-11-22T20:00", "2026-11-23T16:30:00+00:00"),
        ("P3", "2026-11-23T11:15", "2026-11-26T11:15:00+00:00"),
        ("P4", "2026-11-23T16:20", "2026-11-30T16:20:00+00:00"),
        # with an offset, and in summer time (printed with +01:00)
        ("P1", "2026-11-26T15:00:00+00:00", "2026-11-27T11:00:00+00:00"),
        ("P1", "2027-06-09T14:00:00Z", "2027-06-10T11:00:00+01:00"),  # 15:00 BST, term
    ],
)
def test_sla_due_prints_iso_with_london_offset(runner, priority, received, due):
    result = runner.invoke(["sla", "due", "--priority", priority, "--received", received])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == due


def test_sla_due_with_pauses_and_json(runner):
    result = runner.invoke(
        [
            "sla", "due", "--priority", "P1", "--received", "2026-11-26T15:00",
            "--pause", "2026-11-26T15:30/2026-11-27T09:30", "--json",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["due"] == "2026-11-27T13:00:00+00:00"
    assert data["clock_start"] == "2026-11-26T15:00:00+00:00"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--priority", "P5", "--received", "2026-11-26T15:00"], "P1, P2, P3, P4"),
        (["--priority", "P1", "--received", "26/11/2026 3pm"], "not an ISO 8601 time"),
        (
            ["--priority", "P1", "--received", "2026-11-26T15:00", "--pause", "2026-11-26"],
            "START/END",
        ),
        (
            ["--priority", "P1", "--received", "2026-11-26T15:00",
             "--pause", "2026-11-27T10:00/2026-11-27T09:00"],
            "ends before it starts",
        ),
    ],
)  # fmt: skip
def test_sla_due_bad_input_exits_2_with_a_message(runner, args, needle):
    result = runner.invoke(["sla", "due", *args])
    assert result.exit_code == 2
    assert needle in result.output


def test_calendar_load_replaces_the_calendar_in_force(runner, tmp_path):
    before = runner.invoke(["sla", "due", "--priority", "P1", "--received", "2026-11-26T15:00"])
    assert before.output.strip() == "2026-11-27T11:00:00+00:00"
    path = tmp_path / "cal.toml"
    path.write_text(SHORT_TERMS)
    result = runner.invoke(["calendar", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "calendar version" in result.output
    # non-term all year, 09:00-12:00: 0h on Thursday after 12:00... 3h Fri, 1h Mon
    after = runner.invoke(["sla", "due", "--priority", "P1", "--received", "2026-11-26T15:00"])
    assert after.output.strip() == "2026-11-30T10:00:00+00:00"
    show = runner.invoke(["calendar", "show", "--from", "2026-11-27", "--days", "3"])
    assert show.output.splitlines() == [
        "Fri 2026-11-27  09:00-12:00  non-term",
        "Sat 2026-11-28  closed       weekend (Saturday)",
        "Sun 2026-11-29  closed       weekend (Sunday)",
    ]


def test_bad_calendar_names_key_and_problem_and_changes_nothing(runner, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text(SHORT_TERMS)
    assert runner.invoke(["calendar", "load", str(good)]).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(
        SHORT_TERMS.replace('monday = "09:00-17:00"', 'monday = "17:00-09:00"')
        + "\n[[terms]]\nstart = 2026-09-02\nend = 2026-08-01\n"
    )
    result = runner.invoke(["calendar", "load", str(bad)])
    assert result.exit_code == 1
    assert "hours.term.monday: closing time 09:00 is not after opening time 17:00" in result.output
    assert "terms[0].end: end 2026-08-01 is before start 2026-09-02" in result.output
    after = runner.invoke(["sla", "due", "--priority", "P1", "--received", "2026-11-26T15:00"])
    assert after.output.strip() == "2026-11-30T10:00:00+00:00"  # still the good file


def test_calendar_show_defaults_to_the_shipped_calendar(runner):
    result = runner.invoke(["calendar", "show", "--from", "2027-08-12", "--days", "1", "--json"])
    assert json.loads(result.output) == [
        {"date": "2027-08-12", "open": "07:00-16:00", "kind": "exam_download", "reason": ""}
    ]
    assert "exam_download_days" in default_calendar_text()


def test_calendar_show_bad_date_exits_2(runner):
    result = runner.invoke(["calendar", "show", "--from", "tomorrow"])
    assert result.exit_code == 2
