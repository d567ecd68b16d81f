"""Exports keep what people typed (issue 17): a comment with a lone CR, a CRLF and a LF goes
through the staff CSV download (streamed), `evalsurvey analyze` and `import-responses` into a
fresh cycle unchanged; the XLSX keeps the CR; an import that cannot be done always exits 2."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from evalsurvey.domain.files import interchange
from evalsurvey.extensions import db
from evalsurvey.models import Response
from tests.factories import login, make_cycle, make_link, make_response, make_staff

COMMENTS = [
    "一\r二",  # a lone carriage return
    "三\r\n四",  # Windows' line break
    "五\n六",  # a line feed
    '\r开头, 带"引号"\r\n\n\r',  # all of them, first and last, beside a quote and a comma
    "",
]


def _cycle_with_comments():
    link = make_link()
    for i, comment in enumerate(COMMENTS):
        r = make_response(link, {"attitude": 1 + i % 5, "speed": 5 - i % 5})
        r.comment = comment
    db.session.commit()
    return link


def test_a_cr_round_trip_staff_csv_analyze_and_import(app, client, runner, tmp_path):
    link = _cycle_with_comments()
    make_staff("boss")
    login(client, "boss")
    got = client.get(f"/admin/cycles/{link.cycle.id}/responses.csv")
    assert got.status_code == 200 and got.is_streamed
    data = got.data
    assert not data.startswith(b"\xef\xbb\xbf")  # the data file: no Excel BOM
    # every field holding a CR or a LF is quoted: no record is split for any reader
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [r[-1] for r in rows[1:]] == COMMENTS
    path = tmp_path / "responses.csv"
    path.write_bytes(data)

    analyzed = runner.invoke(args=["analyze", str(path), "--min-n", "1"])
    assert analyzed.exit_code == 0, analyzed.output

    db.session.query(Response).delete()  # ids are unique: the file goes into a new cycle
    db.session.commit()
    fresh = make_cycle()
    result = runner.invoke(args=["import-responses", str(path), "--cycle", fresh.code])
    assert result.exit_code == 0, result.output
    stored = db.session.scalars(
        select(Response.comment).where(Response.cycle_id == fresh.id).order_by(Response.id)
    )
    assert list(stored) == COMMENTS


def test_the_staff_csv_streams_the_same_bytes_in_pieces(app, client):
    link = make_link()
    for i in range(interchange.BATCH + 20):  # more than one piece
        make_response(link, {"attitude": 1 + i % 5, "speed": 3})
    db.session.commit()
    make_staff("boss")
    login(client, "boss")
    got = client.get(f"/admin/cycles/{link.cycle.id}/responses.csv", buffered=False)
    assert got.is_streamed and "Content-Length" not in got.headers
    assert (
        got.headers["Content-Disposition"]
        == f"attachment; filename=responses-{link.cycle.code}.csv"
    )
    pieces = list(got.response)  # what the server sends, piece by piece
    got.close()
    assert len(pieces) > 1
    whole = io.StringIO()
    interchange.export_responses(whole, cycle=link.cycle)
    assert b"".join(pieces).decode("utf-8") == whole.getvalue()
    # asked for gzip, it still streams (compressing would have held the whole file)
    zipped = client.get(
        f"/admin/cycles/{link.cycle.id}/responses.csv", headers={"Accept-Encoding": "gzip"}
    )
    assert zipped.is_streamed and "Content-Encoding" not in zipped.headers
    zipped.close()  # dropped half way: the database cursor is closed (a warning otherwise)


def test_the_xlsx_keeps_a_carriage_return(app, client):
    link = _cycle_with_comments()
    make_staff("boss")
    login(client, "boss")
    with client.get(f"/admin/cycles/{link.cycle.id}/responses.xlsx") as got:
        assert got.status_code == 200
        rows = list(load_workbook(io.BytesIO(got.data)).active.iter_rows(values_only=True))
    # read back as written; a comment beginning with a CR is behind the inert quote
    expected = ["'" + c if c.startswith("\r") else (c or None) for c in COMMENTS]
    assert [r[-1] for r in rows[1:]] == expected


def _import(runner, path, code):
    result = runner.invoke(args=["import-responses", str(path), "--cycle", code])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def _bare_cr(lines):  # a lone CR outside quotes: another tool's file
    return lines[0] + "\n" + lines[1].replace(",,", ",a\rb,", 1) + "\n"


@pytest.mark.parametrize(
    "content, says",
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00\x00", "not UTF-8"),
        (b"response_id,comment\n", "column is missing from the header"),
        (b"\r\r\r", "column is missing from the header"),
        (_bare_cr, "cannot read this row"),
        (lambda lines: lines[0] + "\n" + lines[1] + ",x\n", "cells"),  # a cell too many
        (lambda lines: lines[0] + "\n" + lines[1] + ',"open\n', "cells; the header has"),
    ],
    ids=["empty", "binary", "header", "only-cr", "bare-cr", "extra-cell", "open-quote"],
)
def test_an_import_that_cannot_be_done_exits_2_with_a_message(app, runner, tmp_path, content, says):
    link = _cycle_with_comments()
    whole = io.StringIO()
    interchange.export_responses(whole, cycle=link.cycle)
    db.session.query(Response).delete()
    db.session.commit()
    if callable(content):
        content = content(whole.getvalue().split("\n")).encode()
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    output = _import(runner, path, link.cycle.code)
    assert says in output and "nothing was imported" in output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_an_unknown_cycle_or_unreadable_file_exits_2(app, runner, tmp_path):
    link = _cycle_with_comments()
    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        interchange.export_responses(out, cycle=link.cycle)
    assert "no cycle with code 'NOPE'" in _import(runner, path, "NOPE")
    # a file that opens but cannot be read (Linux: reading a process's memory at 0 fails)
    unreadable = Path("/proc/self/mem")
    if not unreadable.exists():
        pytest.skip("no /proc/self/mem here")
    assert "cannot read the file" in _import(runner, unreadable, link.cycle.code)
