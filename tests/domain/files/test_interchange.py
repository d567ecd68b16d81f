"""The response interchange CSV: export → import round trip, all-or-nothing import, CLI."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import func, select

from evalsurvey.domain.files import interchange
from evalsurvey.domain.units import ImportError_
from evalsurvey.extensions import db
from evalsurvey.i18n import _, in_language
from evalsurvey.models import Response
from tests.factories import hidden_fields, make_cycle, make_link

# the contract, spelled out here on purpose: a change to it must fail this test
HEADER_START = [
    "response_id",
    "questionnaire",
    "unit",
    "rater_group",
    "rater",
    "rater_unit",
    "channel",
    "device",
    "started_at",
    "submitted_at",
]


def fill(client, link, **answers):
    url = f"/s/{link.code}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    data = {"attitude": "5", "speed": "4", **answers}
    assert client.post(url, data={**fields, **data}).status_code == 303


def export(cycle=None) -> str:
    out = io.StringIO()
    interchange.export_responses(out, cycle=cycle)
    return out.getvalue()


def seed(client):
    link = make_link()
    fill(
        client,
        link,
        nps="10",
        pts="7.5",
        chan="a",
        topics=["y", "z"],
        note='多行\n文字, 带"引号"',
        comment="很好",
    )
    fill(client, link, attitude="1", speed="2")
    return link


def test_export_columns_and_values(app, client):
    link = seed(client)
    rows = list(csv.reader(io.StringIO(export())))
    assert rows[0] == HEADER_START + [
        "attitude",
        "speed",
        "nps",
        "pts",
        "chan",
        "topics",
        "note",
        "comment",
    ]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["questionnaire"] == "WIN@1" and first["unit"] == link.unit.code
    assert first["rater_group"] == "citizen" and first["channel"] == "qr"
    assert first["pts"] == "7.5" and first["topics"] == "y;z" and first["note"].startswith("多行\n")
    # the office's time, to the second, with its offset (the contract: ISO 8601 with offset)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", first["submitted_at"])
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["nps"] == "" and second["rater"] == ""


def _second(t):
    return t.replace(microsecond=0) if t is not None else None


def test_round_trip_is_lossless(app, client):
    """Everything survives export → import, times to the second (what the CSV shows)."""
    link = seed(client)
    text = export()
    before = {
        r.public_id: (
            r.answers,
            _second(r.started_at),
            _second(r.submitted_at),
            r.device,
            r.comment,
        )
        for r in db.session.scalars(select(Response))
    }
    db.session.query(Response).delete()
    db.session.commit()
    target = db.session.get(type(link.cycle), link.cycle_id)
    assert interchange.import_responses(text, target) == 2
    db.session.commit()
    after = {
        r.public_id: (r.answers, r.started_at, r.submitted_at, r.device, r.comment)
        for r in db.session.scalars(select(Response))
    }
    assert after == before
    assert export() == text


def test_broken_import_changes_nothing_and_names_row_and_column(app, client):
    seed(client)
    rows = list(csv.reader(io.StringIO(export())))
    db.session.query(Response).delete()
    db.session.commit()
    header, good = rows[0], rows[2]
    bad = list(good)
    bad[0] = "Rnew"
    bad[header.index("attitude")] = "9"  # off the 1–5 scale
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, good, bad])
    cycle = make_cycle()
    try:
        interchange.import_responses(out.getvalue(), cycle)
        raise AssertionError("import should fail")
    except ImportError_ as exc:
        assert [(r, c, e.text()) for r, c, e in exc.errors] == [(3, "attitude", "9 超出范围 1–5。")]
        with in_language("en"):
            assert exc.lines(_) == ["row 3, column attitude: 9 is outside 1–5."]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_import_errors_cover_each_column(app, client):
    seed(client)
    text = export()
    rows = list(csv.reader(io.StringIO(text)))
    header, row = rows[0], rows[1]
    db.session.query(Response).delete()
    db.session.commit()
    cases = {
        "unit": "NOPE",
        "rater_group": "aliens",
        "questionnaire": "X@9",
        "submitted_at": "yesterday",
        "started_at": "2026-01-01T10:00:00",
        "channel": "pigeon",
        "chan": "q",
    }
    cycle = make_cycle()
    for column, value in cases.items():
        changed = list(row)
        changed[header.index(column)] = value
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, changed])
        try:
            interchange.import_responses(out.getvalue(), cycle)
            raise AssertionError(column)
        except ImportError_ as exc:
            assert (2, column) in [e[:2] for e in exc.errors], (column, exc.errors)
    dup = io.StringIO()
    csv.writer(dup, lineterminator="\n").writerows([header, row, row])
    try:
        interchange.import_responses(dup.getvalue(), cycle)
        raise AssertionError("duplicate id")
    except ImportError_ as exc:
        assert exc.errors[0][:2] == (3, "response_id")


def test_cli_export_import_round_trip(app, client, runner, tmp_path):
    link = seed(client)
    path = tmp_path / "r.csv"
    result = runner.invoke(
        args=["export-responses", "--cycle", link.cycle.code, "--out", str(path)]
    )
    assert result.exit_code == 0, result.output
    original = path.read_text(encoding="utf-8")
    db.session.query(Response).delete()
    db.session.commit()
    result = runner.invoke(args=["import-responses", str(path), "--cycle", link.cycle.code])
    assert result.exit_code == 0 and "2 responses imported" in result.output
    again = runner.invoke(args=["import-responses", str(path), "--cycle", link.cycle.code])
    assert again.exit_code == 2 and "row 2, column response_id" in again.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 2
    out2 = tmp_path / "r2.csv"
    runner.invoke(args=["export-responses", "--cycle", link.cycle.code, "--out", str(out2)])
    assert out2.read_text(encoding="utf-8") == original


def test_cli_links_lists_full_urls(app, runner):
    link = make_link()
    result = runner.invoke(args=["links", "--cycle", link.cycle.code])
    assert result.exit_code == 0
    assert f"{link.unit.code}\tcitizen\thttp://testserver/s/{link.code}" in result.output


def test_cli_import_of_a_field_past_the_csv_limit_is_a_message(app, client, runner, tmp_path):
    link = seed(client)
    rows = list(csv.reader(io.StringIO(export())))
    db.session.query(Response).delete()
    db.session.commit()
    rows[2][-1] = "长" * 140_000  # the comment, past csv.field_size_limit()
    path = tmp_path / "r.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    result = runner.invoke(args=["import-responses", str(path), "--cycle", link.cycle.code])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "row 3, column -: cannot read this row" in result.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
