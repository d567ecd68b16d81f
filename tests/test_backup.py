"""``evalsurvey backup`` and ``restore``: a round trip that gives back every table as it was, and
a restore that refuses, with exit status 2 and the live database untouched, every file that is
not an evalsurvey backup of this schema (truncated, foreign, garbage, tampered, hostile)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import uuid
import zipfile

import pytest
from sqlalchemy import JSON, select, text

from evalsurvey import create_app
from evalsurvey.extensions import db
from evalsurvey.models import Response, Unit
from tests.conftest import PG_ADMIN_URL, PG_MODE, _pg_connect, base_config, postgres_available
from tests.factories import make_link, make_response, make_staff, make_unit


def _every_table() -> dict[str, list[tuple]]:
    """Every row of every table, JSON columns with whether they are SQL NULL (a stored JSON
    ``null`` reads back as None too)."""
    out = {}
    for table in db.metadata.sorted_tables:
        nulls = [c.is_(None) for c in table.columns if isinstance(c.type, JSON)]
        query = select(*table.columns, *nulls).order_by(*table.primary_key.columns)
        out[table.name] = [tuple(r) for r in db.session.execute(query).all()]
    out["alembic_version"] = db.session.execute(text("SELECT * FROM alembic_version")).all()
    return out


def _office_data() -> None:
    """Rows in most shapes: Chinese text, JSON, times, a unit whose parent has a larger key."""
    child = make_unit("W1", name="第一窗口")
    link = make_link(unit=child)
    for n in range(5):
        make_response(link, {"attitude": 5 - n % 3, "speed": 4}).comment = f"意见{n}"
    make_staff("adm")
    parent = make_unit("S1", name="街道", type="street")
    db.session.get(Unit, child.id).parent_id = parent.id
    db.session.commit()
    assert parent.id > child.id


def _backup(runner, tmp_path, name: str = "backup.zip") -> str:
    path = str(tmp_path / name)
    done = runner.invoke(args=["backup", path])
    assert done.exit_code == 0, done.output
    return path


def test_backup_and_restore_give_back_every_table(app, runner, tmp_path):
    _office_data()
    before = _every_table()
    assert len(before["responses"]) == 5 and before["alembic_version"]
    path = _backup(runner, tmp_path)
    # the office goes on working after the backup...
    db.session.execute(Response.__table__.delete())
    make_unit("W2")
    db.session.commit()
    assert _every_table() != before
    # ...then restores it
    refused = runner.invoke(args=["restore", path], input="n\n")
    assert refused.exit_code != 0 and len(_every_table()["responses"]) == 0  # asked first
    sqlite = db.engine.url.get_backend_name() == "sqlite"
    if sqlite:
        os.chmod(db.engine.url.database, 0o640)
    done = runner.invoke(args=["restore", path, "--yes"])
    assert done.exit_code == 0, done.output
    db.session.remove()
    assert _every_table() == before
    if sqlite:  # the new file in place of the old keeps its permissions
        assert os.stat(db.engine.url.database).st_mode & 0o777 == 0o640
    # and goes on: new rows get new keys (PostgreSQL's sequences follow the restored rows)
    unit = make_unit("W3")
    db.session.commit()
    assert unit.id == max(r[0] for r in before["units"]) + 1
    if sqlite:
        with contextlib.closing(sqlite3.connect(db.engine.url.database)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_the_backup_is_one_file_with_a_manifest(app, runner, tmp_path):
    _office_data()
    path = _backup(runner, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "evalsurvey-backup" and manifest["format_version"] == 1
        head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert manifest["schema_revision"] == head
        tables = {t["name"]: t for t in manifest["tables"]}
        assert set(tables) == {t.name for t in db.metadata.sorted_tables}
        assert tables["responses"]["rows"] == 5 and tables["units"]["rows"] == 2
        kinds = dict(zip(tables["responses"]["columns"], tables["responses"]["kinds"], strict=True))
        assert kinds["id"] == "int" and kinds["submitted_at"] == "datetime_tz"
        assert kinds["answers"] == "json" and kinds["comment"] == "str"
        for entry in tables.values():
            data = zf.read(entry["file"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert data.count(b"\n") == entry["rows"] and len(data) == entry["bytes"]
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".evalsurvey")]  # no leftovers
    assert os.stat(path).st_mode & 0o077 == 0  # every answer is in it: its owner's only


# --- refused files --------------------------------------------------------------------------


def _refused(runner, path: str, before: dict, *, expect: str = "") -> str:
    """Restore ``path``; it must exit 2 with a message, no traceback, the live data unchanged."""
    done = runner.invoke(args=["restore", str(path), "--yes"])
    assert done.exit_code == 2, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "Traceback" not in done.output and "error: not restored" in done.output
    assert expect in done.output
    db.session.remove()
    assert _every_table() == before
    if db.engine.url.get_backend_name() == "sqlite":
        live = db.engine.url.database
        with contextlib.closing(sqlite3.connect(live)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        folder = os.path.dirname(live)
        assert not [n for n in os.listdir(folder) if n.startswith(".evalsurvey-restore")]
    return done.output


@pytest.mark.parametrize("keep", ["50 bytes", "half", "all but the last byte"])
def test_a_truncated_backup_is_refused(app, runner, tmp_path, keep):
    _office_data()
    path = _backup(runner, tmp_path)
    before = _every_table()
    data = (tmp_path / path).read_bytes()
    size = {"50 bytes": 50, "half": len(data) // 2, "all but the last byte": len(data) - 1}[keep]
    (tmp_path / "cut.zip").write_bytes(data[:size])
    _refused(runner, tmp_path / "cut.zip", before, expect="not an evalsurvey backup")


def test_a_damaged_backup_is_refused_wherever_the_damage_is(app, runner, tmp_path):
    _office_data()
    path = _backup(runner, tmp_path)
    before = _every_table()
    data = (tmp_path / path).read_bytes()
    refused = 0
    for n in range(1, 32):
        damaged = bytearray(data)
        damaged[len(data) * n // 32] ^= 0x5A
        (tmp_path / "damaged.zip").write_bytes(bytes(damaged))
        done = runner.invoke(args=["restore", str(tmp_path / "damaged.zip"), "--yes"])
        # refused, or (the byte was a zip header's date or the like) restored exactly
        assert done.exit_code in (0, 2) and "Traceback" not in done.output, done.output
        refused += done.exit_code == 2
        db.session.remove()
        assert _every_table() == before
    assert refused >= 16  # the others hit a header's date, attributes or zip64 padding


def test_a_foreign_sqlite_file_and_garbage_are_refused(app, runner, tmp_path):
    _office_data()
    before = _every_table()
    foreign = tmp_path / "foreign.sqlite3"
    with contextlib.closing(sqlite3.connect(foreign)) as conn, conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('hello')")
    _refused(runner, foreign, before, expect="not an evalsurvey backup")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(os.urandom(70_000))
    _refused(runner, garbage, before, expect="not an evalsurvey backup")
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    _refused(runner, empty, before)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _refused(runner, other, before, expect="no manifest")


def _rewrite(path: str, out, change, *, rehash: bool) -> None:
    """Copy a backup, ``change(members)`` on the way; with ``rehash`` the manifest's counts and
    checksums are made to match the changed data, as a careful forger would."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    manifest = json.loads(members["manifest.json"])
    if rehash:
        for entry in manifest["tables"]:
            data = members[entry["file"]]
            entry.update(
                sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), rows=data.count(b"\n")
            )
        members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _edit_manifest(edit):
    def change(members):
        manifest = json.loads(members["manifest.json"])
        edit(manifest)
        members["manifest.json"] = json.dumps(manifest).encode()

    return change


def _table(manifest, name):
    return next(t for t in manifest["tables"] if t["name"] == name)


def _flip_checksum(m):
    entry = _table(m, "responses")
    entry["sha256"] = ("0" if entry["sha256"][0] != "0" else "1") + entry["sha256"][1:]


def _replace_in(member: str, old: bytes, new: bytes):
    def change(members):
        assert old in members[member]
        members[member] = members[member].replace(old, new, 1)

    return change


def _link_to_no_unit(members):
    """Checksums that match, but a link to a unit that is not there: the database refuses."""
    columns = _table(json.loads(members["manifest.json"]), "links")["columns"]
    first, rest = members["data/links.jsonl"].split(b"\n", 1)
    row = json.loads(first)
    row[columns.index("unit_id")] = 999
    first = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode()
    members["data/links.jsonl"] = first + b"\n" + rest


def _add_row(members):
    members["data/units.jsonl"] += b'[999,"X9","x","service_window",null,true]\n'


TAMPERED = {
    "checksum": (_edit_manifest(_flip_checksum), False, "checksum of responses"),
    "a comment changed": (
        _replace_in("data/responses.jsonl", "意见1".encode(), "意见9".encode()),
        False,
        "checksum",
    ),
    "a row added": (_add_row, False, "units"),
    "row count": (_edit_manifest(lambda m: _table(m, "units").update(rows=1)), False, "units"),
    "format": (
        _edit_manifest(lambda m: m.update(format="other")),
        False,
        "not an evalsurvey backup",
    ),
    "format version": (
        _edit_manifest(lambda m: m.update(format_version=2)),
        False,
        "format version",
    ),
    "schema": (
        _edit_manifest(lambda m: m.update(schema_revision="0001")),
        False,
        "schema revision",
    ),
    "a table without a name": (
        _edit_manifest(lambda m: _table(m, "units").update(name=[])),
        False,
        "table list",
    ),
    "no date": (_edit_manifest(lambda m: m.pop("created_at")), False, "when and from which"),
    "a terminal escape as source": (
        _edit_manifest(lambda m: m.update(source="\x1b[2J")),
        False,
        "when and from which",
    ),
    "a table missing": (_edit_manifest(lambda m: m["tables"].pop()), False, "tables"),
    "an extra file": (lambda ms: ms.update({"data/x.sql": b"DROP TABLE units"}), False, "files"),
    "a column renamed": (
        _edit_manifest(lambda m: _table(m, "units")["columns"].__setitem__(1, "evil")),
        False,
        "columns",
    ),
    "a column's kind": (
        _edit_manifest(lambda m: _table(m, "units")["kinds"].__setitem__(0, "str")),
        False,
        "column types",
    ),
    "text in a number": (_replace_in("data/units.jsonl", b"[1,", b'["1",'), True, "units"),
    "a naive time": (_replace_in("data/responses.jsonl", b"+00:00", b""), True, "responses"),
    "a link to no unit": (_link_to_no_unit, True, "the database refused the data"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_tampered_backup_is_refused(app, runner, tmp_path, case):
    change, rehash, expect = TAMPERED[case]
    _office_data()
    path = _backup(runner, tmp_path)
    before = _every_table()
    _rewrite(path, tmp_path / "tampered.zip", change, rehash=rehash)
    _refused(runner, tmp_path / "tampered.zip", before, expect=expect)


# --- a hostile PostgreSQL archive ----------------------------------------------------------


def _scratch_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_database(name: str) -> None:
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def hostile_archive(tmp_path_factory):
    """A pg_dump custom-format archive whose table's CHECK constraint calls a function that
    runs ``COPY ... TO PROGRAM 'touch MARKER'`` for every row loaded; shown to run it when
    given to pg_restore (what ``evalsurvey restore`` used to do)."""
    reason = postgres_available()
    if reason is not None:
        if PG_MODE == "required":
            pytest.fail(f"PostgreSQL is required (EVALSURVEY_TEST_POSTGRES=required): {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("no pg_dump/pg_restore (postgresql-client) to make a hostile archive with")
    archive = tmp_path_factory.mktemp("hostile") / "hostile.dump"
    marker = f"/tmp/evalsurvey-hostile-{uuid.uuid4().hex}"
    name, url = _scratch_database("evalsurvey_hostile")
    try:
        with _pg_connect(name) as conn:
            conn.execute(
                "CREATE FUNCTION evil() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN "
                f"EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {marker}'''; RETURN true; END $$"
            )
            conn.execute("CREATE TABLE units (id integer PRIMARY KEY, code text CHECK (evil()))")
            conn.execute("INSERT INTO units VALUES (1, 'X')")
        if not os.path.exists(marker):
            pytest.skip("the PostgreSQL server is another machine: its /tmp is not visible here")
        os.remove(marker)
        subprocess.run(["pg_dump", "--format=custom", "--file", str(archive), url], check=True)
    finally:
        _drop_database(name)
    name, url = _scratch_database("evalsurvey_victim")
    try:
        subprocess.run(["pg_restore", "--no-owner", "--dbname", url, str(archive)], check=True)
        assert os.path.exists(marker)  # pg_restore ran the archive's function
        os.remove(marker)
    finally:
        _drop_database(name)
    return archive, marker


def test_a_hostile_postgresql_archive_is_refused_and_runs_nothing(
    app, runner, tmp_path, hostile_archive
):
    archive, marker = hostile_archive
    _office_data()
    before = _every_table()
    _refused(runner, archive, before, expect="not an evalsurvey backup")
    assert not os.path.exists(marker)


# --- credentials ------------------------------------------------------------------------------

SECRET = "s3cret-Pw-4711"


@pytest.fixture
def app_with_password(database_url, tmp_path, app):
    """The test database through a URL that carries a password (the server trusts anyone)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no password")
    url = database_url.replace("://postgres@", f"://postgres:{SECRET}@")
    assert SECRET in url
    other = create_app(base_config(url, str(tmp_path)))
    with other.app_context():
        yield other
        db.session.remove()
        db.engine.dispose()


def test_the_password_is_on_no_command_line_and_in_no_output(
    app_with_password, tmp_path, monkeypatch, backend
):
    started = []
    real_popen = subprocess.Popen

    def record(args, *a, **kw):
        started.append(args)
        return real_popen(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", record)
    runner = app_with_password.test_cli_runner()
    _office_data()
    before = _every_table()
    path = str(tmp_path / "backup.zip")
    outputs = [runner.invoke(args=["backup", path])]
    outputs.append(runner.invoke(args=["restore", path, "--yes"]))
    assert [o.exit_code for o in outputs] == [0, 0], [o.output for o in outputs]
    db.session.remove()
    assert _every_table() == before
    (tmp_path / "garbage").write_bytes(b"PGDMP" + os.urandom(100))
    outputs.append(runner.invoke(args=["restore", str(tmp_path / "garbage"), "--yes"]))
    assert outputs[-1].exit_code == 2
    assert started == []  # no pg_dump, pg_restore or psql: no command line to read it from
    for out in outputs:
        assert SECRET not in out.output and "Traceback" not in out.output


def test_an_unreachable_database_is_a_message_without_the_password(tmp_path):
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:1/evalsurvey_nowhere"
    app = create_app(base_config(url, str(tmp_path)))
    with app.app_context():
        runner = app.test_cli_runner()
        done = runner.invoke(args=["backup", str(tmp_path / "b.zip")])
        assert done.exit_code == 2, done.output
        assert "no backup written" in done.output
        assert SECRET not in done.output and "Traceback" not in done.output
        assert not (tmp_path / "b.zip").exists()
        db.engine.dispose()


# --- one format for both databases, and a database that is gone --------------------------------


@contextlib.contextmanager
def _app_on(url: str, instance):
    """An app on ``url`` as it is (``app_in_context`` would empty it first)."""
    app = create_app(base_config(url, str(instance)))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_postgres(postgres_database):
    """A new PostgreSQL database with no tables at all (as after losing the server)."""
    name = f"evalsurvey_empty_{uuid.uuid4().hex[:10]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_sqlite_backup_restores_into_a_new_postgresql_database_and_back(
    sqlite_template, empty_postgres, tmp_path
):
    live = tmp_path / "office.sqlite3"
    shutil.copy(sqlite_template, live)
    url = f"sqlite:///{live}"
    with _app_on(url, tmp_path) as app:
        _office_data()
        before = _every_table()
        path = _backup(app.test_cli_runner(), tmp_path, "from-sqlite.zip")
    # PostgreSQL without a single table: the migrations build it, then the rows come in
    with _app_on(empty_postgres, tmp_path) as app:
        done = app.test_cli_runner().invoke(args=["restore", path, "--yes"])
        assert done.exit_code == 0, done.output
        db.session.remove()
        assert _every_table() == before
        path = _backup(app.test_cli_runner(), tmp_path, "from-postgresql.zip")
    # and back into a SQLite file that is gone (a lost disk): a new file is made
    gone = tmp_path / "new" / "office.sqlite3"
    gone.parent.mkdir()
    url = f"sqlite:///{gone}"
    with _app_on(url, tmp_path) as app:
        done = app.test_cli_runner().invoke(args=["restore", path, "--yes"])
        assert done.exit_code == 0, done.output
        assert "file was replaced" in done.output
        db.session.remove()
        assert _every_table() == before
    assert sorted(os.listdir(gone.parent)) == ["office.sqlite3"]  # no -wal, no temporary file


def test_a_damaged_live_sqlite_file_is_replaced(app, runner, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("a SQLite file")
    _office_data()
    before = _every_table()
    path = _backup(runner, tmp_path)
    db.session.remove()
    db.engine.dispose()
    live = db.engine.url.database
    with open(live, "r+b") as fh:  # the disk lost the file's second half
        fh.truncate(os.path.getsize(live) // 2)
    with open(live + "-wal", "wb") as fh:  # and left a log that means nothing
        fh.write(os.urandom(5000))
    done = runner.invoke(args=["restore", path, "--yes"])
    assert done.exit_code == 0, done.output
    assert "damaged database file was replaced: restart any running app" in done.output
    db.session.remove()
    assert _every_table() == before


def test_a_database_in_use_is_refused(app, runner, tmp_path, monkeypatch, database_url):
    """A running app holding a transaction: restore gives up after BUSY_SECONDS, nothing changed."""
    from evalsurvey import backups

    monkeypatch.setattr(backups, "BUSY_SECONDS", 0.3)
    _office_data()
    path = _backup(runner, tmp_path)
    make_unit("W9")  # a change since the backup, in the write-ahead log
    db.session.commit()
    before = _every_table()
    if database_url.startswith("sqlite"):
        other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    else:
        import psycopg

        other = psycopg.connect(database_url)
    try:
        other.execute("BEGIN")
        assert other.execute("SELECT count(*) FROM units").fetchone()[0] == 3
        _refused(runner, path, before, expect="the database is in use")
    finally:
        other.close()
    done = runner.invoke(args=["restore", path, "--yes"])  # once it has stopped
    assert done.exit_code == 0, done.output


def test_a_backup_that_cannot_be_written_is_a_message(app, runner, tmp_path):
    done = runner.invoke(args=["backup", str(tmp_path / "missing" / "b.zip")])
    assert done.exit_code == 2, done.output
    assert "no backup written: No such file or directory" in done.output
    assert ".partial" not in done.output and "Traceback" not in done.output


def test_a_sqlite_database_behind_a_symbolic_link_is_restored_where_it_lies(
    app, runner, tmp_path, backend
):
    if backend != "sqlite":
        pytest.skip("a SQLite file")
    _office_data()
    before = _every_table()
    path = _backup(runner, tmp_path)
    db.session.remove()
    db.engine.dispose()
    link = db.engine.url.database
    (tmp_path / "disk").mkdir()
    target = tmp_path / "disk" / "evalsurvey.sqlite3"
    os.replace(link, target)
    os.symlink(target, link)
    db.session.execute(Response.__table__.delete())
    db.session.commit()
    done = runner.invoke(args=["restore", path, "--yes"])
    assert done.exit_code == 0, done.output
    assert os.path.islink(link) and os.path.realpath(link) == str(target)
    db.session.remove()
    assert _every_table() == before


def test_a_database_behind_the_release_is_neither_backed_up_nor_restored_into(
    app, runner, tmp_path
):
    """The rows are read and written through this release's tables: a database still at an
    older revision must be upgraded first (restoring into SQLite builds a new file instead)."""
    _office_data()
    path = _backup(runner, tmp_path)
    head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    db.session.commit()
    try:
        done = runner.invoke(args=["backup", str(tmp_path / "old.zip")])
        assert done.exit_code == 2 and "run `evalsurvey db upgrade` first" in done.output
        assert not (tmp_path / "old.zip").exists()
        before = _every_table()
        if db.engine.url.get_backend_name() == "postgresql":
            _refused(runner, path, before, expect="run `evalsurvey db upgrade` first")
        else:
            done = runner.invoke(args=["restore", path, "--yes"])
            assert done.exit_code == 0, done.output
            db.session.remove()
            assert _every_table()["alembic_version"] != before["alembic_version"]
    finally:  # the PostgreSQL test database is shared by the tests that follow
        db.session.remove()
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        db.session.commit()


# --- a restore while the app runs ------------------------------------------------------------


def test_a_running_app_reads_the_restored_data_and_its_writes_are_kept(app, runner, tmp_path):
    """A server's pooled connection, open across the restore, reads the restored rows, and what
    it writes afterwards is in the database a restart finds (it once went into the replaced,
    deleted SQLite file and was lost)."""
    from sqlalchemy import create_engine, func

    units = Unit.__table__
    _office_data()
    path = _backup(runner, tmp_path)
    before = _every_table()
    make_unit("W8")  # a change since the backup, which the restore takes back
    db.session.commit()
    server = create_engine(db.engine.url)  # the running app: its own pool, its own connections
    try:
        with server.connect() as conn:
            held = conn.connection.dbapi_connection
            assert conn.execute(select(func.count()).select_from(units)).scalar() == 3
        done = runner.invoke(args=["restore", path, "--yes"])
        assert done.exit_code == 0, done.output
        assert "running app processes see the restored data" in done.output
        with server.connect() as conn, conn.begin():
            assert conn.connection.dbapi_connection is held  # the same, still open connection
            codes = conn.execute(select(units.c.code).order_by(units.c.id)).scalars().all()
            assert codes == [r[1] for r in before["units"]]
            conn.execute(units.insert().values(code="W7", name="新窗口", type="service_window"))
    finally:
        server.dispose()
    # a restart: every connection new
    db.session.remove()
    db.engine.dispose()
    after = _every_table()
    assert [r[1] for r in after["units"]] == [r[1] for r in before["units"]] + ["W7"]
    assert {k: v for k, v in after.items() if k != "units"} == {
        k: v for k, v in before.items() if k != "units"
    }
    if db.engine.url.get_backend_name() == "sqlite":
        live = db.engine.url.database
        with contextlib.closing(sqlite3.connect(live)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("SELECT count(*) FROM units WHERE code = 'W7'").fetchone() == (1,)


def test_a_writer_that_starts_during_the_restore_is_waited_for_then_refused(
    app, runner, tmp_path, monkeypatch, backend
):
    """A write transaction begun after the check for open transactions: the copy into the live
    file waits BUSY_SECONDS for its lock, then gives up, the live file unchanged and the
    writer's own commit kept."""
    if backend != "sqlite":
        pytest.skip("a SQLite file")
    from evalsurvey import backups

    monkeypatch.setattr(backups, "BUSY_SECONDS", 0.5)
    monkeypatch.setattr(backups, "_no_open_transaction", lambda live: None)  # it passed
    _office_data()
    path = _backup(runner, tmp_path)
    make_unit("W9")
    db.session.commit()
    before = _every_table()
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE units SET name = '改名' WHERE code = 'W9'")
        _refused(runner, path, before, expect="in use")
        writer.execute("COMMIT")
    finally:
        writer.close()
    db.session.remove()
    assert db.session.execute(select(Unit.name).where(Unit.code == "W9")).scalar() == "改名"


def test_a_live_file_with_another_page_size_is_restored_into(app, runner, tmp_path, backend):
    """A database in WAL mode cannot change its page size: the new file takes the live one's."""
    if backend != "sqlite":
        pytest.skip("a SQLite file")
    _office_data()
    before = _every_table()
    path = _backup(runner, tmp_path)
    db.session.remove()
    db.engine.dispose()
    live = db.engine.url.database
    with contextlib.closing(sqlite3.connect(live, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA page_size=1024")
        conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode=WAL")
        assert conn.execute("PRAGMA page_size").fetchone() == (1024,)
    db.session.execute(Response.__table__.delete())
    db.session.commit()
    done = runner.invoke(args=["restore", path, "--yes"])
    assert done.exit_code == 0, done.output
    assert "running app processes see the restored data" in done.output
    db.session.remove()
    assert _every_table() == before
    with contextlib.closing(sqlite3.connect(live)) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (1024,)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
