"""Periodic jobs: due times (London wall clock), one run per slot, never twice at once."""

from __future__ import annotations

import threading
import time as systime
from datetime import UTC, datetime, time, timedelta

import pytest

from provisioner.errors import ValidationError
from provisioner.jobs import register_periodic
from provisioner.jobs.registry import REGISTRY
from provisioner.jobs.scheduler import Scheduler, job_rows
from provisioner.jobs.timing import FixedClock, backoff_delay, next_daily, next_every


@pytest.fixture
def only_these_jobs():
    """Run a test with its own periodic jobs only, restoring the registry after."""
    saved = dict(REGISTRY.periodic)
    REGISTRY.periodic.clear()
    yield REGISTRY.periodic
    REGISTRY.periodic.clear()
    REGISTRY.periodic.update(saved)


def test_daily_time_is_london_wall_clock_in_winter_and_summer():
    winter = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # GMT: 07:00 London = 07:00 UTC
    assert next_daily(time(7, 0), winter) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    summer = datetime(2027, 6, 1, 5, 0, tzinfo=UTC)  # BST: 07:00 London = 06:00 UTC
    assert next_daily(time(7, 0), summer) == datetime(2027, 6, 1, 6, 0, tzinfo=UTC)
    # The Sunday the clocks go forward (28 March 2027): still 07:00 on the wall.
    before = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert next_daily(time(7, 0), before) == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)


def test_interval_slots_skip_what_was_missed_while_nothing_ran():
    due = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    five = timedelta(minutes=5)
    assert next_every(due, five, due) == due + five
    assert next_every(due, five, due + timedelta(minutes=23)) == due + timedelta(minutes=25)


def test_back_off_doubles_up_to_the_cap_with_jitter():
    base, cap = timedelta(seconds=30), timedelta(minutes=5)
    for attempt, step in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (9, 300)]:
        for _ in range(20):
            wait = backoff_delay(attempt, base, cap)
            assert timedelta(seconds=step) / 2 <= wait <= timedelta(seconds=step)


def test_a_job_needs_one_schedule(only_these_jobs):
    with pytest.raises(ValidationError, match="exactly one of every= or daily_at="):
        register_periodic("bad", lambda now: None)
    assert "bad" not in only_these_jobs


def test_due_jobs_run_once_per_slot(app, only_these_jobs):
    runs = []
    register_periodic("sla.scan", runs.append, every=timedelta(minutes=5))
    register_periodic("reminders", lambda now: runs.append(("reminders", now)), daily_at=time(7))
    clock = FixedClock(datetime(2026, 12, 1, 6, 58, tzinfo=UTC))
    scheduler = Scheduler(app, clock=clock)

    statuses = {o.name: o.status for o in scheduler.run_due()}
    assert statuses == {"sla.scan": "succeeded", "reminders": "skipped"}
    assert [o.status for o in scheduler.run_due()] == ["skipped", "skipped"]
    clock.advance(timedelta(minutes=3))  # 07:01: reminders due, the scan not yet
    assert {o.name: o.status for o in scheduler.run_due()} == {
        "sla.scan": "skipped",
        "reminders": "succeeded",
    }
    clock.advance(timedelta(minutes=4))  # 07:05
    assert {o.name: o.status for o in scheduler.run_due()}["sla.scan"] == "succeeded"
    assert len(runs) == 3
    rows = {row.name: row for row in job_rows()}
    assert rows["reminders"].next_due_at == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert rows["sla.scan"].runs == 2


def test_two_schedulers_never_run_a_job_twice_at_the_same_time(app, only_these_jobs):
    running, overlaps, runs = [], [], []

    def slow(now):
        if running:
            overlaps.append(now)
        running.append(1)
        systime.sleep(0.3)
        running.pop()
        runs.append(now)

    register_periodic("expiry.refresh", slow, every=timedelta(days=7))
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    machines = [Scheduler(app, clock=clock), Scheduler(app, clock=clock)]
    outcomes = []
    threads = [threading.Thread(target=lambda s=s: outcomes.extend(s.run_due())) for s in machines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(runs) == 1 and overlaps == []
    assert sorted(o.status for o in outcomes) == ["skipped", "succeeded"]


def test_failing_job_is_recorded_and_runs_again_next_slot(app, only_these_jobs):
    def broken(now):
        raise ValidationError("the calendar file is missing")

    register_periodic("broken", broken, every=timedelta(minutes=1))
    clock = FixedClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    scheduler = Scheduler(app, clock=clock)
    [outcome] = scheduler.run_due()
    assert (outcome.status, outcome.error) == ("failed", "the calendar file is missing")
    [row] = job_rows()
    assert (row.last_status, row.lease_owner) == ("failed", None)
    clock.advance(timedelta(minutes=1))
    assert scheduler.run_due()[0].status == "failed"  # tried again, not stuck


def test_run_due_command_runs_each_due_job_once(app, runner, only_these_jobs):
    runs = []
    register_periodic("sla.scan", runs.append, every=timedelta(minutes=5))
    result = runner.invoke(["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "sla.scan" in result.output and "succeeded" in result.output
    result = runner.invoke(["jobs", "run-due", "--json"])
    assert '"status": "skipped"' in result.output
    assert len(runs) == 1
