"""Tables people upload: CSV saved by any Excel (UTF-8 with or without BOM, or GB18030/GBK
from a Chinese Windows) or an XLSX workbook, with English or Chinese headers.

:func:`read_table` turns the file into the CSV text the importers read, its header row in the
importer's column names, so every import keeps one parser and its row/column messages.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping

from evalsurvey.domain.errors import DomainError
from evalsurvey.xlsxread import Limits, open_xlsx

MAX_ROWS = 5000  # rows after the header, in any one upload
FIELD_MAX = 32_767  # characters in one cell: Excel's own limit
MAX_FILE_BYTES = 5 * 1024 * 1024  # the largest table upload (see LARGE_UPLOADS)

# Chinese (and spaced or capitalised English) headers → the importer's column names
UNIT_HEADERS = {
    "code": "code", "编码": "code", "单位编码": "code", "代码": "code",
    "name": "name", "名称": "name", "单位名称": "name", "单位": "name",
    "type": "type", "类型": "type", "单位类型": "type",
    "parent": "parent", "上级": "parent", "上级编码": "parent", "上级单位编码": "parent",
    "上级单位": "parent",
}  # fmt: skip


PEOPLE_HEADERS = {
    "name": "name", "姓名": "name", "contact": "contact", "联系方式": "contact", "电话": "contact",
    "手机": "contact", "rater_code": "rater_code", "评委代号": "rater_code",
    "评委编号": "rater_code", "rater_unit": "rater_unit", "所在单位编码": "rater_unit",
    "所在单位": "rater_unit",
}  # fmt: skip


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 — the superset of GBK that Excel on a Chinese
    Windows writes. A file that is neither is refused with the byte where it broke, and so
    is one with a NUL byte (no text file has one; PostgreSQL cannot store it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise DomainError(
                "文件既不是 UTF-8 也不是 GBK 编码的文本（第 {byte} 字节）。", "file", byte=exc.start
            ) from None
    if "\x00" in text:
        raise DomainError(
            "文件包含 NUL 字符（第 {byte} 字节），不是文本文件。", "file", byte=data.index(b"\x00")
        )
    return text


def _xlsx_rows(data: bytes, max_rows: int) -> list[list[str]]:
    """The first sheet's non-blank rows as text, through the bounded reader: reading stops
    one row past ``max_rows`` (after the header)."""
    book = open_xlsx(data, Limits(file_bytes=MAX_FILE_BYTES, text_chars=FIELD_MAX))
    rows: list[list[str]] = []
    sheet = book.rows()
    try:
        for _number, row in sheet:
            cells = [
                "" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in row
            ]
            if any(c.strip() for c in cells):
                rows.append(cells)
                if len(rows) > max_rows + 1:
                    break
    finally:
        sheet.close()  # the part stops being expanded here
        book.close()
    return rows


def _csv_rows(text: str, max_rows: int) -> list[list[str]]:
    """The CSV's rows, read one past ``max_rows`` (after the header) and no further; a field
    longer than :data:`FIELD_MAX` is refused with its row."""
    reader = csv.reader(io.StringIO(text))
    rows: list[list[str]] = []
    try:
        for row in reader:
            if any(len(cell) > FIELD_MAX for cell in row):
                raise DomainError(
                    "第 {row} 行有一格超过 {n} 个字符。", "file", row=reader.line_num, n=FIELD_MAX
                )
            rows.append(row)
            if len(rows) > max_rows + 1:
                break
    except csv.Error:
        # the csv module's own limit (csv.field_size_limit(), 131,072 by default) or a
        # broken quote: either way the row cannot be read
        raise DomainError(
            "第 {row} 行无法读取（一格最多 {n} 个字符）。", "file", row=reader.line_num, n=FIELD_MAX
        ) from None
    return rows


def read_rows(filename: str, data: bytes, max_rows: int = MAX_ROWS) -> list[list[str]]:
    """The uploaded table's rows as text cells (an XLSX's first sheet, or CSV in UTF-8 or
    GB18030), the header row first. More than ``max_rows`` rows after the header is refused
    as soon as the next row is read; nothing after it is."""
    if len(data) > MAX_FILE_BYTES:
        raise DomainError("文件不能超过 {mb} MB。", "file", mb=MAX_FILE_BYTES // (1024 * 1024))
    if os.path.splitext(filename or "")[1].lower() == ".xlsx" or data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data, max_rows)
    else:
        rows = _csv_rows(decode_text(data), max_rows)
    if len(rows) > max_rows + 1:
        raise DomainError("一次最多导入 {n} 行。", "file", n=max_rows)
    return rows


def header_key(text: str) -> str:
    """A header as looked up: trimmed, lower case, inner spaces collapsed."""
    return " ".join(text.split()).lower()


def read_table(
    filename: str, data: bytes, headers: Mapping[str, str], max_rows: int = MAX_ROWS
) -> str:
    """The uploaded table as CSV text with its headers renamed by ``headers`` (unknown
    headers are kept as they are, so the importer names them in its message)."""
    rows = read_rows(filename, data, max_rows)
    if not rows:
        return ""
    rows[0] = [headers.get(h.strip().lower(), headers.get(h.strip(), h.strip())) for h in rows[0]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
