"""The `provisioner` command: parse -> call one service -> print.

Each command runs inside an application context built from PROVISIONER_*
settings. A ProvisionerError becomes its message on stderr and exit code 1;
click's usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import sys

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from provisioner.errors import ProvisionerError


class AppContextGroup(click.Group):
    """Creates the app once and runs every command inside its context."""

    def invoke(self, ctx: click.Context):
        from provisioner.app import create_app

        if ctx.obj is None:
            ctx.obj = create_app()
        with ctx.obj.app_context():
            try:
                return super().invoke(ctx)
            except ProvisionerError as exc:
                click.echo(f"error: {exc.message}", err=True)
                for field, problem in exc.fields.items():
                    if isinstance(problem, list):
                        for item in problem:
                            click.echo(f"  {field}: {item}", err=True)
                    elif problem and problem not in exc.message:
                        click.echo(f"  {field}: {problem}", err=True)
                sys.exit(1)
            except (OperationalError, ProgrammingError) as exc:
                if not _schema_behind(exc):
                    raise
                click.echo(
                    "error: the database has not been upgraded to this version "
                    f"({str(exc.orig).splitlines()[0]}): run `provisioner db upgrade`",
                    err=True,
                )
                sys.exit(1)


def _schema_behind(exc: OperationalError | ProgrammingError) -> bool:
    """A table or column this version needs is missing (SQLite, PostgreSQL)."""
    text = str(exc.orig)
    return "no such table" in text or "no such column" in text or "does not exist" in text


def json_option(func):
    """Adds --json; the command returns (data, human_text) and this prints one of them."""

    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
    @functools.wraps(func)
    def wrapper(*args, as_json: bool, **kwargs):
        data, text = func(*args, **kwargs)
        if as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        elif text:
            click.echo(text)

    return wrapper


@click.group(cls=AppContextGroup)
def main():
    """Provisioner: domains, hosted DNS and web hosting for schools."""


def _register_commands() -> None:
    from provisioner.schools.cli import register as register_schools

    register_schools(main)
    # -- feature command groups below this line (one import and one call each) --
    from provisioner.registry.cli import register as register_registry

    register_registry(main)
    from provisioner.cases.cli import register as register_cases

    register_cases(main)
    from provisioner.zones.cli import register as register_zones

    register_zones(main)
    from provisioner.jobs.cli import register as register_jobs

    register_jobs(main)
    from provisioner.dns_requests.cli import register as register_dns_requests

    register_dns_requests(main)
    from provisioner.hosting.cli import register as register_hosting

    register_hosting(main)


_register_commands()
