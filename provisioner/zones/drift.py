"""The periodic drift check: live zones against what the product last applied."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from provisioner.db import db, utcnow
from provisioner.errors import ProvisionerError
from provisioner.mail.outbound import Message
from provisioner.registry.models import Domain
from provisioner.schools.models import STAFF_ROLES, User
from provisioner.zones.history import ZoneChange, ZoneDrift
from provisioner.zones.services import drift

log = logging.getLogger("provisioner.zones.drift")


def drift_scan(send_mail: Callable[[Message], None]) -> dict[str, list[str]]:
    """Check every domain the product has applied changes to; mail technicians
    about drift they have not heard of yet. Returns the drift found per domain."""
    domain_ids = db.session.scalars(select(ZoneChange.domain_id).distinct()).all()
    found: dict[str, list[str]] = {}
    for domain in db.session.scalars(select(Domain).where(Domain.id.in_(domain_ids))):
        try:
            lines = drift(domain)
        except ProvisionerError as exc:  # one unreachable server must not stop the scan
            log.warning("drift check of %s failed: %s", domain.name, exc.message)
            continue
        row = db.session.scalar(select(ZoneDrift).where(ZoneDrift.domain_id == domain.id))
        if row is None:
            row = ZoneDrift(domain_id=domain.id, lines=[])
            db.session.add(row)
        is_new = bool(lines) and lines != row.lines
        row.lines, row.checked_at = lines, utcnow()
        if lines:
            found[domain.name] = lines
        if is_new:
            _report(domain, lines, send_mail)
            row.reported_at = utcnow()
        db.session.commit()
    return found


def _report(domain: Domain, lines: list[str], send_mail) -> None:
    staff = db.session.scalars(select(User.email).where(User.role.in_(STAFF_ROLES), User.active))
    recipients = list(staff)
    if not recipients:
        return
    body = (
        f"The live zone {domain.name} ({domain.school.name}) no longer matches what "
        "Provisioner last applied. Changed outside Provisioner since then:\n\n"
        + "\n".join(f"  {line}" for line in lines)
        + f"\n\nSee `provisioner dns drift {domain.name}` and the zone's history.\n"
    )
    send_mail(Message(to=recipients, subject=f"DNS drift on {domain.name}", text=body))
