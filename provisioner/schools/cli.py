"""CLI: database, serving, schools, contacts, staff, tokens, domains, demo data."""

from __future__ import annotations

import click
from flask import current_app

from provisioner.cli import json_option
from provisioner.registry import services as domain_services
from provisioner.schools import services


def register(main: click.Group) -> None:
    main.add_command(db_group)
    main.add_command(serve)
    main.add_command(school_group)
    main.add_command(contact_group)
    main.add_command(technician_group)
    main.add_command(token_group)
    main.add_command(domain_group)
    main.add_command(demo_group)


@click.group("db")
def db_group():
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade():
    """Create or migrate the database schema to the latest version."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("database is up to date")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the embedded worker and scheduler.")
def serve(host: str, port: int, no_worker: bool):
    """Serve the web app (with the embedded worker and scheduler unless --no-worker)."""
    from waitress import serve as waitress_serve

    app = current_app._get_current_object()
    if not no_worker:
        from provisioner.jobs.embedded import start_background

        start_background(app)
    click.echo(f"Provisioner is serving on http://{host}:{port}/")
    waitress_serve(app, host=host, port=port, threads=8, ident="provisioner")


@click.group("school")
def school_group():
    """Schools."""


@school_group.command("add")
@click.option("--urn", required=True, help="The DfE's six-digit URN.")
@click.option("--name", required=True)
@click.option("--la", "local_authority", help="Local authority.")
@json_option
def school_add(urn, name, local_authority):
    """Add a school."""
    school = services.add_school(urn, name, local_authority)
    data = {"urn": school.urn, "name": school.name, "local_authority": school.local_authority}
    return data, f"added school {school.urn} {school.name}"


@school_group.command("list")
@json_option
def school_list():
    """List schools."""
    rows = services.list_schools()
    data = [{"urn": s.urn, "name": s.name, "local_authority": s.local_authority} for s in rows]
    return data, "\n".join(f"{s.urn}  {s.name}" for s in rows)


@click.group("contact")
def contact_group():
    """School contacts."""


@contact_group.command("add")
@click.option("--school", "school_urn", required=True, help="URN of the school.")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--phone")
@click.option("--nominated", is_flag=True, help="Nominated to request changes for the school.")
@click.option("--role", help="slt, business_manager, office, it_lead or other.")
@click.option("--password", help="Lets the contact log in to the portal.")
@json_option
def contact_add(school_urn, name, email, phone, nominated, role, password):
    """Add a contact to a school."""
    user = services.add_contact(
        school_urn, name, email, phone=phone, role=role, nominated=nominated, password=password
    )
    warnings = services.nomination_warnings(user.school)
    data = {
        "email": user.email,
        "name": user.name,
        "school_urn": user.school.urn,
        "role": user.contact_role,
        "nominated": user.nominated,
        "warnings": warnings,
    }
    text = f"added {user.name} <{user.email}> to {user.school.name}" + (
        " (nominated)" if user.nominated else ""
    )
    return data, "\n".join([text, *(f"warning: {w}" for w in warnings)])


@click.group("technician")
def technician_group():
    """Provider staff."""


@technician_group.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--admin", is_flag=True)
@click.option("--password")
@json_option
def technician_add(email, name, admin, password):
    """Add a technician (or an admin)."""
    user = services.add_technician(email, name, admin=admin, password=password)
    return {"email": user.email, "name": user.name, "role": user.role}, (
        f"added {user.role} {user.name} <{user.email}>"
    )


@click.group("token")
def token_group():
    """API tokens."""


@token_group.command("create")
@click.option("--email", required=True)
@json_option
def token_create(email):
    """Create an API token; it is printed once and only its hash is kept."""
    token = services.create_token(email)
    return {"email": email.strip().lower(), "token": token}, token


@click.group("domain")
def domain_group():
    """Managed domains."""


@domain_group.command("add")
@click.argument("name")
@click.option("--school", "school_urn", required=True)
@click.option("--provider", "provider_name", help="DNS provider that serves the zone.")
@json_option
def domain_add(name, school_urn, provider_name):
    """Add a domain to a school (at most ten per school)."""
    from provisioner.zones import domain_setup

    domain = domain_setup.add_domain_with_zone(school_urn, name, provider_name)
    return domain.to_dict(), f"added {domain.name} to {domain.school.name}"


@domain_group.command("list")
@click.option("--school", "school_urn")
@json_option
def domain_list(school_urn):
    """List managed domains."""
    rows = domain_services.list_domains(school_urn)
    return [d.to_dict() for d in rows], "\n".join(f"{d.name}  {d.school.urn}" for d in rows)


@click.group("demo")
def demo_group():
    """Demo data."""


@demo_group.command("load")
@click.option("--if-empty", is_flag=True, help="Only when the database has no schools.")
def demo_load(if_empty):
    """Load three demo schools with contacts and domains, and print the logins."""
    from provisioner.schools.demo import load_demo

    logins = load_demo(if_empty=if_empty)
    if logins is None:
        click.echo("database already has data; demo not loaded")
        return
    click.echo("Demo logins:")
    for email, password, what in logins:
        click.echo(f"  {email:38} {password:20} {what}")
