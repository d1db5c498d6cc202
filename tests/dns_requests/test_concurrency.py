"""Thirty requests for one zone, submitted and approved at once, applied by two workers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from provisioner.db import db
from provisioner.dns_requests import intake, review
from provisioner.dns_requests.models import DnsChangeRequest, DnsRequestEvent
from provisioner.zones.history import ZoneChange

COUNT = 30


def test_thirty_concurrent_requests_are_each_applied_once(app, setup):
    contact_id, tech_id, zone = setup.contact.id, setup.tech.id, setup.zone

    def submit(i: int) -> int:
        with app.app_context():
            from provisioner.schools.models import User

            contact = db.session.get(User, contact_id)
            change = {"action": "add", "name": f"host{i}", "type": "A", "values": [f"192.0.2.{i}"]}
            return intake.submit(requester=contact, domain=zone, changes=[change]).id

    def approve(request_id: int) -> None:
        with app.app_context():
            from provisioner.schools.models import User

            review.approve(review.get_request(request_id), db.session.get(User, tech_id))

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(submit, range(1, COUNT + 1)))
        list(pool.map(approve, ids))

    from provisioner.jobs.embedded import EmbeddedExecutor
    from provisioner.jobs.registry import load_task_modules

    load_task_modules()
    executors = [EmbeddedExecutor(app, threads=2, poll_interval=0.05) for _ in range(2)]
    for executor in executors:
        executor.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            db.session.remove()
            done = db.session.scalar(
                select(func.count(DnsChangeRequest.id)).where(
                    DnsChangeRequest.status.in_(("verified", "failed"))
                )
            )
            if done == COUNT:
                break
            time.sleep(0.2)
    finally:
        for executor in executors:
            executor.stop(timeout=30)

    db.session.remove()
    statuses = db.session.scalars(select(DnsChangeRequest.status)).all()
    assert sorted(set(statuses)) == ["verified"]
    applying = db.session.scalar(
        select(func.count(DnsRequestEvent.id)).where(DnsRequestEvent.kind == "applying")
    )
    assert applying == COUNT  # each applied exactly once
    assert db.session.scalar(select(func.count(ZoneChange.id))) == COUNT
    for i in range(1, COUNT + 1):
        assert setup.served(f"host{i}", "A") == [f"192.0.2.{i}"]
