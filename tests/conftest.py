"""Fixtures for the whole suite: a fresh app and database per test.

PROVISIONER_TEST_DB=postgresql runs every test on the local PostgreSQL
(one database per xdist worker, emptied between tests); the default is a
fresh SQLite file per test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import urllib.request

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from provisioner.app import create_app
from provisioner.db import db

PG_ADMIN_URL = os.environ.get(
    "PROVISIONER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_PASSWORD = "correct-horse-battery"


def backend() -> str:
    return os.environ.get("PROVISIONER_TEST_DB", "sqlite")


@pytest.fixture(scope="session")
def pg_database_url(worker_id):
    """A PostgreSQL database of this worker's own, created empty for the run."""
    # The pid too: several test runs on one machine (helpers, CI) must not share it.
    name = f"provisioner_test_{worker_id}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_schema(request):
    """Creates the schema once per session on PostgreSQL."""
    if backend() != "postgresql":
        return None
    url = request.getfixturevalue("pg_database_url")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """The schema built once per worker; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(path.parent / "instance"),
            "TESTING": True,
        }
    )
    with app.app_context():
        db.create_all()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.engine.dispose()
    return path


@pytest.fixture
def database_url(request, tmp_path, _pg_schema):
    if _pg_schema:
        return _pg_schema
    path = tmp_path / "test.sqlite"
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(tmp_path, database_url):
    """Override or extend in a test module to change settings."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "MAIL_FROM": "it@provider.example",
        # argon2's cheapest parameters: the default costs ~0.5 s a hash on these machines.
        "PASSWORD_HASH_CHEAP": True,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        if backend() == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Runs the `provisioner` CLI against this test's app: runner.invoke([...])."""
    from provisioner.cli import main

    class Runner:
        def invoke(self, args, input=None):
            return CliRunner().invoke(main, args, obj=app, input=input, catch_exceptions=False)

    return Runner()


@pytest.fixture
def make_school(app):
    from provisioner.schools.services import add_school

    counter = iter(range(100000, 999999))

    def make(urn=None, name=None, la="Essex"):
        urn = urn or str(next(counter))
        return add_school(urn, name or f"School {urn}", la)

    return make


@pytest.fixture
def make_contact(app):
    from provisioner.schools.services import add_contact

    def make(school, email, *, nominated=True, role="slt", password=TEST_PASSWORD, name=None):
        return add_contact(
            school.urn,
            name or email.split("@")[0].title(),
            email,
            role=role,
            nominated=nominated,
            password=password,
        )

    return make


@pytest.fixture
def make_technician(app):
    from provisioner.schools.services import add_technician

    def make(email="tech@provider.example", admin=False, password=TEST_PASSWORD):
        return add_technician(email, email.split("@")[0].title(), admin=admin, password=password)

    return make


@pytest.fixture
def api(client):
    """api(user).get(path) / .post(path, json=...) with a fresh bearer token for that user."""
    from provisioner.schools.services import create_token

    class Api:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"}

        def get(self, path, **kw):
            return client.get(path, headers=self.headers, **kw)

        def post(self, path, **kw):
            return client.post(path, headers=self.headers, **kw)

        def put(self, path, **kw):
            return client.put(path, headers=self.headers, **kw)

        def delete(self, path, **kw):
            return client.delete(path, headers=self.headers, **kw)

    return lambda user: Api(create_token(user.email))


@pytest.fixture
def login(client):
    """login(user) logs the test client in through the real login form."""

    def do(user, password=TEST_PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do


def pytest_collection_modifyitems(config, items):
    """Each pass runs the tests that have something to learn from its database.

    On the PostgreSQL pass: only the tests that use a database (pure logic and
    server-only tests run once, on the SQLite pass). On the SQLite pass: all but
    the `postgres_only` ones (row locks, concurrency), which are deselected, not
    skipped, since they do run, on the other pass.
    """
    if backend() == "postgresql":
        wanted = lambda item: "app" in getattr(item, "fixturenames", ())  # noqa: E731
    else:
        wanted = lambda item: item.get_closest_marker("postgres_only") is None  # noqa: E731
    keep, drop = [], []
    for item in items:
        (keep if wanted(item) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# Debian's Chromium (installed by `make test`), driven by Playwright; never a downloaded build.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


@pytest.fixture
def launch_chromium():
    """launch_chromium(*extra_args) -> a context manager yielding a Playwright browser."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Chromium is missing: run `make system-packages`"

    @contextlib.contextmanager
    def launch(*extra_args: str):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
            )
            try:
                yield browser
            finally:
                browser.close()

    return launch


@pytest.fixture
def browser(launch_chromium):
    with launch_chromium() as chromium:
        yield chromium


# moto's server on 127.0.0.1 stands in for AWS (Route 53 and Route 53 Domains). moto is
# not AWS: conflicts, PENDING changes and throttling are tested with botocore's Stubber.
@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server, monkeypatch):
    """A clean moto (state reset) and dummy credentials in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url = f"{moto_server}/moto-api/reset"  # always http://127.0.0.1:PORT
    request = urllib.request.Request(url, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 200
    return moto_server
