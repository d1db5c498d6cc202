"""Auto-renew: the renewal request opens by itself AUTO_RENEW_DAYS before expiry, once
per expiry date; approved in advance by the nominated contact who turned it on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.errors import Forbidden, NotNominated
from provisioner.jobs.registry import REGISTRY, load_task_modules
from provisioner.registry.auto_renew import run_auto_renew, set_auto_renew
from provisioner.registry.lifecycle_models import RegistrationRequest
from provisioner.registry.quotes import set_price
from provisioner.registry.services import add_domain
from provisioner.schools.services import update_contact

EXPIRY = date(2027, 3, 1)


@pytest.fixture
def setup(app, make_school, make_contact, make_technician):
    tech = make_technician()
    set_price("uk", 1000, 900, tech)
    school = make_school(urn="115001", name="St Mary's Primary")
    head = make_contact(school, "head@stmarys.example", name="Hana Head")
    office = make_contact(school, "office@stmarys.example", nominated=False, role="office")
    domain = add_domain("115001", "stmarys.org.uk")
    domain.expires_on = EXPIRY
    db.session.commit()
    return tech, head, office, domain


def requests():
    return list(db.session.scalars(select(RegistrationRequest).order_by(RegistrationRequest.id)))


def test_opens_once_per_expiry_date_approved_in_advance(setup):
    tech, head, _office, domain = setup
    set_auto_renew(domain, True, head)
    assert run_auto_renew(EXPIRY - timedelta(days=31)).opened == []  # not yet
    run = run_auto_renew(EXPIRY - timedelta(days=30))
    assert run.opened == ["stmarys.org.uk"]
    [req] = requests()
    assert (req.kind, req.status, req.approved_by.name, req.price_pence) == (
        "renew",
        "approved",
        "Hana Head",
        900,
    )
    assert "Opened by auto-renew" in req.note
    assert run_auto_renew(EXPIRY - timedelta(days=29)).opened == []  # once only
    # Renewed: the new expiry date gets its own request when its time comes.
    req.status = "completed"
    domain.expires_on = date(2028, 3, 1)
    db.session.commit()
    assert run_auto_renew(date(2028, 2, 1)).opened == ["stmarys.org.uk"]
    assert len(requests()) == 2


def test_the_window_is_configurable(setup):
    _tech, head, _office, domain = setup
    set_auto_renew(domain, True, head)
    assert run_auto_renew(EXPIRY - timedelta(days=45), days=60).opened == ["stmarys.org.uk"]


def test_without_a_nominated_consent_the_school_approves_by_hand(setup):
    _tech, head, _office, domain = setup
    set_auto_renew(domain, True, head)
    update_contact(head, name=head.name, email=head.email, phone=None, role="slt", nominated=False)
    run_auto_renew(EXPIRY - timedelta(days=10))
    [req] = requests()
    assert (req.status, req.approved_by_id) == ("quoted", None)


def test_who_may_switch_it(setup):
    tech, head, office, domain = setup
    with pytest.raises(Forbidden, match="nominated contact of the school turns it on"):
        set_auto_renew(domain, True, tech)
    with pytest.raises(NotNominated, match="Hana Head"):
        set_auto_renew(domain, True, office)
    assert domain.auto_renew is False
    set_auto_renew(domain, True, head)
    set_auto_renew(domain, False, tech)  # a technician may stop it
    assert run_auto_renew(EXPIRY).opened == []
    assert db.session.scalar(select(func.count()).select_from(RegistrationRequest)) == 0


def test_an_open_request_is_not_doubled(setup, api):
    _tech, head, _office, domain = setup
    set_auto_renew(domain, True, head)
    api(head).post("/api/v1/domain-requests", json={"kind": "renew", "name": "stmarys.org.uk"})
    run = run_auto_renew(EXPIRY - timedelta(days=5))
    assert "already an open request" in run.skipped["stmarys.org.uk"]
    assert len(requests()) == 1


def test_the_scheduler_runs_it_daily(setup):
    _tech, head, _office, domain = setup
    load_task_modules()
    job = REGISTRY.periodic["registry.auto_renew"]
    assert job.daily_at is not None
    set_auto_renew(domain, True, head)
    job.func(datetime.combine(EXPIRY - timedelta(days=20), datetime.min.time(), tzinfo=UTC))
    assert [r.name for r in requests()] == ["stmarys.org.uk"]
