"""The application factory: config -> extensions -> adapters -> blueprints -> CLI."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from provisioner.config import REPO_ROOT, load_config
from provisioner.db import db, migrate

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def create_app(config: dict | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get(
        "PROVISIONER_INSTANCE_PATH", str(REPO_ROOT / "instance")
    )
    app = Flask(
        "provisioner",
        instance_path=instance_path,
        template_folder=str(REPO_ROOT / "web" / "templates"),
        static_folder=str(REPO_ROOT / "web" / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))

    import provisioner.models  # noqa: F401 - registers every table

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)

    from provisioner.web import register_web

    register_web(app)
    return app


def _tune_sqlite(app: Flask) -> None:
    """WAL and a busy timeout so the web process and a worker share the file."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
