"""The column-wise CSV reader gives exactly the row-by-row reader's table, and its errors."""

from __future__ import annotations

import csv
import dataclasses
import io

import numpy as np
import pytest

from evalsurvey.analysis import reader
from evalsurvey.analysis.reader import InputError, read_responses, read_rows
from evalsurvey.csvformat import HEAD
from tests.stats.synthetic import make_csv


def assert_same_table(a: reader.ResponseTable, b: reader.ResponseTable) -> None:
    for f in dataclasses.fields(a):
        mine, theirs = getattr(a, f.name), getattr(b, f.name)
        if isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype and mine.shape == theirs.shape, f.name
            assert np.array_equal(mine, theirs, equal_nan=True), f.name
        else:
            assert mine == theirs, f.name


def both(text: str):
    """(column-wise table or error, row-by-row table or error) of one CSV text."""
    out = []
    for read in (read_responses, read_rows):
        try:
            out.append(read(io.StringIO(text)))
        except InputError as exc:
            out.append(str(exc))
    return out


def same(text: str) -> reader.ResponseTable:
    """The table of a good file, read column-wise without falling back, checked against
    the row-by-row reader's."""
    fast = reader._read_columns(io.StringIO(text))  # _Refused if it fell back
    assert_same_table(fast, read_rows(io.StringIO(text)))
    return fast


ITEMS = ["q1", "q2", "pick", "note"]


def write(rows, items=ITEMS, tail=True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEAD + items + (["comment"] if tail else []))
    writer.writerows(rows)
    return buffer.getvalue()


def row(rid, unit="U1", started="2026-09-01T09:00:00+08:00", submitted="2026-09-01T09:02:00+08:00",
        q1="4", q2="5", pick="a;b", note="", comment="", **cells):  # fmt: skip
    base = dict(
        response_id=rid, questionnaire="CIT@1", unit=unit, rater_group="citizen", rater="",
        rater_unit="", channel="qr", device=f"d{rid}", started_at=started, submitted_at=submitted,
    )  # fmt: skip
    base.update(cells)
    return [base[h] for h in HEAD] + [q1, q2, pick, note, comment]


def test_synthetic_file_reads_the_same(tmp_path):
    path = tmp_path / "r.csv"
    make_csv(path, seed=5, n_units=6, per_unit=40, n_panel_units=8, n_experts=6)
    same(path.read_text(encoding="utf-8"))


def test_every_odd_cell_reads_the_same(monkeypatch):
    monkeypatch.setattr(reader, "CHUNK", 7)  # many chunks: codes carry over between them
    rows = [
        row("R1", comment="好\r\n很好 👍\rend\n", note="自由\n文字"),
        row(" R2 ", unit=" U2", rater=" E1 ", rater_unit="U1", device=" ", channel=" invite "),
        row("R3", started="", submitted="2026-09-01 10:00:00+00:00"),  # a space, no T
        row("R4", started="2026-09-01T10:00:00.5+08:00", submitted="2026-09-01T10:00:01Z"),
        row("R5", started="2026-09-01T10:00:00.250000+08:00", q1=" 3 ", q2="", pick=""),
        row("R6", submitted=" 2026-12-31T23:59:59-05:30 ", q1="2.5", rater="E1", rater_unit="U2"),
        row("R7", unit="U2", started="1899-12-31T23:00:00+00:00", q1="1e0", device="dR1"),
        row("R8", unit="U3", submitted="2028-02-29T00:00:00+14:00", pick="c"),
        row("R9", unit="U1", rater="E2", rater_unit=" U3 ", q2="4"),
        row("R10", unit="U2", questionnaire=" CIT@1", q1="5", q2="5"),
    ] * 1
    rows += [row(f"X{i}", unit=f"U{i % 4}", q1=str(1 + i % 5)) for i in range(30)]
    fast = same(write(rows))
    assert fast.text_items == ["pick", "note"] and fast.item_names == ["q1", "q2"]
    assert fast.invited.sum() == 1 and fast.rater_unit.max() >= 0


def test_blank_lines_keep_the_row_numbers(monkeypatch):
    monkeypatch.setattr(reader, "CHUNK", 3)
    text = write([row("R1"), row("R2"), row("R3", q1="9")])
    lines = text.splitlines(keepends=True)
    text = "".join(lines[:2] + ["\r\n", "   \r\n"] + lines[2:] + ["\r\n"])
    fast = same(text)
    assert list(fast.row) == [2, 5, 6]


def test_empty_and_text_columns_read_the_same():
    rows = [row(f"R{i}", q2=" ", pick=["x", "y", "z", "1"][i % 4], note="") for i in range(12)]
    fast = same(write(rows))
    assert fast.empty_items == ["q2", "note"]


@pytest.mark.parametrize(
    "change",
    [
        {"response_id": " "},
        {"response_id": "R1"},  # repeats row 2
        {"unit": ""},
        {"rater_group": "  "},
        {"submitted_at": ""},
        {"submitted_at": "2026-02-30T10:00:00+08:00"},
        {"started_at": "2026-09-01T24:00:00+08:00"},
        {"started_at": "2026-09-01T10:00:00"},  # no offset
        {"started_at": "2026-09-01T10:00:00+08:60"},
        {"q1": "4x"},
        {"q1": "nan"},
    ],
)
def test_errors_name_the_same_row_and_column(monkeypatch, change):
    monkeypatch.setattr(reader, "CHUNK", 4)
    rows = [row(f"R{i}", q1=str(1 + i % 5)) for i in range(1, 12)]
    bad = dict(zip(HEAD + ITEMS + ["comment"], rows[8], strict=True)) | change
    rows[8] = list(bad.values())
    rows[10][9] = "later"  # a later error never wins over the first
    fast, slow = both(write(rows))
    assert isinstance(slow, str) and fast == slow


def test_a_short_row_and_a_stray_non_number():
    rows = [row(f"R{i}") for i in range(6)]
    short = rows[:3] + [rows[3][:-1]] + rows[4:]
    assert both(write(short)) == ["row 5, column -: 14 cells; the header has 15"] * 2
    rows[4][10] = "many"  # one stray cell in a numeric column is an error, named as before
    fast, slow = both(write(rows))
    assert fast == slow == "row 6, column q1: not a number: 'many'"


def test_utc_times_are_exact():
    stamps = ["2026-03-29T01:59:59.999999+00:00", "1970-01-01T08:00:00+08:00"]
    fast = same(write([row("A", started=stamps[0]), row("B", started=stamps[1])]))
    assert fast.started[1] == 0.0
