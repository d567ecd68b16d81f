"""The one rule for spreadsheet cells (evalsurvey.cells): text that begins like a formula gets
a leading quote, numbers stay numbers, and the app's own readers get back exactly what was
written."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from evalsurvey.cells import DANGEROUS, inert, original, xlsx_row
from evalsurvey.domain.files.exports import results_xlsx, write_csv

PAYLOADS = ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_beginning_like_a_formula_gets_a_quote_and_comes_back(payload):
    assert inert(payload) == "'" + payload
    assert original(inert(payload)) == payload


@pytest.mark.parametrize("value", [-1, -1.5, 0, 3, 2.5, None, True, datetime(2026, 1, 2)])
def test_numbers_and_other_values_stay_as_they_are(value):
    assert inert(value) is value  # a negative number is a number, not text


@pytest.mark.parametrize("text", ["", "社区", " =1", "a=1", "'abc", "1-2", "http://x"])
def test_harmless_text_is_untouched(text):
    assert inert(text) == text and original(text) == text


def test_text_already_quoted_before_a_formula_gets_one_more_quote():
    assert inert("'=1") == "''=1" and original("''=1") == "'=1"
    assert inert("''@x") == "'''@x" and original(inert("''@x")) == "''@x"


@given(st.text())
def test_inert_is_never_a_formula_and_original_undoes_it(text):
    made = inert(text)
    assert not made.startswith(DANGEROUS)
    assert original(made) == text


def test_xlsx_row_types_text_as_text_in_both_openpyxl_modes():
    for write_only in (False, True):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("s")
        sheet.append(xlsx_row(sheet, [*PAYLOADS, "#N/A", -3, 1.5, None]))
        out = io.BytesIO()
        book.save(out)
        got = load_workbook(io.BytesIO(out.getvalue()))["s"]
        cells = list(got.iter_rows())[0]
        assert [c.data_type for c in cells[:7]] == ["s"] * 7  # not 'f', not the error 'e'
        assert cells[0].value == "'" + PAYLOADS[0] and cells[6].value == "#N/A"
        assert [c.value for c in cells[7:9]] == [-3, 1.5]
        assert all(c.data_type == "n" for c in cells[7:9])


def test_the_csv_and_xlsx_writers_of_the_exports_use_the_rule():
    header = ["+rank", "name", "change"]
    body = [[1, p, -2.5] for p in PAYLOADS]
    text = io.StringIO()
    write_csv(text, header, body)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    assert rows[0][0] == "'+rank"
    assert [r[1] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    assert all(r[2] == "-2.5" for r in rows[1:])  # a number, written as the number it is
    out = io.BytesIO()
    results_xlsx(out, "=title", header, body)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    names = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" and c.value.startswith("'") for c in names)
    assert [row[2].value for row in sheet.iter_rows(min_row=2)] == [-2.5] * len(PAYLOADS)
