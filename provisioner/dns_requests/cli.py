"""CLI: `provisioner mail ingest` (one message on stdin) and `mail poll` (a Maildir)."""

from __future__ import annotations

import json
import sys

import click

from provisioner.dns_requests import mail_intake


def register(main: click.Group) -> None:
    main.add_command(mail_group)


@click.group("mail")
def mail_group():
    """Incoming mail."""


@mail_group.command("ingest")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def ingest(as_json: bool):
    """Read one RFC 822 message on stdin; print the case reference it created or
    joined, or why it refused the message.

    A refused or ignored message is a handled message (exit 0): the sender has had
    a reply where one is due. An oversized or unreadable message is an error (exit 1),
    so the MTA bounces it.
    """
    raw = sys.stdin.buffer.read()
    result = mail_intake.ingest(raw)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(result.message)


@mail_group.command("poll")
@click.argument("maildir", type=click.Path(file_okay=False))
def poll(maildir: str):
    """Ingest every message in MAILDIR/new (moved to cur/ once handled)."""
    for result in mail_intake.poll_maildir(maildir):
        click.echo(result.message)
