"""``evalsurvey backup`` and ``restore``: a round trip that gives back every table as it was."""

from __future__ import annotations

from sqlalchemy import select, text

from evalsurvey.extensions import db
from evalsurvey.models import Response
from tests.factories import make_link, make_response, make_staff, make_unit


def _every_table() -> dict[str, list[tuple]]:
    out = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        out[table.name] = [tuple(r) for r in rows]
    out["alembic_version"] = db.session.execute(text("SELECT * FROM alembic_version")).all()
    return out


def test_backup_and_restore_give_back_every_table(app, runner, tmp_path):
    link = make_link(unit=make_unit("W1", name="第一窗口"))
    for n in range(5):
        make_response(link, {"attitude": 5 - n % 3, "speed": 4}).comment = f"意见{n}"
    make_staff("adm")
    db.session.commit()
    before = _every_table()
    assert len(before["responses"]) == 5 and before["alembic_version"]
    path = str(tmp_path / "backup.dump")
    done = runner.invoke(args=["backup", path])
    assert done.exit_code == 0, done.output
    # the office goes on working after the backup...
    db.session.execute(Response.__table__.delete())
    make_unit("W2")
    db.session.commit()
    assert _every_table() != before
    # ...then restores it
    refused = runner.invoke(args=["restore", path], input="n\n")
    assert refused.exit_code != 0 and len(_every_table()["responses"]) == 0  # asked first
    done = runner.invoke(args=["restore", path, "--yes"])
    assert done.exit_code == 0, done.output
    db.session.remove()
    assert _every_table() == before
