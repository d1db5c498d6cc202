"""The ten-domain limit and one-school-per-domain hold under concurrent requests.

PostgreSQL only: each thread has its own application context, session and
connection, and a barrier releases them together.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.errors import Conflict, DomainLimitReached
from provisioner.registry.models import Domain
from provisioner.registry.services import add_domain
from provisioner.schools.models import School

pytestmark = pytest.mark.postgres_only
THREADS = 20


@pytest.fixture
def app_config(app_config):
    # A connection per thread, so every add really runs at the same time.
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS, "max_overflow": 5}}


def _race(app, attempt) -> list:
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(n: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[n] = attempt(n)
            except Conflict as exc:
                results[n] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_concurrent_adds_to_a_school_with_eight_domains(app, make_school):
    school_id = make_school(urn="111111", name="Alder Primary").id
    for n in range(8):
        add_domain("111111", f"existing{n}.org.uk")
    db.session.remove()

    results = _race(app, lambda n: add_domain("111111", f"race{n}.org.uk").name)

    added = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, DomainLimitReached)]
    assert len(added) == 2 and len(refused) == 18, results
    assert all("Alder Primary already has 10 domains" in r.message for r in refused)
    assert db.session.scalar(select(func.count(Domain.id))) == 10
    assert db.session.get(School, school_id).domain_count == 10
    names = set(db.session.scalars(select(Domain.name).where(Domain.name.like("race%"))))
    assert names == set(added)


def test_twenty_schools_racing_for_one_name_give_it_to_exactly_one(app, make_school):
    for n in range(THREADS):
        make_school(urn=f"{300000 + n}", name=f"School {n}")
    db.session.remove()

    results = _race(app, lambda n: add_domain(f"{300000 + n}", "shared.org.uk").school.urn)

    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == THREADS - 1, results
    assert all(r.code == "domain_taken" for r in losers)
    counts = dict(db.session.execute(select(School.urn, School.domain_count)).all())
    assert counts[winners[0]] == 1
    assert sum(counts.values()) == 1  # the losers' claimed slots were given back
