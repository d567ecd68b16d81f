"""The streamed XLSX writer: what goes in reads back the same, typed, in openpyxl and pandas."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from evalsurvey.reports.sheet import column_letter, write_sheet


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"
    ]  # fmt: skip


def test_values_read_back_typed_and_text_is_never_a_formula():
    header = [f"列{i}" for i in range(30)]  # past column Z
    rows = [
        ["=1+1", "+86 10 1234", "-3", "@SUM(A1)", " padded ", "a&b<c>", "x\x01y", 4, 2.5,
         datetime(2026, 11, 30, 9, 15, 7), None, "", True] + [7] * 17,
        ["中文 评价"] + [None] * 28 + ["last"],
    ]  # fmt: skip
    out = io.BytesIO()
    assert write_sheet(out, "答卷", header, [10] * 30, iter(rows)) == 2
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet.title == "答卷" and sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == header and sheet["A1"].font.b
    got = [c.value for c in sheet[2]]
    # text beginning like a formula gets the apostrophe of evalsurvey.cells.inert
    assert got[:10] == ["'=1+1", "'+86 10 1234", "'-3", "'@SUM(A1)", " padded ", "a&b<c>", "xy",
                        4, 2.5, datetime(2026, 11, 30, 9, 15, 7)]  # fmt: skip
    assert sheet["A2"].data_type == "s"  # text, not a formula
    assert got[10:13] == [None, None, True] and got[13:] == [7] * 17
    assert sheet["J2"].is_date and sheet["J2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["A3"].value == "中文 评价" and sheet["AD3"].value == "last"
    assert sheet.column_dimensions["A"].width == 10


def test_pandas_reads_it_and_the_package_is_a_valid_zip():
    pd = pytest.importorskip("pandas")
    out = io.BytesIO()
    write_sheet(out, "s", ["a", "b"], [8, 8], ([i, f"r{i}"] for i in range(1000)))
    assert zipfile.ZipFile(io.BytesIO(out.getvalue())).testzip() is None
    frame = pd.read_excel(io.BytesIO(out.getvalue()))
    assert list(frame.columns) == ["a", "b"] and len(frame) == 1000
    assert frame["a"].sum() == sum(range(1000)) and frame["b"].iloc[-1] == "r999"
