"""Every XLSX import is read within limits (:mod:`evalsurvey.xlsxread`): decompression bombs
and millions of shared strings are refused within a second and in little memory, whether
their declared sizes are honest or lie; a sheet is read only up to the caller's row cap; the
values are those openpyxl reads; the paper-form page, the scheme page and the scheme command
answer with a plain message (the command exits 2)."""

from __future__ import annotations

import io
import random
import time
import tracemalloc
import zipfile
import zlib
from datetime import datetime

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.files.tables import read_rows
from evalsurvey.xlsxread import Limits, Unreadable, open_xlsx

NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


def _book_parts() -> dict[str, bytes]:
    """The parts of a small real workbook (openpyxl's), with a shared strings part declared
    as Excel declares it (openpyxl writes its strings inline)."""
    book = Workbook()
    book.active.append(["服务态度", "意见"])
    book.active.append([4, "很好"])
    out = io.BytesIO()
    book.save(out)
    source = zipfile.ZipFile(out)
    parts = {name: source.read(name) for name in source.namelist()}
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId9"/></Relationships>',
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts[STRINGS] = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        b'uniqueCount="1"><si><t>\xe6\x84\x8f\xe8\xa7\x81</t></si></sst>'
    )
    parts[SHEET] = parts[SHEET].replace(b'<c r="B1" t="inlineStr"><is><t>&#24847;&#35265;</t></is>',
                                        b'<c r="B1" t="s"><v>0</v>')  # fmt: skip
    return parts


def _deflated(head: bytes, unit: bytes, repeat: int, tail: bytes) -> tuple[bytes, int, int]:
    """(raw deflate stream, size, CRC) of head + unit × repeat + tail, made without
    compressing the repeats: after a full flush the compressor starts afresh, so every copy
    of the unit compresses to the same bytes."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    middle = co.compress(unit) + co.flush(zlib.Z_FULL_FLUSH)
    end = co.compress(tail) + co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(repeat):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    return start + middle * repeat + end, len(head) + len(unit) * repeat + len(tail), crc


def _xlsx_with(name: str, stream: tuple[bytes, int, int], declared: int | None = None) -> bytes:
    """A valid workbook whose part ``name`` is the given deflate stream, its size declared
    truthfully or as ``declared``."""
    compressed, size, crc = stream
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in _book_parts().items():
            if part != name:
                z.writestr(part, data)
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size, info.compress_size, info.CRC = declared or size, len(compressed), crc
        info.header_offset = z.fp.tell()
        z.fp.write(info.FileHeader())
        z.fp.write(compressed)
        z.start_dir = z.fp.tell()
        z.filelist.append(info)
        z.NameToInfo[name] = info
    return out.getvalue()


def _sheet_bomb(megabytes: int = 500) -> tuple[bytes, int, int]:
    """Sheet XML of ``megabytes`` MB compressing to about 2 MB: each expanded megabyte holds
    some varied numbers and then the same row over and over. (The varied numbers are chosen
    so that the compressed megabyte holds a newline byte, as random bytes do: Werkzeug's
    form parser refuses a file part with none in 64 KiB.)"""
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    for seed in range(20, 100):
        rng = random.Random(seed)
        varied = "".join(f"<row><c><v>{rng.randrange(10**9)}</v></c></row>" for _ in range(150))
        unit = varied.encode() + row * ((1024 * 1024 - len(varied)) // len(row))
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        if b"\n" in co.compress(unit) + co.flush(zlib.Z_FULL_FLUSH):
            break
    return _deflated(NS + b"<sheetData>", unit, megabytes, b"</sheetData></worksheet>")


def _strings_bomb(count: int = 3_000_000) -> tuple[bytes, int, int]:
    """Three million shared strings in about 125 KB."""
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    head += b"<si><t>\xe6\x9c\x8d\xe5\x8a\xa1\xe6\x80\x81\xe5\xba\xa6</t></si><si><t>x</t></si>"
    unit = b"<si><t>x</t></si>" * 10_000
    return _deflated(head, unit, count // 10_000, b"</sst>")


def _refused_quickly(data: bytes, read=None) -> DomainError:
    """Read ``data`` (all rows of its first sheet by default): the refusal, asserting it came
    within a second and, read again under tracemalloc, in under 20 MB of memory."""
    read = read or (lambda d: [r for r in open_xlsx(d).rows()])
    started = time.perf_counter()
    with pytest.raises(DomainError) as caught:
        read(data)
    elapsed = time.perf_counter() - started
    assert elapsed < 1, elapsed
    tracemalloc.start()
    try:
        with pytest.raises(DomainError):
            read(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, peak
    return caught.value


def test_a_500_mb_sheet_in_2_mb_is_refused_within_a_second():
    bomb = _xlsx_with(SHEET, _sheet_bomb())
    assert 1.5e6 < len(bomb) < 3e6  # what the probe sent: about 2 MB
    assert zipfile.ZipFile(io.BytesIO(bomb)).testzip() is None  # a valid zip
    error = _refused_quickly(bomb)
    assert error.message.startswith("这个 Excel 文件解压后超过 {mb} MB") and error.field == "file"
    # the same through the tables every import reads
    _refused_quickly(bomb, lambda d: read_rows("forms.xlsx", d))


def test_a_bomb_whose_declared_size_lies_is_refused_within_a_second():
    # declared as 40 MB: under every check on the zip, so it is read, until the rows stop it
    bomb = _xlsx_with(SHEET, _sheet_bomb(), declared=40 * 1024 * 1024)
    assert _refused_quickly(bomb).message == "表格最多 {n} 行。"
    error = _refused_quickly(bomb, lambda d: read_rows("forms.xlsx", d))
    assert error.message == "一次最多导入 {n} 行。"
    # small enough to pass every check on the zip: expanding stops at the declared size
    small = _xlsx_with(SHEET, _sheet_bomb(), declared=900 * 1024)
    error = _refused_quickly(small)
    assert isinstance(error, Unreadable)


def test_three_million_shared_strings_are_refused_within_a_second():
    bomb = _xlsx_with(STRINGS, _strings_bomb())
    assert len(bomb) < 200_000
    error = _refused_quickly(bomb)
    assert "解压后超过" in error.message
    # declared as 4 MB (under the ratio check): the count stops it, not the end of the part
    lying = _xlsx_with(STRINGS, _strings_bomb(), declared=4 * 1024 * 1024)
    error = _refused_quickly(lying)
    assert error.message.startswith("这个 Excel 文件的单元格或文字超过")


def test_shared_strings_past_the_count_are_refused():
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    strings = b"".join(b"<si><t>text %d</t></si>" % n for n in range(30))
    data = _xlsx_with(STRINGS, _deflated(head, strings, 1, b"</sst>"))
    with pytest.raises(DomainError, match="超过 20 个"):
        next(open_xlsx(data, Limits(strings=20)).rows())
    assert [r for _n, r in open_xlsx(data, Limits(strings=30)).rows()][0] == ("服务态度", "text 0")


def test_a_sheet_is_read_only_up_to_where_the_caller_stops():
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n)
                    for n in range(1, 200_001))  # fmt: skip
    data = _xlsx_with(SHEET, _deflated(NS + b"<sheetData>", rows, 1, b"</sheetData></worksheet>"))
    book = open_xlsx(data)
    first = []
    for number, row in book.rows():
        first.append(row[0])
        if number == 10:
            break
    assert first == list(range(1, 11))
    assert book.expanded_bytes < len(rows) / 10  # the rest was never expanded
    # the tables importers read: refused one row past the cap, before the rest is read
    started = time.perf_counter()
    with pytest.raises(DomainError) as caught:
        read_rows("forms.xlsx", data, max_rows=5000)
    assert caught.value.message == "一次最多导入 {n} 行。" and caught.value.params == {"n": 5000}
    assert time.perf_counter() - started < 1
    # a limit on row elements whatever the caller does
    with pytest.raises(DomainError, match="表格最多 1000 行"):
        list(open_xlsx(data, Limits(rows=1000)).rows())


def test_cells_far_to_the_right_count_as_cells():
    row = b'<row><c r="XFD%d"><v>1</v></c></row>'
    rows = b"".join(row % n for n in range(1, 101))
    data = _xlsx_with(SHEET, _deflated(NS + b"<sheetData>", rows, 1, b"</sheetData></worksheet>"))
    with pytest.raises(DomainError, match="超过 300000 个"):
        list(open_xlsx(data).rows())


def test_entities_and_overlong_text_are_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>&lol2;</t></si></sst>"
    )
    with pytest.raises(Unreadable):
        list(open_xlsx(_xlsx_with(STRINGS, _deflated(laughs, b"", 0, b""))).rows())
    long = NS + b'<sheetData><row><c t="inlineStr"><is><t>' + b"x" * 40_000 + b"</t></is></c>"
    data = _xlsx_with(SHEET, _deflated(long, b"", 0, b"</row></sheetData></worksheet>"))
    with pytest.raises(DomainError, match="超过 32767 个字符"):
        list(open_xlsx(data).rows())


def test_not_a_zip_too_many_parts_and_too_large_a_file():
    with pytest.raises(Unreadable):
        open_xlsx(b"PK\x03\x04 not really")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in range(600):
            z.writestr(f"x/{n}.xml", b"")
    with pytest.raises(DomainError, match="解压后超过"):
        open_xlsx(out.getvalue())
    with pytest.raises(DomainError, match="文件不能超过"):
        open_xlsx(b"PK" + b"\0" * 2048, Limits(file_bytes=1024))


def test_values_as_openpyxl_reads_them():
    book = Workbook()
    sheet = book.active
    sheet.append(["服务态度", "分数", "日期", "是否"])
    sheet.append([5, 7.5, datetime(2026, 11, 20), True])
    sheet.append([None, -3, datetime(2026, 11, 20, 9, 30), False])
    sheet["F7"] = "远处"
    sheet["B9"] = "=1+1"  # no cached value: empty, as data_only reads it
    book.create_sheet("二").append(["a", 1])
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    ours = open_xlsx(data)
    assert ours.sheetnames == ["Sheet", "二"]
    expected = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    theirs = [tuple(v for v in row) for row in expected.worksheets[0].iter_rows(values_only=True)]
    for number, row in ours.rows():
        padded = row + (None,) * (len(theirs[number - 1]) - len(row))
        assert padded == theirs[number - 1]
    assert [r for _n, r in ours.rows("二")] == [("a", 1)]


def test_the_scheme_command_exits_2_and_the_scheme_page_answers_in_words(tmp_path):
    from evalsurvey.cli import main

    path = tmp_path / "scheme.xlsx"
    path.write_bytes(_xlsx_with(SHEET, _sheet_bomb(100)))
    result = CliRunner().invoke(main, ["scheme", "check", str(path)])
    assert result.exit_code == 2
    assert "expands to more than 50 MB" in result.output and "Traceback" not in result.output


def test_rich_text_phonetic_runs_and_prefixed_names():
    strings = (
        '<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<x:si><x:r><x:t>服务</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>态度</x:t></x:r>"
        "<x:rPh sb='0' eb='1'><x:t>ふりがな</x:t></x:rPh></x:si></x:sst>"
    ).encode()
    sheet = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:sheetData><x:row r="2"><x:c r="B2" t="s"><x:v>0</x:v></x:c>'
        b'<x:c r="C2" t="inlineStr"><x:is><x:t xml:space="preserve"> 4 </x:t></x:is></x:c>'
        b'<x:c r="D2" t="b"><x:v>1</x:v></x:c><x:c r="E2"><x:f>1+1</x:f><x:v>2</x:v></x:c>'
        b"</x:row></x:sheetData></x:worksheet>"
    )
    parts = _book_parts()
    parts[STRINGS], parts[SHEET] = strings, sheet
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    expected = load_workbook(io.BytesIO(out.getvalue()), read_only=True, data_only=True)
    theirs = list(expected.worksheets[0].iter_rows(min_row=2, values_only=True))[0]
    assert list(open_xlsx(out.getvalue()).rows()) == [(2, (None, "服务态度", " 4 ", True, 2))]
    assert theirs == (None, "服务态度", " 4 ", True, 2)
