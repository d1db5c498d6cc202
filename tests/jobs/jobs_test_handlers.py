"""Handlers the operations tests run, in this process and in worker subprocesses.

Imported by name (`provisioner worker --import jobs_test_handlers`), so it sits
on PYTHONPATH rather than being a test module. Effects go into their own table
with a unique key, written through db.session so they commit together with
the operation's "succeeded" mark.
"""

from __future__ import annotations

import os
import random
import time
from datetime import timedelta

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, insert, select

from provisioner.db import db
from provisioner.jobs import PermanentError, RetryableError, register_handler

metadata = MetaData()
effects = Table(
    "test_job_effects",
    metadata,
    Column("op_key", String(80), primary_key=True),
    Column("resource", String(80)),
    Column("seq", Integer),
    Column("started_ns", BigInteger),
    Column("ended_ns", BigInteger),
    Column("pid", Integer),
    Column("attempt", Integer),
)
CALLS: list[int] = []  # attempts seen by flaky handlers in this process


def record(ctx) -> dict:
    """Idempotent: does nothing if this key's effect is already there."""
    key = ctx.payload["key"]
    done = db.session.execute(select(effects.c.op_key).where(effects.c.op_key == key)).first()
    if done:
        ctx.log(f"{key} was already done")
        return {"key": key, "already": True}
    started = time.time_ns()
    time.sleep(ctx.payload.get("sleep", 0) or random.uniform(0, 0.003))
    db.session.execute(
        insert(effects).values(
            op_key=key,
            resource=ctx.resource_key,
            seq=ctx.payload.get("seq", 0),
            started_ns=started,
            ended_ns=time.time_ns(),
            pid=os.getpid(),
            attempt=ctx.attempt,
        )
    )
    return {"key": key}


def refuse(ctx) -> dict:
    CALLS.append(ctx.attempt)
    raise PermanentError(f"the change to {ctx.resource_key} is not allowed")


def flaky(ctx) -> dict:
    CALLS.append(ctx.attempt)
    if ctx.attempt < ctx.payload.get("succeed_on", 99):
        raise RetryableError("the provider is throttling us")
    return {"attempt": ctx.attempt}


def noop(ctx) -> dict:
    return {}


register_handler("test.record", record, max_attempts=3)
register_handler("test.refuse", refuse, max_attempts=5)
register_handler(
    "test.flaky",
    flaky,
    max_attempts=4,
    backoff_base=timedelta(seconds=20),
    backoff_cap=timedelta(minutes=10),
)
register_handler("test.noop", noop)
