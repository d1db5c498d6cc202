"""A handler only the crash-recovery test's own workers know (others never claim it)."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from jobs_test_handlers import record

from provisioner.jobs import register_handler


def slow_first_time(ctx) -> dict:
    ctx.log(f"started attempt {ctx.attempt} in process {os.getpid()}")
    if ctx.attempt == 1:
        time.sleep(120)  # the test kills this process here
    return record(ctx)


register_handler("test.slow_first_time", slow_first_time, lease=timedelta(seconds=2))
