"""``evalsurvey backup`` / ``restore``: the whole database to one file and back.

SQLite through its online backup API (a consistent copy while the app keeps serving);
PostgreSQL through ``pg_dump --format=custom`` and ``pg_restore --clean`` (the client tools
of the server's major version, from Debian's ``postgresql-client``).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import click
from flask.cli import with_appcontext

from evalsurvey.extensions import db


def _libpq_url() -> str:
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(f"{name} is not installed (Debian: postgresql-client)")
    return found


def _sqlite_copy(source_uri: str, target_path: str) -> None:
    """Copy one SQLite database into another with the online backup API (page by page,
    consistent while the source is in use)."""
    source = sqlite3.connect(source_uri, uri=True)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def backup_to(path: str) -> None:
    """Write a consistent copy of the configured database to ``path``."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(f"file:{url.database}", path)
    elif url.get_backend_name() == "postgresql":
        subprocess.run(
            [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", path, _libpq_url()],
            check=True,
        )
    else:
        raise click.ClickException(f"no backup for {url.get_backend_name()}")


def restore_from(path: str) -> None:
    """Replace the configured database's contents with the backup at ``path``."""
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old tables
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(f"file:{path}?mode=ro", url.database)
    elif url.get_backend_name() == "postgresql":
        subprocess.run(
            [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--dbname", _libpq_url(), path],
            check=True,
        )  # fmt: skip
    else:
        raise click.ClickException(f"no restore for {url.get_backend_name()}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path: str) -> None:
    """Back the whole database up to PATH (SQLite file, or pg_dump's custom format)."""
    backup_to(path)
    click.echo(f"backed up {db.engine.url.render_as_string()} to {path}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="do not ask: every table is replaced")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace every table with the backup at PATH (stop the app first)."""
    if not yes:
        click.confirm("Every table of the configured database is replaced. Continue?", abort=True)
    restore_from(path)
    click.echo(f"restored {path}")
