"""Who handles which operation kind, the final-failure hooks, the periodic jobs.

Feature packages register at import time in a module named `tasks`
(provisioner/<feature>/tasks.py); workers, schedulers and `serve` import every
such module through load_task_modules() before they start.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from provisioner.jobs.errors import BadSchedule, UnknownOperationKind
from provisioner.jobs.timing import LONDON


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    func: Callable[[Any], dict | None]
    max_attempts: int = 5
    # Exception types (besides RetryableError) that mean "try again later".
    retryable: tuple[type[BaseException], ...] = ()
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=1)
    # How long a worker may go silent before another may take the operation over.
    lease: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Callable[[Any], None]
    every: timedelta | None = None
    daily_at: time | None = None
    tz: Any = LONDON
    lease: timedelta = timedelta(minutes=10)


@dataclass
class Registry:
    handlers: dict[str, HandlerSpec] = field(default_factory=dict)
    periodic: dict[str, PeriodicJob] = field(default_factory=dict)
    final_failure_hooks: list[Callable[[Any], None]] = field(default_factory=list)


REGISTRY = Registry()


def register_handler(
    kind: str,
    func: Callable[[Any], dict | None],
    *,
    max_attempts: int = 5,
    retryable: tuple[type[BaseException], ...] = (),
    backoff_base: timedelta = timedelta(seconds=30),
    backoff_cap: timedelta = timedelta(hours=1),
    lease: timedelta = timedelta(seconds=60),
) -> HandlerSpec:
    """Register `func(ctx) -> dict | None` for operations of `kind`.

    Handlers must be idempotent: after a crash the same operation runs again,
    so check what is already done before acting. Registering a kind again
    replaces it (modules may be imported twice).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if lease < timedelta(seconds=1):
        raise ValueError("a lease shorter than a second cannot be renewed in time")
    spec = HandlerSpec(kind, func, max_attempts, tuple(retryable), backoff_base, backoff_cap, lease)
    REGISTRY.handlers[kind] = spec
    return spec


def handler_for(kind: str) -> HandlerSpec:
    try:
        return REGISTRY.handlers[kind]
    except KeyError:
        raise UnknownOperationKind(
            f"no handler is registered for operations of kind {kind!r}",
            fields={"kind": kind},
        ) from None


def on_final_failure(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """Call `hook(operation)` when an operation has failed for good (usable as a decorator)."""
    if hook not in REGISTRY.final_failure_hooks:
        REGISTRY.final_failure_hooks.append(hook)
    return hook


def register_periodic(
    name: str,
    func: Callable[[Any], None],
    *,
    every: timedelta | None = None,
    daily_at: time | None = None,
    tz: Any = LONDON,
    lease: timedelta = timedelta(minutes=10),
) -> PeriodicJob:
    """Run `func(now)` every `every`, or daily at wall-clock `daily_at` (London by default).

    Any number of schedulers may run: a job row locked by conditional UPDATE
    makes each due run happen once, so Celery beat is optional.
    """
    if (every is None) == (daily_at is None):
        raise BadSchedule(
            f"periodic job {name!r} needs exactly one of every= or daily_at=",
            fields={"name": name},
        )
    if every is not None and every <= timedelta(0):
        raise BadSchedule(f"periodic job {name!r} needs a positive interval")
    job = PeriodicJob(name, func, every, daily_at, tz, lease)
    REGISTRY.periodic[name] = job
    return job


def load_task_modules(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Import provisioner.<feature>.tasks for every feature that has one, plus `extra`."""
    import provisioner

    names = []
    for info in pkgutil.iter_modules(provisioner.__path__):
        if not info.ispkg:
            continue
        name = f"provisioner.{info.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            names.append(name)
    names.extend(extra)
    for name in names:
        importlib.import_module(name)
    return names
