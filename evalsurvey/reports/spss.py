"""An SPSS system file (``.sav``) written as a stream, for exports of a million rows.

pyreadstat writes ``.sav`` files only from a whole pandas DataFrame: at a million responses
that held about 1 GB and took 103 s (``docs/benchmarks.md``). This writer needs the column
widths first (the caller reads its rows twice) and then writes case after case, so memory
stays flat. pyreadstat remains the reader that checks it, in the tests.

The layout follows the system file format as PSPP documents it
(https://www.gnu.org/software/pspp/pspp-dev/html_node/System-File-Format.html): the header,
one variable record per 8 bytes of each variable (strings over 255 bytes as 255-byte
segments, with the very long string record), variable and value labels, the machine
records, long variable names, UTF-8 as the character encoding, then the cases in the
bytecode compression every SPSS reads (small integers and blank string blocks take a byte).
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

import numpy as np

SPSS_EPOCH = datetime(1582, 10, 14)
SYSMIS = -sys.float_info.max
BIAS = 100.0
MAX_WIDTH = 32767  # the widest string SPSS holds
SEGMENT = 252  # bytes of a very long string per 255-byte segment (see the format)
ZBLOCK = 0x3FF000  # bytes of the bytecode stream per zlib block, as SPSS and PSPP write
# zlib's default: against level 1, a quarter smaller and 0.1 s more per 100,000 cases
ZLEVEL = 6
_FORMAT = {"number": 5, "text": 1, "datetime": 22}  # F, A, DATETIME


@dataclass(frozen=True)
class Variable:
    """One column: its name (letters first, at most 64 bytes), label and kind (``number``,
    ``text`` or ``datetime``: a naive local :class:`datetime`), decimals for numbers, and
    value labels (number → label) for coded answers."""

    name: str
    label: str = ""
    kind: str = "number"
    decimals: int = 0
    value_labels: dict[float, str] = field(default_factory=dict)


def _pad(data: bytes, size: int) -> bytes:
    return data[:size].ljust(size, b" ")


def _cut(text: str, limit: int) -> bytes:
    """``text`` in UTF-8, cut to at most ``limit`` bytes on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    return data[:limit].decode("utf-8", "ignore").encode("utf-8")


def _segments(width: int) -> list[int]:
    """The widths of a string's segments: one up to 255 bytes, more for a very long one."""
    if width <= 255:
        return [width]
    n = (width + SEGMENT - 1) // SEGMENT
    return [255] * (n - 1) + [width - (n - 1) * SEGMENT]


class _Cases:
    """The bytecode-compressed case data: eight command bytes, then the 8-byte blocks that
    the commands 253 announce, over and over (groups run on across cases).

    Codes are collected in a byte array and the blocks in a list, then laid out group by
    group in one numpy step per batch (:meth:`flush`). A blank run of a wide string (the tail
    of every short comment when one comment is long) is not collected code by code: whole
    groups of blank codes are only counted (:meth:`blank`) and written as they are, so a case
    costs about the same whatever the widest value of its column. ``sink`` receives the
    stream in pieces."""

    def __init__(self, sink):
        self.sink, self.codes, self.blocks = sink, bytearray(), []
        self.runs: list[tuple[int, int]] = []  # (after this many groups, blank groups)
        self.run_groups = 0

    def blank(self, n: int) -> None:
        """``n`` blank 8-byte blocks (code 254 each)."""
        codes = self.codes
        fill = -len(codes) % 8
        if n < fill + 8:
            codes.extend(b"\xfe" * n)
            return
        codes.extend(b"\xfe" * fill)  # this group ends here; whole blank groups follow it
        groups, rest = divmod(n - fill, 8)
        self.runs.append((len(codes) // 8, groups))
        self.run_groups += groups
        codes.extend(b"\xfe" * rest)

    def full(self) -> bool:
        return len(self.codes) > 1 << 16 or self.run_groups > 1 << 17

    def flush(self, final: bool = False) -> None:
        codes = self.codes
        if final and len(codes) % 8:
            codes.extend(bytes(8 - len(codes) % 8))  # 0: padding, ignored
        whole = len(codes) // 8 * 8
        if not whole:
            return
        head = np.frombuffer(bytes(codes[:whole]), np.uint8).reshape(-1, 8)
        announced = head == 253
        per_group = announced.sum(axis=1)
        n_blocks = int(per_group.sum())
        groups = len(head)
        # blank groups counted before each group (a run recorded after g groups precedes g)
        blanks = np.zeros(groups + 1, np.int64)
        if self.runs:
            at, count = np.array(self.runs, np.int64).T
            np.add.at(blanks, at, count)
        blanks = np.cumsum(blanks)
        laid = np.full((groups + n_blocks + int(blanks[-1]), 8), 254, np.uint8)
        # group g starts after g groups of codes, the blocks of the groups before it and
        # the blank groups before it
        before = np.cumsum(per_group) - per_group + blanks[:groups]
        laid[np.arange(groups) + before] = head
        if n_blocks:
            group_of = np.flatnonzero(announced.ravel()) // 8
            data = np.frombuffer(b"".join(self.blocks[:n_blocks]), np.uint8).reshape(-1, 8)
            laid[group_of + 1 + np.arange(n_blocks) + blanks[group_of]] = data
            del self.blocks[:n_blocks]
        del codes[:whole]
        self.runs, self.run_groups = [], 0
        self.sink(laid.tobytes())


class _Zlib:
    """The ZLIB-compressed data of a ``$FL3`` system file (SPSS 21 and later, PSPP, ReadStat):
    the bytecode stream cut into blocks of :data:`ZBLOCK` bytes, each its own zlib stream.
    Runs of blank string blocks shrink to almost nothing, so the file's size no longer
    follows the widest string of a column."""

    def __init__(self, write):
        self.write, self.buffer, self.sizes = write, bytearray(), []

    def __call__(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= ZBLOCK:
            self._block(bytes(self.buffer[:ZBLOCK]))
            del self.buffer[:ZBLOCK]

    def _block(self, raw: bytes) -> None:
        packed = zlib.compress(raw, ZLEVEL)
        self.write(packed)
        self.sizes.append((len(raw), len(packed)))

    def close(self) -> None:
        if self.buffer:
            self._block(bytes(self.buffer))
            self.buffer = bytearray()


def _record(kind: int, *ints: int) -> bytes:
    return struct.pack(f"<{len(ints) + 1}i", kind, *ints)


def _info(subtype: int, size: int, data: bytes) -> bytes:
    """An extension record (type 7): ``data`` as ``len(data) / size`` elements of ``size``."""
    return struct.pack("<4i", 7, subtype, size, len(data) // size) + data


def write_sav(
    out: IO[bytes],
    variables: Sequence[Variable],
    widths: dict[str, int],
    rows: Iterable[Sequence[Any]],
    n_rows: int,
    file_label: str = "",
    now: datetime | None = None,
    compression: str = "zlib",
) -> int:
    """Write ``rows`` (one value per variable, in order; ``None`` is missing) as a system
    file. ``widths`` gives each text variable's width in UTF-8 bytes (1 to 32,767; longer
    values are cut); ``n_rows`` is the number of rows that will come. Returns the rows
    written; raises :class:`ValueError` when that is not ``n_rows`` or a name is unusable.

    ``compression``: ``"zlib"`` (a ``.zsav`` file, the default: its size does not grow with
    a column's widest value; ``out`` must be seekable) or ``"bytecode"`` (a ``.sav`` every
    SPSS reads, one byte per 8 bytes of width in every case)."""
    if compression not in ("zlib", "bytecode"):
        raise ValueError(f"unknown compression {compression!r}")
    names = [v.name for v in variables]
    if len({n.lower() for n in names}) != len(names):
        raise ValueError("variable names must differ (ignoring case)")
    plan = []  # per variable: (kind, width, segment storage in 8-byte blocks)
    records, long_names, very_long, index = [], [], [], 1
    label_sets: list[tuple[dict[float, str], int]] = []
    short_n = 0
    for v in variables:
        encoded = v.name.encode("utf-8")
        if not v.name or not v.name[0].isalpha() or len(encoded) > 64 or " " in v.name:
            raise ValueError(f"not a usable SPSS variable name: {v.name!r}")
        if v.kind not in _FORMAT:
            raise ValueError(f"unknown kind {v.kind!r} of {v.name}")
        segs = None
        if v.kind == "text":
            width = widths.get(v.name, 1)
            if not 1 <= width <= MAX_WIDTH:
                raise ValueError(f"width of {v.name} must be 1 to {MAX_WIDTH}; got {width}")
            segs = _segments(width)
            plan.append((_TEXT, width, [(seg + 7) // 8 for seg in segs]))
        else:
            plan.append((_DATETIME if v.kind == "datetime" else _NUMBER, 0, []))
        first_short = None
        for k, seg in enumerate(segs or [0]):
            short_n += 1
            short = f"V{short_n}"
            first_short = first_short or short
            if v.kind == "text":
                fmt = (1 << 16) | (min(seg, 255) << 8)
            elif v.kind == "datetime":
                fmt = (22 << 16) | (20 << 8)
            else:
                fmt = (5 << 16) | (8 << 8) | v.decimals
            label = _cut(v.label, 255) if v.label and k == 0 else b""
            records.append(_record(2, seg if v.kind == "text" else 0, 1 if label else 0, 0,
                                   fmt, fmt))  # fmt: skip
            records.append(_pad(short.encode("ascii"), 8))
            if label:
                records.append(struct.pack("<i", len(label)))
                records.append(label.ljust((len(label) + 3) // 4 * 4, b" "))
            if k == 0 and v.value_labels:
                label_sets.append((v.value_labels, index))
            for _more in range((seg + 7) // 8 - 1 if v.kind == "text" else 0):
                records.append(_record(2, -1, 0, 0, 0, 0) + b" " * 8)  # continuation
            index += (seg + 7) // 8 if v.kind == "text" else 1
        long_names.append(f"{first_short}={v.name}".encode())
        if segs is not None and len(segs) > 1:
            very_long.append(f"{first_short}={widths[v.name]:05d}".encode() + b"\0\t")
    case_size = index - 1
    now = now or datetime.now()
    zipped = compression == "zlib"
    header = b"".join((
        b"$FL3" if zipped else b"$FL2", _pad(b"@(#) SPSS DATA FILE evalsurvey", 60),
        struct.pack("<5i", 2, case_size, 2 if zipped else 1, 0, n_rows),
        struct.pack("<d", BIAS),
        _pad(now.strftime("%d %b %y").encode("ascii"), 9),
        _pad(now.strftime("%H:%M:%S").encode("ascii"), 8),
        _pad(_cut(file_label, 64), 64), b"\0" * 3,
    ))  # fmt: skip
    dictionary = [header, *records]
    for labels, at in label_sets:
        dictionary.append(struct.pack("<2i", 3, len(labels)))
        for value, text in labels.items():
            data = _cut(text, 120)
            entry = struct.pack("<dB", float(value), len(data)) + data
            dictionary.append(entry.ljust((len(entry) + 7) // 8 * 8, b" "))
        dictionary.append(struct.pack("<3i", 4, 1, at))
    # machine records: version, IEEE doubles, the compression, little-endian, UTF-8
    dictionary.append(
        _info(3, 4, struct.pack("<8i", 1, 0, 0, -1, 1, 1, 2, 65001))
    )  # fmt: skip
    lowest = math.nextafter(-sys.float_info.max, 0.0)
    dictionary.append(_info(4, 8, struct.pack("<3d", SYSMIS, sys.float_info.max, lowest)))
    dictionary.append(_info(13, 1, b"\t".join(long_names)))
    if very_long:
        dictionary.append(_info(14, 1, b"".join(very_long)))
    dictionary.append(_info(20, 1, b"UTF-8"))
    dictionary.append(_record(999, 0))
    start = out.tell() if zipped else 0
    head = b"".join(dictionary)
    out.write(head)
    if zipped:
        out.write(bytes(24))  # the ZLIB data header, filled in at the end
        sink = zipper = _Zlib(out.write)
    else:
        sink = out.write
    cases = _Cases(sink)
    n = _encode(cases, plan, rows)
    cases.flush(final=True)
    if zipped:
        zipper.close()
        _zlib_index(out, start, len(head), zipper.sizes)
    if n != n_rows:
        raise ValueError(f"{n} rows written, {n_rows} announced")
    return n


_NUMBER, _DATETIME, _TEXT = range(3)
_BLANK8 = b" " * 8


def _encode(cases: _Cases, plan: list, rows: Iterable[Sequence[Any]]) -> int:
    """Every row's values as codes and blocks (the loop an export spends its time in: kept
    flat, with local names)."""
    codes, blocks = cases.codes, cases.blocks
    code, block, blank, full = codes.append, blocks.append, cases.blank, cases.full
    double = struct.Struct("<d").pack
    n = 0
    for row in rows:
        n += 1
        for (kind, width, storage), value in zip(plan, row, strict=True):
            if kind == _TEXT:
                data = b"" if value is None else str(value).encode("utf-8")
                if len(data) > width:
                    data = _cut(str(value), width)
                for k, blocks_here in enumerate(storage):
                    chunk = data[k * 255 : k * 255 + 255] if k or len(storage) > 1 else data
                    if not chunk:  # this segment and those after it are blank
                        blank(sum(storage[k:]))
                        break
                    used = (len(chunk) + 7) // 8
                    chunk = chunk.ljust(used * 8)
                    for i in range(0, used * 8, 8):
                        piece = chunk[i : i + 8]
                        if piece == _BLANK8:
                            code(254)
                        else:
                            code(253)
                            block(piece)
                    if blocks_here > used:
                        blank(blocks_here - used)
                continue
            if value is None:
                code(255)
                continue
            number = (value - SPSS_EPOCH).total_seconds() if kind == _DATETIME else float(value)
            if number != number:  # NaN: missing
                code(255)
            elif number.is_integer() and -99.0 <= number <= 151.0:
                code(int(number) + 100)
            else:
                code(253)
                block(double(number))
        if full():
            cases.flush()
    return n


def _zlib_index(out: IO[bytes], start: int, dictionary: int, sizes: list[tuple[int, int]]) -> None:
    """The ZLIB data header (where it and the trailer are) and the trailer (the bias, the
    block size and each block's place in the bytecode stream and in the file)."""
    zheader = dictionary  # offsets count from the file's first byte
    trailer_at = zheader + 24 + sum(packed for _raw, packed in sizes)
    entries = []
    raw_at, packed_at = zheader, zheader + 24
    for raw, packed in sizes:
        entries.append(struct.pack("<qqii", raw_at, packed_at, raw, packed))
        raw_at, packed_at = raw_at + raw, packed_at + packed
    out.write(struct.pack("<qqii", -int(BIAS), 0, ZBLOCK, len(sizes)) + b"".join(entries))
    end = out.tell()
    out.seek(start + zheader)
    out.write(struct.pack("<3q", zheader, trailer_at, 24 + 24 * len(sizes)))
    out.seek(end)


def text_width(values: Iterable[Any]) -> int:
    """The width in UTF-8 bytes a text variable needs for ``values`` (at least 1)."""
    return max(1, min(MAX_WIDTH, max((len(str(v).encode("utf-8")) for v in values
                                      if v is not None), default=1)))  # fmt: skip
