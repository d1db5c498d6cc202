"""What `provisioner serve` starts: worker threads and the scheduler, in the web process."""

from __future__ import annotations

from conftest import wait_for
from sqlalchemy import select

from provisioner.db import db
from provisioner.jobs import enqueue
from provisioner.jobs.embedded import start_background
from provisioner.jobs.models import JobRun, Operation


def test_serve_runs_committed_operations_and_periodic_jobs_in_the_background(app):
    started = start_background(app)
    try:
        op_id = enqueue("test.noop", {}, resource_key="zone:a.sch.uk").id
        db.session.commit()  # wakes the worker threads at once

        def finished():
            db.session.expire_all()
            status = db.session.get(Operation, op_id).status
            db.session.rollback()
            return status == "succeeded"

        wait_for(finished, what="the operation to run in the background")
        wait_for(
            lambda: db.session.execute(select(JobRun.name)).scalars().all(),
            what="the scheduler's first pass",
        )
        names = set(db.session.execute(select(JobRun.name)).scalars())
        assert "operations.relay" in names
    finally:
        started["executor"].stop()
        started["scheduler"].stop()
