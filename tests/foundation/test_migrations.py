"""The Alembic migrations build exactly the schema the models describe.

This fails whenever a model changes without a migration: run
`flask --app provisioner.app db migrate -m "..."` (or ask the lead) and commit it.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from provisioner.app import create_app
from provisioner.db import db


def test_migrations_build_the_models_schema(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.sqlite'}",
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= {
                "schools",
                "users",
                "api_tokens",
                "domains",
            }
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == [], "models and migrations differ:\n" + "\n".join(
        str(d) for d in differences
    )


def test_a_database_behind_this_version_is_told_to_upgrade(tmp_path):
    """Tables missing (never upgraded): the CLI names the fix instead of a traceback."""
    from click.testing import CliRunner

    from provisioner.cli import main

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'behind.sqlite'}",
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
        }
    )
    result = CliRunner().invoke(main, ["hosting", "server", "list"], obj=app)
    assert result.exit_code == 1, result.output
    assert "no such table" in result.output
    assert "run `provisioner db upgrade`" in result.output
