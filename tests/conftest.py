"""Fixtures: the app factory on a migrated temp database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from flask_migrate import upgrade
from hypothesis import settings
from sqlalchemy import text

from evalsurvey import audit, create_app
from evalsurvey.extensions import db

# CI must be reproducible (same examples every run); locally, hypothesis explores new ones.
# Neither keeps an example database: a failure once seen must not replay on a newcomer's
# machine as if it were new, nor can a test pass only because of what a past run stored.
settings.register_profile("ci", derandomize=True, print_blob=True, database=None)
settings.register_profile("dev", print_blob=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _compile_catalogues() -> None:
    """Build the .mo files when pytest runs without `make` (they are never committed)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "evalsurvey" / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)


_compile_catalogues()

PG_ADMIN_URL = os.environ.get(
    "EVALSURVEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_MODE = os.environ.get("EVALSURVEY_TEST_POSTGRES", "auto")  # auto | required | off


def base_config(uri: str, instance: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DEVICE_SALT": "test-salt",
        "SQLALCHEMY_DATABASE_URI": uri,
        "PUBLIC_BASE_URL": "http://testserver",
        "EVIDENCE_FOLDER": os.path.join(instance, "evidence"),
        # tests that post many times; tests/test_ratelimit.py switches the limits on
        "RATELIMIT_ENABLED": False,
    }


def _pg_connect(dbname: str = "postgres"):
    import psycopg

    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def postgres_available() -> str | None:
    """None when a server answers, else the reason it does not."""
    if PG_MODE == "off":
        return "EVALSURVEY_TEST_POSTGRES=off"
    try:
        _pg_connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"no PostgreSQL server at {PG_ADMIN_URL}: {exc}"
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """An empty SQLite database brought to head by the real migrations, once."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    app = create_app(base_config(f"sqlite:///{path}", str(folder)))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this run, migrated to head; dropped afterwards."""
    reason = postgres_available()
    if reason is not None:
        if PG_MODE == "required":
            pytest.fail(f"PostgreSQL is required (EVALSURVEY_TEST_POSTGRES=required): {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    name = f"evalsurvey_test_{uuid.uuid4().hex[:10]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    app = create_app(base_config(url, "/tmp"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path):
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "evalsurvey.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_database")


def app_in_context(database_url: str, config: dict):
    """An app on the test database, emptied, inside its context (a generator for fixtures)."""
    app = create_app(config)
    with app.app_context():
        if database_url.startswith("postgresql"):
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()
    audit.set_cli_actor("system")  # a command run by a test names no later test's changes


@pytest.fixture
def app(database_url, tmp_path):
    yield from app_in_context(database_url, base_config(database_url, str(tmp_path)))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
