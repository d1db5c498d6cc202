"""Demo data for `make run`: three schools with contacts and domains."""

from __future__ import annotations

from sqlalchemy import select

from provisioner.db import db
from provisioner.registry.services import add_domain
from provisioner.schools.models import School
from provisioner.schools.services import add_contact, add_school, add_technician

# Demo data only, printed by `make run`; real accounts get their own passwords.
DEMO_PASSWORD = "demo-password-1"  # noqa: S105

SCHOOLS = [
    (
        "100001",
        "St Mary's C of E Primary School",
        "Essex",
        ["stmarys.essex.sch.uk", "stmarys-pta.org.uk"],
    ),
    ("100002", "Oakfield Academy", "Kent", ["oakfield.kent.sch.uk"]),
    ("100003", "Riverside Infant School", "Norfolk", ["riverside.norfolk.sch.uk"]),
]


def load_demo(if_empty: bool = True) -> list[tuple[str, str, str]] | None:
    if if_empty and db.session.scalar(select(School.id).limit(1)) is not None:
        return None
    logins = []
    admin = add_technician(
        "admin@provider.example", "Alex Admin", admin=True, password=DEMO_PASSWORD
    )
    tech = add_technician("tech@provider.example", "Terry Technician", password=DEMO_PASSWORD)
    logins += [(admin.email, DEMO_PASSWORD, "admin"), (tech.email, DEMO_PASSWORD, "technician")]
    for urn, name, la, names in SCHOOLS:
        add_school(urn, name, la)
        slug = names[0].split(".")[0]
        head = add_contact(
            urn,
            "Head Teacher",
            f"head@{slug}.example",
            role="slt",
            nominated=True,
            password=DEMO_PASSWORD,
        )
        bm = add_contact(
            urn,
            "Business Manager",
            f"bm@{slug}.example",
            role="business_manager",
            nominated=True,
            password=DEMO_PASSWORD,
        )
        office = add_contact(
            urn, "School Office", f"office@{slug}.example", role="office", password=DEMO_PASSWORD
        )
        for domain in names:
            add_domain(urn, domain)
        logins += [
            (head.email, DEMO_PASSWORD, f"{name}: nominated, SLT"),
            (bm.email, DEMO_PASSWORD, f"{name}: nominated"),
            (office.email, DEMO_PASSWORD, f"{name}: not nominated"),
        ]
    return logins
