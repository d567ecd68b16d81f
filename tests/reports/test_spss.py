"""The streamed SPSS writer: pyreadstat (ReadStat, what SPSS users' tools build on) and GNU PSPP
read back every value, label and width, including strings longer than 255 bytes, from the
zlib-compressed file (``.zsav``) the export writes and from the bytecode ``.sav``."""

from __future__ import annotations

import math
import shutil
import subprocess
from datetime import datetime

import pytest

from evalsurvey.reports.spss import Variable, text_width, write_sav

pyreadstat = pytest.importorskip("pyreadstat")


def test_values_labels_and_very_long_strings_read_back(tmp_path):
    long_comment = "等候时间太长，" * 100  # 700 characters, 2,100 bytes: nine segments
    variables = [
        Variable("id", "编号", "text"),
        Variable("submitted", "提交时间", "datetime"),
        Variable(
            "attitude",
            "工作人员服务态度",
            "number",
            value_labels={5.0: "非常满意", 4.0: "满意", 1.0: "非常不满意"},
        ),  # fmt: skip
        Variable("points_given", "专家打分", "number", decimals=2),
        Variable("comment", "意见和建议", "text"),
    ]
    rows = [
        ["R1", datetime(2026, 11, 30, 9, 15, 7), 5, 12.5, long_comment],
        ["R2", None, None, -250.25, ""],
        ["R3", datetime(1999, 1, 1), 1, 1e6, "很好 "],
    ]
    widths = {"id": text_width(r[0] for r in rows), "comment": text_width(r[4] for r in rows)}
    assert widths["comment"] == len(long_comment.encode("utf-8"))
    path = tmp_path / "out.sav"
    with open(path, "wb") as out:
        assert write_sav(out, variables, widths, iter(rows), 3, file_label="2026H2") == 3
    frame, meta = pyreadstat.read_sav(str(path))
    assert list(frame.columns) == ["id", "submitted", "attitude", "points_given", "comment"]
    assert meta.column_names_to_labels["attitude"] == "工作人员服务态度"
    assert meta.variable_value_labels["attitude"] == {5.0: "非常满意", 4.0: "满意",
                                                      1.0: "非常不满意"}  # fmt: skip
    assert meta.original_variable_types["points_given"] == "F8.2"
    assert list(frame["id"]) == ["R1", "R2", "R3"]
    assert frame["comment"][0] == long_comment and frame["comment"][1] == ""
    assert frame["comment"][2].rstrip() == "很好"
    assert frame["submitted"][0] == datetime(2026, 11, 30, 9, 15, 7)
    assert frame["submitted"].isna()[1] and frame["submitted"][2] == datetime(1999, 1, 1)
    assert frame["attitude"][0] == 5 and math.isnan(frame["attitude"][1])
    assert list(frame["points_given"]) == [12.5, -250.25, 1e6]
    assert meta.number_rows == 3 and meta.file_label == "2026H2"


def test_many_rows_stream_and_the_count_is_checked(tmp_path):
    variables = [Variable("n", "n"), Variable("t", "t", "text")]
    path = tmp_path / "big.sav"
    with open(path, "wb") as out:
        write_sav(out, variables, {"t": 3}, ([i, f"r{i % 7}"] for i in range(20_000)), 20_000)
    frame, _meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 20_000 and frame["n"].sum() == sum(range(20_000))
    assert frame["t"][19_999] == "r0"  # 19,999 = 7 × 2,857
    with pytest.raises(ValueError), open(tmp_path / "short.sav", "wb") as out:
        write_sav(out, variables, {"t": 3}, iter([[1, "a"]]), 2)
    with pytest.raises(ValueError), open(tmp_path / "x.sav", "wb") as out:
        write_sav(out, [Variable("1bad")], {}, [], 0)


def _comment_file(path, widest: int, compression: str = "zlib", n: int = 20_000) -> float:
    """``n`` cases with a short comment each, the first one ``widest`` bytes long; returns
    the seconds of processor time the writing took (this thread's only: in the whole suite
    another test's leftover thread may be busy, and the process's time counted it once)."""
    import time

    variables = [Variable("id", "编号", "text"), Variable("score"), Variable("comment", "", "text")]
    first = "长" * (widest // 3)
    rows = ([f"R{i}", i % 5, first if i == 0 else f"很好{i % 3}"] for i in range(n))
    widths = {"id": 6, "comment": max(len(first.encode()), 7)}
    started = time.thread_time()
    with open(path, "wb") as out:
        write_sav(out, variables, widths, rows, n, compression=compression)
    return time.thread_time() - started


def test_one_wide_comment_costs_neither_size_nor_time(tmp_path):
    """One 6,000-byte comment made every case 750 blocks wide: the old writer spent a loop
    turn on each (about 100 times the time) and a byte on each (85 MB per 100,000 cases).
    Blank runs are now one step, and zlib compression squeezes them almost out of the file."""
    narrow = _comment_file(tmp_path / "narrow.zsav", 9)
    wide = _comment_file(tmp_path / "wide.zsav", 6000)
    narrow_size = (tmp_path / "narrow.zsav").stat().st_size
    wide_size = (tmp_path / "wide.zsav").stat().st_size
    # what is left: deflate codes a run of at most 258 equal bytes at a time, about 5 bytes
    # per case for the 750 blank blocks (the bytecode .sav below: 750 bytes per case)
    assert wide_size - narrow_size < 8 * 20_000, (narrow_size, wide_size)
    assert wide < 3 * narrow + 0.2, (narrow, wide)
    # the bytecode .sav has no way to skip the blanks: a byte per 8 bytes of width per case
    _comment_file(tmp_path / "wide.sav", 6000, "bytecode")
    assert (tmp_path / "wide.sav").stat().st_size > 20_000 * 750
    for name in ("wide.zsav", "wide.sav"):
        frame, _meta = pyreadstat.read_sav(str(tmp_path / name))
        assert len(frame) == 20_000 and frame["comment"][0] == "长" * 2000
        assert frame["comment"][19_999] == "很好1" and frame["score"][19_999] == 4


def test_the_zlib_index_lays_blocks_as_spss_does(tmp_path):
    """More than one zlib block (4,190,208 bytes of cases each): the trailer's offsets add
    up, and pyreadstat reads every case across the block boundaries."""
    import struct

    path = tmp_path / "big.zsav"
    variables = [Variable("n"), Variable("t", "", "text")]
    rows = ([i + 0.5, f"{i:040d}"] for i in range(150_000))  # ~7.8 MB of bytecode
    with open(path, "wb") as out:
        write_sav(out, variables, {"t": 40}, rows, 150_000)
    data = path.read_bytes()
    assert data[:4] == b"$FL3"
    zheader = data.index(struct.pack("<2i", 999, 0)) + 8
    at, trailer, length = struct.unpack_from("<3q", data, zheader)
    assert at == zheader and trailer + length == len(data)
    bias, zero, block, n_blocks = struct.unpack_from("<qqii", data, trailer)
    assert (bias, zero, block, n_blocks) == (-100, 0, 0x3FF000, 2) and length == 24 + 24 * 2
    raw_at, packed_at = zheader, zheader + 24
    for k in range(n_blocks):
        entry = struct.unpack_from("<qqii", data, trailer + 24 + 24 * k)
        assert entry[:2] == (raw_at, packed_at)
        raw_at, packed_at = raw_at + entry[2], packed_at + entry[3]
    assert packed_at == trailer
    frame, _meta = pyreadstat.read_sav(str(path))
    assert len(frame) == 150_000 and frame["n"][149_999] == 149_999.5
    assert frame["t"][77_777] == f"{77_777:040d}"


PSPP = shutil.which("pspp")


@pytest.mark.skipif(PSPP is None, reason="PSPP is not installed (Debian: apt-get install pspp)")
@pytest.mark.parametrize("compression", ["zlib", "bytecode"])
def test_pspp_reads_every_value_back(tmp_path, compression):
    """GNU PSPP, an independent reader: it opens the file without a warning and saves it
    again as its own system file, which holds exactly the values and labels we wrote."""
    long_comment = "等候时间太长，\r\n" * 90  # 810 characters, 2,250 bytes: ten segments
    variables = [
        Variable("id", "编号", "text"),
        Variable("submitted", "提交时间", "datetime"),
        Variable("attitude", "工作人员服务态度", "number", value_labels={5.0: "非常满意"}),
        Variable("points_given", "专家打分", "number", decimals=2),
        Variable("comment", "意见和建议", "text"),
    ]
    rows = [
        ["R1", datetime(2026, 11, 30, 9, 15, 7), 5, 12.5, long_comment],
        ["R2", None, None, -250.25, ""],
        ["R3", datetime(2001, 1, 1), 1, 1e6, "一\r二\r\n三\n四 👍"],
    ]
    widths = {"id": 2, "comment": text_width(r[4] for r in rows)}
    path = tmp_path / "in.sav"
    with open(path, "wb") as out:
        write_sav(
            out, variables, widths, iter(rows), 3, file_label="2026H2", compression=compression
        )
    syntax = tmp_path / "back.sps"
    syntax.write_text(
        f"GET FILE='{path}'.\nSAVE OUTFILE='{tmp_path / 'back.sav'}' /UNCOMPRESSED.\n",
        encoding="utf-8",
    )
    done = subprocess.run([PSPP, "-O", "format=txt", "-o", str(tmp_path / "log.txt"),
                           str(syntax)], capture_output=True, text=True, timeout=60)  # fmt: skip
    log = (tmp_path / "log.txt").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0 and "warning" not in (done.stdout + done.stderr + log).lower()
    frame, meta = pyreadstat.read_sav(str(tmp_path / "back.sav"))
    assert list(frame["id"]) == ["R1", "R2", "R3"]
    assert list(frame["comment"]) == [long_comment, "", rows[2][4]]
    assert frame["submitted"][0] == datetime(2026, 11, 30, 9, 15, 7)
    assert frame["submitted"].isna()[1] and frame["submitted"][2] == datetime(2001, 1, 1)
    assert frame["attitude"][0] == 5 and math.isnan(frame["attitude"][1])
    assert list(frame["points_given"]) == [12.5, -250.25, 1e6]
    assert meta.column_names_to_labels["comment"] == "意见和建议"
    assert meta.variable_value_labels["attitude"] == {5.0: "非常满意"}
