"""Case references stay unique and gap-free when cases are opened at the same time."""

import threading

from sqlalchemy import select

from provisioner.cases.models import Case
from provisioner.cases.services import open_case
from provisioner.db import db
from provisioner.schools.models import School


def test_concurrent_cases_get_distinct_sequential_references(app, school):
    school_id = school.id
    db.session.remove()
    errors, start = [], threading.Barrier(6)

    def worker(i):
        with app.app_context():
            try:
                start.wait()
                open_case(school=db.session.get(School, school_id), subject=f"Case {i}")
            except Exception as exc:  # collected and asserted below, not hidden
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    refs = sorted(db.session.scalars(select(Case.reference)))
    year = refs[0][5:9]
    assert refs == [f"CASE-{year}-{n:06d}" for n in range(1, 7)]
