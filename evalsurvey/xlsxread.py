"""Every uploaded XLSX is read here, within limits, before it can cost a worker its memory or
its time: the scheme workbooks, paper forms, unit lists and invitation lists.

An XLSX is a zip of XML parts, and both layers can be made to explode: a 2 MB file can
expand to 500 MB of sheet XML, and 125 KB of shared strings can hold three million of
them. So, before anything is parsed, :func:`open_xlsx` checks the zip itself — the file's
size, the number of parts, each part's declared expanded size, their total and each part's
compression ratio — and then reads only the parts it needs, streaming, with expat:

- the bytes actually expanded are counted as they are read (declared sizes can lie), against
  the same total;
- shared strings are counted as they are read, and each text's length;
- rows and cells (the gaps a cell reference such as ``XFD1`` leaves count as cells) are
  counted as they are read, and the caller stops reading a sheet at its own row cap, so
  nothing after it is parsed;
- a document type declaration (the door to entity expansion and external entities) is
  refused; no part of an XLSX has one.

Anything past a limit, or unreadable, is a :class:`DomainError` for the ``file`` field with
a plain message. The values are those openpyxl's ``data_only`` reading gives: text, int,
float, bool, datetime (a number in a date format), or None.

Pure: no Flask, no database (the scoring package reads scheme workbooks through it).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.parsers import expat

from evalsurvey.domain.errors import DomainError

MB = 1024 * 1024
CHUNK = 64 * 1024
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 10 * MB  # the upload itself
    parts: int = 500  # zip members
    expanded_bytes: int = 50 * MB  # all parts together, as declared and as actually read
    ratio: int = 200  # expanded / compressed, for a part above ``ratio_floor``
    ratio_floor: int = 1 * MB
    strings: int = 100_000  # shared strings (a sheet of 5,000 forms needs far fewer)
    text_chars: int = 32_767  # one cell's text (Excel's own limit)
    rows: int = 20_000  # row elements read from one sheet, blank ones included
    cells: int = 300_000  # cells read from one sheet, gaps included (under a second)


DEFAULT_LIMITS = Limits()


def N_(message: str) -> str:  # marks a message for the catalogue
    return message


class Unreadable(DomainError):
    """Not a workbook that can be read (as opposed to one past a limit)."""


def unreadable() -> DomainError:
    return Unreadable(N_("无法读取这个 Excel 文件。"), "file")


def _too_large(limits: Limits) -> DomainError:
    return DomainError(
        "这个 Excel 文件解压后超过 {mb} MB 或压缩比异常，没有读取。",
        "file",
        mb=limits.expanded_bytes // MB,
    )


def _too_many_cells(n: int) -> DomainError:
    return DomainError(
        "这个 Excel 文件的单元格或文字超过 {n} 个，没有读取。请只保留需要的内容后再上传。",
        "file",
        n=n,
    )


class _Doctype(Exception):
    pass


def _local(name: str) -> str:
    """``x:row`` or ``row`` → ``row`` (namespaces are not resolved: every part is read by the
    local names of SpreadsheetML, whatever prefix a writer chose, which also reads the
    Strict variant's namespace)."""
    return name.rpartition(":")[2]


def _parser(start, end=None, text=None) -> Any:
    """An expat parser (names as written, prefix and all) that refuses any DTD."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = CHUNK

    def no_dtd(*_args) -> None:
        raise _Doctype

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    parser.ExternalEntityRefHandler = no_dtd
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    return parser


def _column(ref: str) -> int:
    """``B7`` → 2 (0 when the reference has no letters)."""
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            n = n * 26 + ord(ch) - 96
        else:
            break
    return n


def _number(raw: str) -> int | float:
    return float(raw) if ("." in raw or "e" in raw or "E" in raw) else int(raw)


class XlsxBook:
    """An opened workbook: :attr:`sheetnames` in the workbook's order, :meth:`rows` of one."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        if len(data) > limits.file_bytes:
            raise DomainError("文件不能超过 {mb} MB。", "file", mb=limits.file_bytes // MB)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
            raise unreadable() from None
        if len(infos) > limits.parts:
            raise _too_large(limits)
        total = 0
        for info in infos:
            total += info.file_size
            if total > limits.expanded_bytes:
                raise _too_large(limits)
            if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(
                info.compress_size, 1
            ):
                raise _too_large(limits)
        self._infos = {info.filename: info for info in infos}
        self._expanded = 0  # bytes actually expanded so far, all parts together
        self._strings: list[str] | None = None
        self._dates: set[int] | None = None
        self._date1904 = False
        self._sheets: dict[str, str] = {}  # name → part
        self._read_structure()

    # -- reading parts --------------------------------------------------------------------

    def _feed(self, part: str, parser) -> Iterator[None]:
        """Stream ``part`` into ``parser``, a chunk at a time (yielding after each), counting
        the bytes actually expanded."""
        info = self._infos.get(part)
        if info is None:
            raise unreadable()
        try:
            with self._zip.open(info) as fh:
                while True:
                    chunk = fh.read(CHUNK)
                    self._expanded += len(chunk)
                    if self._expanded > self.limits.expanded_bytes:
                        raise _too_large(self.limits)
                    parser.Parse(chunk, not chunk)
                    yield
                    if not chunk:
                        return
        except DomainError:
            raise
        except (_Doctype, expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError,
                ValueError, IndexError, KeyError, OverflowError):  # fmt: skip
            raise unreadable() from None

    def _parse(self, part: str, parser) -> None:
        for _ in self._feed(part, parser):
            pass

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id → (type, target part)."""
        folder, name = posixpath.split(part)
        rels_part = posixpath.join(folder, "_rels", name + ".rels")
        found: dict[str, tuple[str, str]] = {}
        if rels_part not in self._infos:
            return found

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship" and len(found) < self.limits.parts:
                target = attrs.get("Target", "")
                if attrs.get("TargetMode") == "External":
                    return
                if target.startswith("/"):
                    target = target[1:]
                else:
                    target = posixpath.normpath(posixpath.join(folder, target))
                found[attrs.get("Id", "")] = (attrs.get("Type", ""), target)

        self._parse(rels_part, _parser(start))
        return found

    def _read_structure(self) -> None:
        workbook = next(
            (t for kind, t in self._rels("").values() if kind.endswith("/officeDocument")),
            "xl/workbook.xml",
        )
        rels = self._rels(workbook)
        sheets: list[tuple[str, str]] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            name = _local(tag)
            if name == "sheet" and len(sheets) < self.limits.parts:
                rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                sheets.append((attrs.get("name", ""), rid))
            elif name == "workbookPr":
                self._date1904 = attrs.get("date1904", "") in ("1", "true")

        self._parse(workbook, _parser(start))
        for name, rid in sheets:
            kind, target = rels.get(rid, ("", ""))
            if kind.endswith("/worksheet") and target in self._infos:
                self._sheets[name] = target
        # the workbook's relationships name its strings and styles; some writers (openpyxl)
        # name them only in the content types
        types = self._content_types()
        self._strings_part = next(
            (t for kind, t in rels.values() if kind.endswith("/sharedStrings")),
            types.get("sharedStrings"),
        )
        self._styles_part = next(
            (t for kind, t in rels.values() if kind.endswith("/styles")), types.get("styles")
        )

    def _content_types(self) -> dict[str, str]:
        """``sharedStrings`` and ``styles`` → their part, as ``[Content_Types].xml`` says."""
        found: dict[str, str] = {}
        if "[Content_Types].xml" not in self._infos:
            return found

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Override":
                kind = attrs.get("ContentType", "")
                for name in ("sharedStrings", "styles"):
                    if kind.endswith(f".{name}+xml"):
                        found.setdefault(name, attrs.get("PartName", "").lstrip("/"))

        self._parse("[Content_Types].xml", _parser(start))
        return found

    @property
    def expanded_bytes(self) -> int:
        """How many bytes of XML have been expanded so far, all parts together."""
        return self._expanded

    @property
    def sheetnames(self) -> list[str]:
        """The worksheets' names (chart sheets left out), in the workbook's order."""
        return list(self._sheets)

    def _shared_strings(self) -> list[str]:
        if self._strings is not None:
            return self._strings
        strings: list[str] = []
        self._strings = strings
        if self._strings_part is None or self._strings_part not in self._infos:
            return strings
        limits = self.limits
        buffer: list[str] = []
        state = {"t": False, "phonetic": 0}

        def start(tag: str, _attrs: dict[str, str]) -> None:
            name = _local(tag)
            if name == "t":
                state["t"] = not state["phonetic"]
            elif name == "si":
                buffer.clear()
            elif name == "rPh":
                state["phonetic"] += 1

        def end(tag: str) -> None:
            name = _local(tag)
            if name == "t":
                state["t"] = False
            elif name == "rPh":
                state["phonetic"] -= 1
            elif name == "si":
                if len(strings) >= limits.strings:
                    raise _too_many_cells(limits.strings)
                text = "".join(buffer)
                if len(text) > limits.text_chars:
                    raise _long_text(limits)
                strings.append(text)

        def text(data: str) -> None:
            if state["t"]:
                buffer.append(data)
                if len(buffer) > 64 and sum(map(len, buffer)) > limits.text_chars:
                    raise _long_text(limits)

        self._parse(self._strings_part, _parser(start, end, text))
        return strings

    def _date_styles(self) -> set[int]:
        """The cell formats (``s=`` of a cell) that show a number as a date."""
        if self._dates is not None:
            return self._dates
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        dates: set[int] = set()
        self._dates = dates
        if self._styles_part is None or self._styles_part not in self._infos:
            return dates
        custom: dict[int, str] = {}
        xfs: list[int] = []
        state = {"in_xfs": False}

        def start(tag: str, attrs: dict[str, str]) -> None:
            name = _local(tag)
            if name == "numFmt":
                try:
                    custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
                except ValueError:
                    pass
            elif name == "cellXfs":
                state["in_xfs"] = True
            elif name == "xf" and state["in_xfs"]:
                if len(xfs) >= self.limits.strings:
                    raise _too_many_cells(self.limits.strings)
                try:
                    xfs.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)

        def end(tag: str) -> None:
            if _local(tag) == "cellXfs":
                state["in_xfs"] = False

        self._parse(self._styles_part, _parser(start, end))
        for index, fmt_id in enumerate(xfs):
            code = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, ""))
            if code and is_date_format(code):
                dates.add(index)
        return dates

    # -- a sheet's rows -------------------------------------------------------------------

    def rows(self, sheet: str | None = None) -> Iterator[tuple[int, tuple]]:
        """(row number, values from column A) of each row stored in ``sheet`` (the first
        worksheet when None), in order; rows the file leaves out are not given. Stop
        iterating where you have enough: nothing after is read."""
        if sheet is None:
            if not self._sheets:
                raise unreadable()
            sheet = next(iter(self._sheets))
        part = self._sheets.get(sheet)
        if part is None:
            raise KeyError(sheet)
        strings = self._shared_strings()
        dates = self._date_styles()
        limits = self.limits
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        epoch = CALENDAR_MAC_1904 if self._date1904 else CALENDAR_WINDOWS_1900
        done: list[tuple[int, tuple]] = []
        row: list[Any] = []
        text: list[str] = []
        names: dict[str, str] = {}  # tag → local name, looked up once per tag
        # the current row's number and column, rows and cells so far, the cell's type and
        # style, whether its text is being collected, how deep inside phonetic runs
        number = col = rows = cells = phonetic = 0
        kind, style, collect = "n", "0", False

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal number, col, rows, cells, phonetic, kind, style, collect
            name = names.get(tag) or names.setdefault(tag, _local(tag))
            if name == "c":
                ref = attrs.get("r")
                at = _column(ref) if ref else col + 1
                if at <= col or at > EXCEL_COLUMNS:
                    raise unreadable()
                cells += at - len(row)
                if cells > limits.cells:
                    raise _too_many_cells(limits.cells)
                col, kind, style = at, attrs.get("t", "n"), attrs.get("s", "0")
                text.clear()
            elif name == "v":
                collect = True
            elif name == "t":
                collect = not phonetic
            elif name == "rPh":
                phonetic += 1
            elif name == "row":
                ref = attrs.get("r")
                at = int(ref) if ref and ref.isdigit() else number + 1
                if at <= number or at > EXCEL_ROWS:
                    raise unreadable()
                rows += 1
                if rows > limits.rows:
                    raise DomainError("表格最多 {n} 行。", "file", n=limits.rows)
                number, col = at, 0
                row.clear()

        def end(tag: str) -> None:
            nonlocal phonetic, collect
            name = names[tag]
            if name == "c":
                if col - 1 > len(row):
                    row.extend([None] * (col - 1 - len(row)))
                row.append(_value(kind, style, "".join(text)))
            elif name == "v" or name == "t":
                collect = False
            elif name == "rPh":
                phonetic -= 1
            elif name == "row":
                done.append((number, tuple(row)))

        def chars(data: str) -> None:
            if collect:
                text.append(data)
                if len(text) > 64 and sum(map(len, text)) > limits.text_chars:
                    raise _long_text(limits)

        def _value(kind: str, style: str, raw: str) -> Any:
            if kind == "s":
                return strings[int(raw)] if raw else None
            if kind in ("inlineStr", "str", "e"):
                if len(raw) > limits.text_chars:
                    raise _long_text(limits)
                return raw
            if not raw:
                return None
            if kind == "b":
                return raw.strip() in ("1", "true")
            if kind == "d":
                return datetime.fromisoformat(raw.strip().rstrip("Z"))
            value = _number(raw.strip())
            if dates and int(style or 0) in dates:
                try:
                    return from_excel(value, epoch)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return value

        parser = _parser(start, end, chars)
        for _ in self._feed(part, parser):
            yield from done
            done.clear()

    def close(self) -> None:
        self._zip.close()


def _long_text(limits: Limits) -> DomainError:
    return DomainError("有一格超过 {n} 个字符，没有读取。", "file", n=limits.text_chars)


def open_xlsx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> XlsxBook:
    """The workbook in ``data``, its zip checked (see the module); raises
    :class:`DomainError` for the ``file`` field."""
    return XlsxBook(data, limits)
