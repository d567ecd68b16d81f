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
    Windows writes. A file that is neither is refused with the byte where it broke."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise DomainError(
            "文件既不是 UTF-8 也不是 GBK 编码的文本（第 {byte} 字节）。", "file", byte=exc.start
        ) from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same answer
        raise DomainError("无法读取这个 Excel 文件。", "file") from None
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in row]
        if any(c.strip() for c in cells):
            rows.append(cells)
    book.close()
    return rows


def read_rows(filename: str, data: bytes) -> list[list[str]]:
    """The uploaded table's rows as text cells (an XLSX's first sheet, or CSV in UTF-8 or
    GB18030), the header row first."""
    if os.path.splitext(filename or "")[1].lower() == ".xlsx" or data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    return list(csv.reader(io.StringIO(decode_text(data))))


def header_key(text: str) -> str:
    """A header as looked up: trimmed, lower case, inner spaces collapsed."""
    return " ".join(text.split()).lower()


def read_table(filename: str, data: bytes, headers: Mapping[str, str]) -> str:
    """The uploaded table as CSV text with its headers renamed by ``headers`` (unknown
    headers are kept as they are, so the importer names them in its message)."""
    rows = read_rows(filename, data)
    if not rows:
        return ""
    rows[0] = [headers.get(h.strip().lower(), headers.get(h.strip(), h.strip())) for h in rows[0]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
