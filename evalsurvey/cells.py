"""Spreadsheet cells that cannot run: the one rule for every CSV and XLSX the app writes.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is one
Excel, LibreOffice or Google Sheets may take for a formula (``=HYPERLINK(...)`` typed by a
citizen as a comment, a unit named ``-1+2``). :func:`inert` puts a single quote (``'``) in
front of such text (the OWASP rule for CSV injection): the cell is then plain text in every
program, also after someone edits it or saves the sheet again as CSV. Only text is touched: a
number stays a number, a negative one included.

Text that already begins with quotes followed by one of those characters gets one more quote,
so that :func:`original` (for the app's own workbooks read back: schemes, paper forms) gives
exactly what was written, whatever it was.

Written once here, without dependencies, so that the pure packages (``scoring``, ``reports``)
and the domain use the same rule; :func:`xlsx_row` makes openpyxl cells that are always text.
The response interchange CSV is the one exception: a data contract for other systems, written
byte for byte as ``docs/design.md`` says, and offered as a data file, not for Excel.
"""

from __future__ import annotations

from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """``value`` as a cell no spreadsheet runs: text that begins like a formula gets a leading
    ``'``; anything else (numbers, dates, ``None``, other text) is returned as it is."""
    if isinstance(value, str) and value.lstrip("'").startswith(DANGEROUS):
        return "'" + value
    return value


def original(text: str) -> str:
    """The text :func:`inert` was given, from what it returned (text not written by it,
    without such a quote, is returned as it is)."""
    if text.startswith("'") and text.lstrip("'").startswith(DANGEROUS):
        return text[1:]
    return text


def xlsx_row(sheet, values, font=None) -> list:
    """openpyxl cells for ``sheet.append`` (normal or write-only sheets): each text made
    :func:`inert` and typed as text, so that openpyxl never turns it into a formula (it does
    for any text beginning with ``=``) or an error value (``#N/A``); other values as they are.
    """
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=inert(value))
        if isinstance(value, str):
            cell.data_type = "s"
        if font is not None:
            cell.font = font
        cells.append(cell)
    return cells
