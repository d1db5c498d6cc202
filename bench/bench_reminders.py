"""`reminders run` over 10,000 domains at 1,000 schools, SMTP (aiosmtpd) on loopback:
wall time and peak memory (process RSS), beside the floor of sending mail of the same
shape with bare smtplib (no database, no templates), timed on a sample of 300 messages
and scaled to the same count. The ratio to the floor is the cost of our claims,
queries and templates on top of SMTP itself.

Every domain is due (its expiry falls on one of the slots), so the run sends one email
per school listing its ten domains: 1,000 emails.

Run: .venv/bin/python bench/bench_reminders.py [--schools N] [--per-school N] [--db URL]
"""

from __future__ import annotations

import argparse
import resource
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, insert, select

from provisioner.app import create_app
from provisioner.db import db
from provisioner.mail.outbound import mail_session
from provisioner.registry import lifecycle
from provisioner.registry.lifecycle_models import ReminderSent
from provisioner.registry.models import Domain
from provisioner.schools.models import School, User

TODAY = date(2027, 1, 15)
OFFSETS = (90, 60, 30, 14, 7, 1, -1, -7, 30, 14)  # days to expiry: each one a slot day


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ]
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("aiosmtpd did not start")


def populate(schools: int, per_school: int) -> None:
    db.session.execute(
        insert(School),
        [
            {
                "urn": f"{100000 + i}",
                "name": f"School {i}",
                "local_authority": "Essex",
                "domain_count": per_school,
            }
            for i in range(schools)
        ],
    )
    ids = dict(db.session.execute(select(School.urn, School.id)).all())
    users = [
        {"email": f"tech{t}@provider.example", "name": f"Tech {t}", "role": "technician"}
        for t in range(3)
    ]
    for i in range(schools):
        sid = ids[f"{100000 + i}"]
        for who in ("head", "bursar"):
            users.append(
                {
                    "email": f"{who}@school{i}.example",
                    "name": who.title(),
                    "role": "contact",
                    "school_id": sid,
                    "nominated": True,
                    "contact_role": "slt",
                }
            )
    db.session.execute(insert(User), users)
    domains = []
    for i in range(schools):
        sid = ids[f"{100000 + i}"]
        for j in range(per_school):
            name = f"school{i}-{j}.essex.sch.uk"
            domains.append(
                {
                    "name": name,
                    "unicode_name": name,
                    "registrable_name": name,
                    "school_id": sid,
                    "expires_on": TODAY + timedelta(days=OFFSETS[j % len(OFFSETS)]),
                    "expiry_source": "rdap",
                }
            )
    db.session.execute(insert(Domain), domains)
    db.session.commit()


def smtp_floor(port: int, count: int, *, reuse: bool = True) -> float:
    """Mail of the same shape (text + HTML, 2 To + 3 Cc) through bare smtplib over one
    connection, as the reminder run's mail session does (reuse=False: a connection
    per message, as it did before); no database, no templates."""
    text = (
        "Domain renewal reminder.\n" + "  school0-0.essex.sch.uk  expires on 15 April 2027\n" * 10
    )
    html = "<html><body><table>" + "<tr><td>school0-0.essex.sch.uk</td></tr>" * 10 + "</table>"
    start = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
    for i in range(count):
        mail = EmailMessage()
        mail["From"] = "it@provider.example"
        mail["To"] = f"bursar@school{i}.example, head@school{i}.example"
        mail["Cc"] = "tech0@provider.example, tech1@provider.example, tech2@provider.example"
        mail["Subject"] = f"Domain renewal: 10 domains for School {i} expire soon"
        mail.set_content(text)
        mail.add_alternative(html, subtype="html")
        if not reuse:
            smtp.quit()
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
        smtp.send_message(mail)
    smtp.quit()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--per-school", type=int, default=10)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    proc, port = start_smtp()
    tmp = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    url = args.db or f"sqlite:///{tmp / 'bench.sqlite'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(tmp / "instance"),
            "SMTP_URL": f"smtp://127.0.0.1:{port}",
            "MAIL_FROM": "it@provider.example",
        }
    )
    try:
        with app.app_context():
            db.drop_all()
            db.create_all()
            populate(args.schools, args.per_school)
            n_domains = args.schools * args.per_school
            print(
                f"{n_domains} domains at {args.schools} schools, all due on {TODAY}; SQLite"
                if not args.db
                else url
            )

            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start = time.perf_counter()
            with mail_session() as send:
                run = lifecycle.run_reminders(TODAY, send)
            wall = time.perf_counter() - start
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            sent = db.session.scalar(
                select(func.count())
                .select_from(ReminderSent)
                .where(ReminderSent.sent_at.is_not(None))
            )
            assert sent == n_domains and len(run.sent) == args.schools, (
                sent,
                len(run.sent),
                run.failed,
            )

            start = time.perf_counter()
            with mail_session() as send:
                again = lifecycle.run_reminders(TODAY, send)
            second = time.perf_counter() - start
            assert again.reminders == 0

        sample = min(args.schools, 300)
        floor = smtp_floor(port, sample) * args.schools / sample
        per_connection = smtp_floor(port, sample, reuse=False) * args.schools / sample
        rows = [
            (f"reminders run: {run.reminders} reminders in {len(run.sent)} emails", wall, None),
            (f"floor: bare smtplib, {args.schools} messages (scaled)", floor, wall / floor),
            (
                "bare smtplib, a connection per message (scaled)",
                per_connection,
                wall / per_connection,
            ),
            ("second run (nothing due, all claimed)", second, second / wall),
        ]
        for label, seconds, ratio in rows:
            extra = f"   ratio x{ratio:.2f}" if ratio is not None else ""
            print(f"  {label:<48} {seconds:7.2f} s{extra}")
        print(
            f"  peak memory: process RSS {rss_after / 1024:.0f} MiB at the end of the run,"
            f" grown by {(rss_after - rss_before) / 1024:.0f} MiB during it"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
