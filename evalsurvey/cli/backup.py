"""``evalsurvey backup`` / ``restore``: the whole database to one file and back.

The file is an evalsurvey backup (``evalsurvey/backups.py``): a zip of every table's rows with a
manifest naming the format, the schema revision and each table's row count and checksum. It is
the same on SQLite and PostgreSQL and needs no client tools, so no password ever reaches a
command line. ``restore`` checks the whole file before it touches anything and refuses, with a
message and exit status 2, whatever is not such a backup of this schema.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from evalsurvey import backups
from evalsurvey.extensions import db


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _head() -> str:
    """The schema revision this version of the application runs on (the migrations' head)."""
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def _version() -> str:
    try:
        return version("evalsurvey")
    except PackageNotFoundError:
        return ""


def _database_error(exc: SQLAlchemyError) -> str:
    return backups.database_error(exc, db.engine.url.password)


def _build_sqlite_schema(path: str) -> None:
    """Create the SQLite file ``path`` with the application's own migrations, as
    ``evalsurvey db upgrade`` would (a bare app on that file, sharing the models)."""
    from flask_migrate import Migrate, upgrade

    live = current_app.extensions["migrate"]
    scratch = Flask(current_app.import_name, instance_path=current_app.instance_path)
    scratch.config.update(
        TESTING=current_app.testing,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
        SQLALCHEMY_ENGINE_OPTIONS=current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {},
    )
    db.init_app(scratch)
    Migrate(scratch, db, directory=live.directory, **live.configure_args)
    with scratch.app_context():
        try:
            upgrade()
        finally:
            db.engine.dispose()


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path: str) -> None:
    """Back the whole database up to PATH (an evalsurvey backup: a zip with a manifest)."""
    try:
        manifest = backups.write_backup(db.engine, db.metadata, _head(), path, _version())
    except backups.BackupError as exc:
        _fail(f"no backup written: {exc}")
    except SQLAlchemyError as exc:
        _fail(f"no backup written: {_database_error(exc)}")
    except OSError as exc:
        _fail(f"no backup written: {exc.strerror or exc} ({path})")
    rows = sum(t["rows"] for t in manifest["tables"])
    click.echo(
        f"backed up {db.engine.url.render_as_string(hide_password=True)} to {path}: "
        f"{rows} rows in {len(manifest['tables'])} tables, schema {manifest['schema_revision']}"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="do not ask: every table is replaced")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace every table with the evalsurvey backup at PATH.

    The whole file is checked first; the rows are loaded into a new SQLite file, or into
    PostgreSQL inside one transaction, checked against the manifest, and only then copied
    into the live SQLite file (one atomic write) or committed. Running app processes may stay
    up: they read the restored data next. Refused while a connection keeps a transaction open
    for 15 seconds. A missing or damaged SQLite file is replaced: restart the app then.
    """
    head = _head()
    try:
        backup = backups.check(path, db.metadata, head)
    except backups.BackupError as exc:
        _fail(str(exc))
    manifest = backup.manifest
    click.echo(
        f"{path}: evalsurvey backup made {manifest['created_at']} from {manifest['source']}, "
        f"schema {manifest['schema_revision']}, {backup.rows} rows in {len(backup.tables)} tables"
    )
    if not yes:
        click.confirm("Every table of the configured database is replaced. Continue?", abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old tables or file
    url = db.engine.url
    in_place = True
    try:
        if url.get_backend_name() == "sqlite":
            if not url.database or url.database == ":memory:":
                _fail("not restored: the configured SQLite database is not a file")
            in_place = backups.restore_sqlite(url.database, backup, _build_sqlite_schema)
        elif url.get_backend_name() == "postgresql":
            with db.engine.connect() as conn:
                empty = not inspect(conn).get_table_names()
            if empty:  # a new database: the migrations build it first
                from flask_migrate import upgrade

                upgrade()
            backups.restore_postgresql(db.engine, backup, head)
        else:
            _fail(f"not restored: no restore for {url.get_backend_name()}")
    except backups.BackupError as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:
        _fail(f"not restored: {_database_error(exc)}; nothing was changed")
    except OSError as exc:
        _fail(f"not restored: {exc.strerror or exc}; nothing was changed")
    finally:
        db.engine.dispose()
    click.echo(f"restored {path}: {backup.rows} rows in {len(backup.tables)} tables")
    if in_place:
        click.echo("running app processes see the restored data: no restart needed")
    else:
        click.echo(
            "the missing or damaged database file was replaced: restart any running app "
            "process (it would still have the old file open)"
        )
