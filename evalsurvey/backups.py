"""The evalsurvey backup file: every table's rows in one zip, with a manifest that says what it is.

A backup is a zip archive holding

* ``manifest.json``: ``format`` (``evalsurvey-backup``), ``format_version``, the Alembic
  ``schema_revision`` the data belongs to, when and from which kind of database it was made,
  and for every table its columns, their kinds (``int``, ``str``, ``datetime_tz``, ``json``…:
  enough to read the rows without this release's models), its row count, the size and
  SHA-256 of its data member;
* ``data/<table>.jsonl``: one JSON array per row, the columns in the manifest's order, rows in
  primary-key order. Values are plain JSON; times, dates and decimals as ISO/decimal strings,
  bytes as base64, and a JSON column's value wrapped in a one-element array (so a stored JSON
  ``null`` stays distinct from SQL ``NULL``).

The format names no database: a backup of SQLite restores into PostgreSQL and back. Nothing in
the file is ever executed: restoring only inserts values, as bound parameters, into the tables
the application's own migrations built, and only for the tables and columns this version of
the application knows.

``check`` reads the whole file and refuses anything that is not exactly such a backup of the
current schema, before anything is touched. ``restore`` then loads the rows into a new SQLite
file next to the live one (integrity check, foreign keys, row counts and checksums verified),
then copies it into the live file with SQLite's online backup API: one locked, atomic write
through the live file's own write-ahead log, so a running app's open connections read the
restored data and their later writes land in it (a missing or damaged live file, which no one
can be using, is replaced instead). On PostgreSQL the rows go into the live tables inside one
transaction that is committed only after the same verification.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import struct
import tempfile
import time as clock
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Time,
    bindparam,
    create_engine,
    func,
    inspect,
    null,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

FORMAT = "evalsurvey-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_LIMIT = 4 * 1024 * 1024  # bytes; a manifest is a few kilobytes
LINE_LIMIT = 64 * 1024 * 1024  # bytes of one row
BATCH = 1000  # rows per INSERT
BUSY_SECONDS = 15  # how long restore waits for a running app to let go of the database
IN_USE = "the database is in use (a transaction stayed open): try again, or stop the application"


class BackupError(Exception):
    """A backup that cannot be written, or a file that is refused: the message says why."""


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Codec:
    kind: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _expect(ok: bool, kind: str) -> None:
    if not ok:
        raise ValueError(f"not a {kind}")


def _enc_bool(v):
    _expect(isinstance(v, bool), "boolean")
    return v


def _enc_int(v):
    _expect(_is_int(v), "whole number")
    return v


def _enc_float(v):
    _expect(_is_int(v) or isinstance(v, float), "number")
    return float(v)


def _dec_float(v):
    _expect(_is_int(v) or isinstance(v, float), "number")
    return float(v)


def _enc_decimal(v):
    _expect(isinstance(v, Decimal | int | float) and not isinstance(v, bool), "decimal")
    return str(v)


def _dec_decimal(v):
    _expect(isinstance(v, str), "decimal")
    try:
        return Decimal(v)
    except InvalidOperation:
        raise ValueError("not a decimal") from None


def _enc_str(v):
    _expect(isinstance(v, str), "text")
    return v


def _enc_bytes(v):
    _expect(isinstance(v, bytes | bytearray | memoryview), "bytes")
    return base64.b64encode(bytes(v)).decode("ascii")


def _dec_bytes(v):
    _expect(isinstance(v, str), "base64 text")
    return base64.b64decode(v.encode("ascii"), validate=True)


def _iso(kind: type):
    def encode(v):
        _expect(type(v) is kind, kind.__name__)
        return v.isoformat()

    def decode(v):
        _expect(isinstance(v, str), kind.__name__)
        return kind.fromisoformat(v)

    return encode, decode


def _datetime(timezone: bool):
    def encode(v):
        _expect(isinstance(v, datetime), "time stamp")
        _expect((v.tzinfo is not None) == timezone, "time stamp of the column's kind")
        return v.isoformat()

    def decode(v):
        _expect(isinstance(v, str), "time stamp")
        value = datetime.fromisoformat(v)
        _expect((value.tzinfo is not None) == timezone, "time stamp of the column's kind")
        return value.astimezone(UTC) if timezone else value

    return encode, decode


def _enc_json(v):
    return [v]  # SQL NULL is encoded by the caller as a bare null


def _dec_json(v):
    _expect(isinstance(v, list) and len(v) == 1, "wrapped JSON value")
    return JSON.NULL if v[0] is None else v[0]


def codec(table: str, column) -> Codec:
    """How one column's values are written to and read from the backup."""
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Boolean):
        return Codec("bool", _enc_bool, _enc_bool)
    if isinstance(kind, Integer):
        return Codec("int", _enc_int, _enc_int)
    if isinstance(kind, Float):
        return Codec("float", _enc_float, _dec_float)
    if isinstance(kind, Numeric):
        return Codec("decimal", _enc_decimal, _dec_decimal)
    if isinstance(kind, String) and not isinstance(kind, Enum):  # an Enum's values are objects
        return Codec("str", _enc_str, _enc_str)
    if isinstance(kind, DateTime):
        zone = bool(kind.timezone)
        return Codec("datetime_tz" if zone else "datetime", *_datetime(zone))
    if isinstance(kind, Date):
        return Codec("date", *_iso(date))
    if isinstance(kind, Time):
        return Codec("time", *_iso(time))
    if isinstance(kind, JSON):
        return Codec("json", _enc_json, _dec_json)
    if isinstance(kind, LargeBinary):
        return Codec("bytes", _enc_bytes, _dec_bytes)
    raise BackupError(
        f"column {table}.{column.name} has a type the backup format does not know: {column.type!r}"
    )


# --- reading a database ----------------------------------------------------------------------


def _ordered_select(table: Table):
    json_columns = [c for c in table.columns if codec(table.name, c).kind == "json"]
    nulls = [c.is_(None).label(f"_null_{i}") for i, c in enumerate(json_columns)]
    order = list(table.primary_key.columns) or list(table.columns)
    return select(*table.columns, *nulls).order_by(*order), json_columns


def dump_rows(conn: Connection, table: Table) -> Iterator[bytes]:
    """The table's rows as backup lines (UTF-8 JSON arrays ending in a newline)."""
    query, json_columns = _ordered_select(table)
    codecs = [codec(table.name, c) for c in table.columns]
    n = len(codecs)
    json_index = {c.name: n + i for i, c in enumerate(json_columns)}
    names = [c.name for c in table.columns]
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
    for row in result:
        values = []
        for i, (name, c) in enumerate(zip(names, codecs, strict=True)):
            value = row[i]
            if c.kind == "json":
                values.append(None if row[json_index[name]] else c.encode(value))
                continue
            if value is None:
                values.append(None)
                continue
            try:
                values.append(c.encode(value))
            except ValueError as exc:
                raise BackupError(  # the value itself may be a member's answer: its type only
                    f"{table.name}.{name} holds a value that is {exc} ({type(value).__name__})"
                ) from None
        line = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
        yield line.encode("utf-8") + b"\n"


def schema_tables(metadata) -> list[Table]:
    """The tables a backup holds, parents before children."""
    return list(metadata.sorted_tables)


def database_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is at (None for a database without the table)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def _sqlite_snapshot(live_path: str, snapshot: str) -> None:
    """A consistent copy of a live SQLite database (its online backup API, page by page)."""
    if not os.path.exists(live_path):
        raise BackupError(f"there is no database file at {live_path}")
    source = sqlite3.connect(live_path, timeout=15)
    try:
        target = sqlite3.connect(snapshot)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _write_zip(conn: Connection, tables: list[Table], revision: str, path: str, version: str):
    live = database_revision(conn)
    if live != revision:
        raise BackupError(
            f"the database is at schema revision {live or 'none'}, this version of evalsurvey "
            f"at {revision}: run `evalsurvey db upgrade` first"
        )
    entries = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for table in tables:
            member = f"data/{table.name}.jsonl"
            digest, rows, size = hashlib.sha256(), 0, 0
            with zf.open(member, "w", force_zip64=True) as out:
                for line in dump_rows(conn, table):
                    out.write(line)
                    digest.update(line)
                    rows += 1
                    size += len(line)
            entries.append(
                {
                    "name": table.name,
                    "columns": [c.name for c in table.columns],
                    "kinds": [codec(table.name, c).kind for c in table.columns],
                    "rows": rows,
                    "bytes": size,
                    "sha256": digest.hexdigest(),
                    "file": member,
                }
            )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema_revision": revision,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": conn.dialect.name,
            "evalsurvey_version": version,
            "tables": entries,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def write_backup(engine: Engine, metadata, revision: str, path: str, version: str = "") -> dict:
    """Write every table of ``engine``'s database to ``path``, from one consistent snapshot;
    the file appears only when complete. Returns the manifest."""
    tables = schema_tables(metadata)
    folder = os.path.dirname(os.path.abspath(path))
    fd, partial = tempfile.mkstemp(prefix=".evalsurvey-backup-", suffix=".partial", dir=folder)
    os.close(fd)
    snapshot = partial + ".sqlite3"
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_snapshot(engine.url.database or "", snapshot)
            source = create_engine(f"sqlite:///{snapshot}")
        else:
            source = engine
        try:
            with source.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn = conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                with conn.begin():
                    manifest = _write_zip(conn, tables, revision, partial, version)
        finally:
            if source is not engine:
                source.dispose()
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, path)
        _fsync_folder(folder)
    finally:
        for leftover in (partial, snapshot, snapshot + "-wal", snapshot + "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)
    return manifest


# --- checking a file -----------------------------------------------------------------------------


@dataclass
class Backup:
    """A file that passed every check: its manifest and, per table, its codecs."""

    path: str
    manifest: dict
    tables: list[Table]

    @property
    def rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"])

    def entry(self, table: Table) -> dict:
        return next(t for t in self.manifest["tables"] if t["name"] == table.name)


def _refuse(why: str) -> BackupError:
    return BackupError(f"not restored: {why}; nothing was changed")


def _is_time(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _manifest(zf: zipfile.ZipFile, tables: list[Table], revision: str) -> dict:
    names = zf.namelist()
    if MANIFEST not in names:
        raise _refuse("the file is a zip archive but not an evalsurvey backup (no manifest)")
    if len(set(names)) != len(names):
        raise _refuse("the archive names a member twice")
    info = zf.getinfo(MANIFEST)
    if info.file_size > MANIFEST_LIMIT:
        raise _refuse("the manifest is too large")
    with zf.open(info) as fh:
        raw = fh.read(MANIFEST_LIMIT + 1)
    if len(raw) > MANIFEST_LIMIT:
        raise _refuse("the manifest is too large")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        raise _refuse("the manifest is not readable JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse("the file is not an evalsurvey backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse(
            f"backup format version {manifest.get('format_version')!r} is not known to this "
            f"version of evalsurvey (it reads version {FORMAT_VERSION})"
        )
    if manifest.get("schema_revision") != revision:
        raise _refuse(
            f"the backup is of schema revision {str(manifest.get('schema_revision'))[:40]!r}, "
            f"this version of evalsurvey restores revision {revision!r} only (restore with the "
            "version that made the backup, then run `evalsurvey db upgrade`)"
        )
    if manifest.get("source") not in ("sqlite", "postgresql") or not _is_time(
        manifest.get("created_at")
    ):
        raise _refuse("the manifest does not say when and from which database it was made")
    entries = manifest.get("tables")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
    ):
        raise _refuse("the manifest has no table list")
    by_name = {e.get("name"): e for e in entries}
    if len(by_name) != len(entries) or set(by_name) != {t.name for t in tables}:
        raise _refuse("the backup's tables are not the tables of this schema")
    for table in tables:
        entry = by_name[table.name]
        if entry.get("file") != f"data/{table.name}.jsonl":
            raise _refuse(f"the manifest names another data file for {table.name}")
        columns = entry.get("columns")
        if (
            not isinstance(columns, list)
            or not all(isinstance(c, str) for c in columns)
            or sorted(columns) != sorted(c.name for c in table.columns)
        ):
            raise _refuse(f"the columns of {table.name} are not those of this schema")
        by_column = {c.name: c for c in table.columns}
        if entry.get("kinds") != [codec(table.name, by_column[c]).kind for c in columns]:
            raise _refuse(f"the column types of {table.name} are not those of this schema")
        for key in ("rows", "bytes"):
            if not _is_int(entry.get(key)) or entry[key] < 0:
                raise _refuse(f"the manifest has no {key} count for {table.name}")
        if not isinstance(entry.get("sha256"), str):
            raise _refuse(f"the manifest has no checksum for {table.name}")
    expected = {MANIFEST} | {e["file"] for e in entries}
    if set(names) != expected:
        raise _refuse("the archive holds files that are not part of an evalsurvey backup")
    return manifest


def read_rows(zf: zipfile.ZipFile, table: Table, entry: dict) -> Iterator[dict[str, Any]]:
    """The rows of one table from the archive, decoded and checked against the manifest
    (raises BackupError at the first line that is wrong, and at the end when the count,
    size or checksum differs)."""
    columns = entry["columns"]
    by_name = {c.name: c for c in table.columns}
    codecs = [codec(table.name, by_name[name]) for name in columns]
    keys = [by_name[name].key for name in columns]
    nullable = [by_name[name].nullable for name in columns]
    digest, rows, size = hashlib.sha256(), 0, 0
    with zf.open(entry["file"]) as fh:
        while True:
            line = fh.readline(LINE_LIMIT + 1)
            if not line:
                break
            size += len(line)
            if size > entry["bytes"]:
                raise _refuse(f"the data of {table.name} is longer than the manifest says")
            if not line.endswith(b"\n"):
                raise _refuse(f"a row of {table.name} is cut off or too long")
            digest.update(line)
            rows += 1
            try:
                values = json.loads(line.decode("utf-8"))
            except (ValueError, RecursionError):
                raise _refuse(f"row {rows} of {table.name} is not readable") from None
            if not isinstance(values, list) or len(values) != len(codecs):
                raise _refuse(f"row {rows} of {table.name} does not have its columns")
            row = {}
            for key, c, may_be_null, value, name in zip(
                keys, codecs, nullable, values, columns, strict=True
            ):
                if value is None:
                    if not may_be_null:
                        raise _refuse(f"row {rows} of {table.name} has no {name}")
                    row[key] = null() if c.kind == "json" else None
                    continue
                try:
                    row[key] = c.decode(value)
                except (ValueError, TypeError, OverflowError) as exc:
                    raise _refuse(f"row {rows} of {table.name}: {name} is {exc}") from None
            yield row
    if rows != entry["rows"] or size != entry["bytes"]:
        raise _refuse(f"{table.name} has {rows} rows, the manifest says {entry['rows']}")
    if digest.hexdigest() != entry["sha256"]:
        raise _refuse(f"the checksum of {table.name} does not match the manifest")


# what zipfile and zlib raise on a damaged archive
DAMAGED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    NotImplementedError,
    OSError,
    UnicodeError,
    ValueError,
)


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise _refuse(f"the file cannot be read ({exc.strerror})") from None
    except DAMAGED:
        raise _refuse("the file is not an evalsurvey backup (not a complete zip archive)") from None


@contextlib.contextmanager
def _reading(path: str):
    """The open archive; damage found while reading becomes a refusal."""
    zf = _open_zip(path)
    try:
        yield zf
    except DAMAGED as exc:
        raise _refuse(f"the archive is damaged ({exc.__class__.__name__})") from None
    finally:
        zf.close()


def check(path: str, metadata, revision: str) -> Backup:
    """Read the whole file and return it as a Backup, or raise BackupError saying why not."""
    tables = schema_tables(metadata)
    with _reading(path) as zf:
        manifest = _manifest(zf, tables, revision)
        backup = Backup(path, manifest, tables)
        for table in tables:
            for _row in read_rows(zf, table, backup.entry(table)):
                pass
    return backup


# --- loading ---------------------------------------------------------------------------------


def _self_references(table: Table) -> list[str]:
    """Nullable columns that refer to the same table: loaded as NULL first, set afterwards
    (a unit's parent may come after it in key order)."""
    return [
        fk.parent.key
        for fk in table.foreign_keys
        if fk.column.table is table and fk.parent.nullable
    ]


def _load(conn: Connection, zf: zipfile.ZipFile, backup: Backup) -> None:
    for table in backup.tables:
        later: dict[str, list[dict]] = {key: [] for key in _self_references(table)}
        pk = [c.key for c in table.primary_key.columns]
        batch: list[dict] = []
        for row in read_rows(zf, table, backup.entry(table)):
            for key, pending in later.items():
                if row[key] is not None:
                    pending.append({**{f"pk_{k}": row[k] for k in pk}, "value": row[key]})
                    row[key] = None
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
        for key, pending in later.items():
            if pending:
                where = [table.c[k] == bindparam(f"pk_{k}") for k in pk]
                conn.execute(
                    table.update().where(*where).values({key: bindparam("value")}), pending
                )


def _empty(conn: Connection, tables: list[Table]) -> None:
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    else:
        for table in reversed(tables):
            conn.execute(table.delete())


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    if conn.dialect.name != "postgresql":
        return  # SQLite's rowid follows the largest key by itself
    for table in tables:
        for column in table.primary_key.columns:
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if seq is None:
                continue
            top = conn.execute(select(func.max(column))).scalar()
            conn.execute(
                text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                {"s": seq, "v": top if top is not None else 1, "called": top is not None},
            )


def _verify(conn: Connection, backup: Backup) -> None:
    """The loaded tables against the manifest: counts, then the checksum of every row read back."""
    for table in backup.tables:
        entry = backup.entry(table)
        count = conn.execute(select(func.count()).select_from(table)).scalar()
        if count != entry["rows"]:
            raise _refuse(
                f"{table.name} has {count} rows after loading, the backup {entry['rows']}"
            )
        if entry["columns"] != [c.name for c in table.columns]:
            continue  # columns in another order: the counts are the check
        digest = hashlib.sha256()
        for line in dump_rows(conn, table):
            digest.update(line)
        if digest.hexdigest() != entry["sha256"]:
            raise _refuse(f"{table.name} reads back differently from the backup")


def database_error(exc: SQLAlchemyError, secret: str | None) -> str:
    """A database error in one line: the driver's first line, never the statement, its
    parameters (members' answers) nor the password."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    message = lines[0] if lines else type(orig).__name__
    if secret:
        message = message.replace(str(secret), "***")
    return f"{type(orig).__name__}: {message[:300]}"


def _db_refusal(exc: SQLAlchemyError, secret: str | None) -> BackupError:
    return _refuse(f"the database refused the data ({database_error(exc, secret)})")


def restore_postgresql(engine: Engine, backup: Backup, revision: str) -> None:
    """Load the backup into the live tables in one transaction, verified before it commits."""
    secret = engine.url.password
    try:
        with _reading(backup.path) as zf, engine.connect() as conn, conn.begin():
            live = database_revision(conn)
            if live != revision:
                raise _refuse(
                    f"the database is at schema revision {live or 'none'}, the backup at "
                    f"{revision}: run `evalsurvey db upgrade` first"
                )
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(BUSY_SECONDS * 1000)}ms'"))
            _empty(conn, backup.tables)
            _load(conn, zf, backup)
            _reset_sequences(conn, backup.tables)
            _verify(conn, backup)
    except SQLAlchemyError as exc:
        if type(getattr(exc, "orig", None)).__name__ == "LockNotAvailable":
            raise _refuse(IN_USE) from None
        raise _db_refusal(exc, secret) from None


def _sqlite_pragma(path: str, pragma: str) -> list[tuple]:
    conn = sqlite3.connect(path, timeout=BUSY_SECONDS)
    try:
        return conn.execute(f"PRAGMA {pragma}").fetchall()
    finally:
        conn.close()


def restore_sqlite(live_path: str, backup: Backup, build_schema: Callable[[str], None]) -> bool:
    """Build a new file next to ``live_path`` with ``build_schema`` (the migrations), load and
    check it, then copy it into the live file (where a symbolic link points, if the path is
    one). Returns True when it was copied into the live file, which every open connection
    then reads; False when a missing or damaged live file was replaced by the new one (a
    process that had the old file open still has that)."""
    live_path = os.path.realpath(live_path)
    folder = os.path.dirname(live_path)
    fd, fresh = tempfile.mkstemp(prefix=".evalsurvey-restore-", suffix=".sqlite3", dir=folder)
    os.close(fd)
    os.remove(fresh)  # the migrations create it
    try:
        build_schema(fresh)
        engine = create_engine(f"sqlite:///{fresh}")
        try:
            with _reading(backup.path) as zf, engine.connect() as conn, conn.begin():
                _empty(conn, backup.tables)
                _load(conn, zf, backup)
            with engine.connect() as conn:
                _verify(conn, backup)
        except SQLAlchemyError as exc:
            raise _db_refusal(exc, None) from None
        finally:
            engine.dispose()
        if _sqlite_pragma(fresh, "integrity_check") != [("ok",)]:
            raise _refuse("the restored file fails SQLite's integrity check")
        if _sqlite_pragma(fresh, "foreign_key_check"):
            raise _refuse("the restored rows refer to rows that are not there")
        _sqlite_pragma(fresh, "journal_mode=DELETE")  # one self-contained file, no -wal
        if _live_is_sound(live_path):
            _copy_into_live(fresh, live_path)
            return True
        with open(fresh, "rb") as fh:
            os.fsync(fh.fileno())
        _same_owner_and_mode(live_path, fresh)
        _release(live_path)
        os.replace(fresh, live_path)
        _fsync_folder(folder)
        return False
    finally:
        for leftover in (fresh, fresh + "-wal", fresh + "-shm", fresh + "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(leftover)


def _busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _live_is_sound(live_path: str) -> bool:
    """Whether the live file is there and a whole SQLite database (its quick check passes),
    which the restore then writes into; refused while it cannot even be read for a lock."""
    if not os.path.exists(live_path):
        return False
    try:
        return _sqlite_pragma(live_path, "quick_check") == [("ok",)]
    except sqlite3.DatabaseError as exc:
        if _busy(exc):
            raise _refuse(IN_USE) from None
        return False  # not a database, or damaged: replaced


def _no_open_transaction(live: sqlite3.Connection) -> None:
    """Refuse while a connection stays inside a transaction (a checkpoint that empties the
    write-ahead log waits, up to BUSY_SECONDS, for every reader and writer to finish)."""
    if live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] != 0:
        raise _refuse(IN_USE)


class _StillBusy(Exception):
    pass


def _copy_into_live(fresh: str, live_path: str) -> None:
    """Write the checked new file into the live one with SQLite's online backup API: one write
    transaction through the live file's journal or write-ahead log, so every connection that
    has it open (a running app's) reads the restored data next and writes into it. Refused,
    with the live file unchanged, while a connection holds a transaction on it for longer
    than BUSY_SECONDS (an open write transaction would otherwise be overwritten mid-way by the
    restore or lost)."""
    try:
        live = sqlite3.connect(live_path, timeout=BUSY_SECONDS)
    except sqlite3.DatabaseError as exc:
        raise _refuse(f"the database file cannot be opened ({exc})") from None
    try:
        _no_open_transaction(live)
        size = live.execute("PRAGMA page_size").fetchone()[0]
        source = sqlite3.connect(fresh)
        try:
            if source.execute("PRAGMA page_size").fetchone()[0] != size:
                # a database in WAL mode cannot change its page size: the copy takes the live one's
                source.execute(f"PRAGMA page_size = {int(size)}")
                source.execute("VACUUM")
            deadline = clock.monotonic() + BUSY_SECONDS

            def give_up_when_busy(status: int, remaining: int, total: int) -> None:  # noqa: ARG001
                if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    if clock.monotonic() >= deadline:
                        raise _StillBusy  # the copy is rolled back: the live file is unchanged

            source.backup(live, progress=give_up_when_busy)
        finally:
            source.close()
        # restored and committed; best effort, without waiting for the app's readers or
        # holding up its writers: the restored pages into the main file
        with contextlib.suppress(sqlite3.Error):
            live.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except _StillBusy:
        raise _refuse(IN_USE) from None
    except sqlite3.DatabaseError as exc:
        if _busy(exc):
            raise _refuse(IN_USE) from None
        raise _refuse(
            f"the restored data could not be written into the database file ({exc})"
        ) from None
    finally:
        live.close()


def _same_owner_and_mode(live_path: str, fresh: str) -> None:
    """The new file keeps the live one's permissions and, where allowed, its owner (a restore
    run as root must not leave the service's database unwritable to the service)."""
    try:
        status = os.stat(live_path)
    except FileNotFoundError:
        return
    os.chmod(fresh, stat.S_IMODE(status.st_mode))
    with contextlib.suppress(PermissionError):
        os.chown(fresh, status.st_uid, status.st_gid)


def _release(live_path: str) -> None:
    """Fold the live database's write-ahead log into it, refusing while a connection still
    holds a transaction on it, so that no stale -wal file can be replayed into the new one."""
    if not os.path.exists(live_path):
        return
    try:
        conn = sqlite3.connect(live_path, timeout=BUSY_SECONDS)
        try:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] != 0
        finally:
            conn.close()
        wal = live_path + "-wal"
        if busy or (os.path.exists(wal) and os.path.getsize(wal) > 0):
            raise _refuse(IN_USE)
    except sqlite3.DatabaseError:
        pass  # a damaged live file: its log means nothing, the restore replaces both
    for leftover in (live_path + "-wal", live_path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(leftover)


def _fsync_folder(folder: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
