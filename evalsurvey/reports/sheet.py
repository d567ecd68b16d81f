"""A one-sheet XLSX workbook written as a stream, for exports of a million rows.

openpyxl's write-only mode was the first choice and stays for the small exports; at a million
responses it spends most of its time building each cell's XML (10 s per 100,000 rows, against
a 60 s target for 1,000,000; see ``docs/benchmarks.md``). This writer emits the sheet's XML
row by row straight into the zip stream: memory stays flat whatever the row count.

What it writes is plain SpreadsheetML that Excel, LibreOffice, openpyxl and pandas read:
text as inline strings (a carriage return kept as ``&#13;``; a text cell is never a formula;
text that begins like one also gets a leading ``'`` from :func:`evalsurvey.cells.inert`, the
rule of every sheet the app writes),
numbers as numbers, :class:`datetime.datetime` values as real Excel dates in a date format,
``None`` as an empty cell; a bold, frozen header row and column widths.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from evalsurvey.cells import inert

EXCEL_EPOCH = datetime(1899, 12, 30)
# characters XML 1.0 cannot carry at all: dropped from text cells
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""  # noqa: E501
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""  # noqa: E501
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name={name} sheetId="1" r:id="rId1"/></sheets>
</workbook>"""  # noqa: E501
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""  # noqa: E501
# style 0: default; 1: a date and time; 2: bold (the header)
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""  # noqa: E501
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
)


def column_letter(i: int) -> str:
    """The column's letters for a 0-based index: 0 → A, 25 → Z, 26 → AA."""
    name = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text(value: str) -> str:
    if _NEEDS_ESCAPE.search(value):
        value = _ILLEGAL.sub("", value)
    value = inert(value)  # after the dropped characters: "\x01=1" is "=1" in the file
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    if _NEEDS_ESCAPE.search(value):
        # a carriage return as a character reference: a literal one is read back as a line
        # feed (XML's end-of-line handling), so "a\r\nb" would become "a\nb"
        value = escape(value, {"\r": "&#13;"})
    return f"<is><t{space}>{value}</t></is>"


def write_sheet(
    out: IO[bytes],
    title: str,
    header: Sequence[str],
    widths: Sequence[float],
    rows: Iterable[Sequence[Any]],
    compresslevel: int = 1,
) -> int:
    """Write a workbook of one sheet to ``out``: ``header`` in bold and frozen, then ``rows``
    as they come (an iterator is read once). Returns the number of rows written.

    ``compresslevel`` is zlib's: 1 is several times faster than the default and the file is
    only a little larger (measured in ``docs/benchmarks.md``).
    """
    letters = [column_letter(i) for i in range(len(header))]
    n = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("_rels/.rels", _ROOT_RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK.format(name=quoteattr(title[:31])))
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        book.writestr("xl/styles.xml", _STYLES)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            parts: list[str] = [_SHEET_HEAD, "<cols>"]
            for i, width in enumerate(widths, start=1):
                parts.append(f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>')
            parts.append('</cols><sheetData><row r="1">')
            for letter, value in zip(letters, header, strict=True):
                parts.append(f'<c r="{letter}1" s="2" t="inlineStr">{_text(str(value))}</c>')
            parts.append("</row>")
            raw.write("".join(parts).encode("utf-8"))
            buffer: list[str] = []
            for n, row in enumerate(rows, start=1):  # noqa: B007 - n is the count afterwards
                r = n + 1
                buffer.append(f'<row r="{r}">')
                for letter, value in zip(letters, row, strict=False):
                    if value is None or value == "":
                        continue
                    if isinstance(value, str):
                        buffer.append(f'<c r="{letter}{r}" t="inlineStr">{_text(value)}</c>')
                    elif isinstance(value, datetime):
                        serial = (value - EXCEL_EPOCH).total_seconds() / 86400
                        buffer.append(f'<c r="{letter}{r}" s="1"><v>{serial!r}</v></c>')
                    elif isinstance(value, bool):
                        buffer.append(f'<c r="{letter}{r}" t="b"><v>{int(value)}</v></c>')
                    else:
                        buffer.append(f'<c r="{letter}{r}"><v>{value!r}</v></c>')
                buffer.append("</row>")
                if len(buffer) > 20_000:
                    raw.write("".join(buffer).encode("utf-8"))
                    buffer.clear()
            buffer.append("</sheetData></worksheet>")
            raw.write("".join(buffer).encode("utf-8"))
    return n
