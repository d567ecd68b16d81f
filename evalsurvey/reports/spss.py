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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

SPSS_EPOCH = datetime(1582, 10, 14)
SYSMIS = -sys.float_info.max
BIAS = 100.0
MAX_WIDTH = 32767  # the widest string SPSS holds
SEGMENT = 252  # bytes of a very long string per 255-byte segment (see the format)
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
    the commands 253 announce, over and over (groups run on across cases)."""

    def __init__(self, out: IO[bytes]):
        self.out, self.codes, self.blocks = out, bytearray(), []
        self.pending: list[bytes] = []

    def _code(self, code: int, block: bytes | None = None) -> None:
        self.codes.append(code)
        if block is not None:
            self.blocks.append(block)
        if len(self.codes) == 8:
            self.pending.append(bytes(self.codes))
            self.pending.extend(self.blocks)
            self.codes, self.blocks = bytearray(), []
            if len(self.pending) > 4096:
                self.out.write(b"".join(self.pending))
                self.pending.clear()

    def number(self, value: float | None) -> None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            self._code(255)
        elif value == int(value) and -99 <= value <= 151:
            self._code(int(value + BIAS))
        else:
            self._code(253, struct.pack("<d", float(value)))

    def text(self, data: bytes, widths: list[int]) -> None:
        start = 0
        for width in widths:
            chunk = data[start : start + 255] if len(widths) > 1 else data[:width]
            start += 255
            size = (width + 7) // 8 * 8
            chunk = chunk.ljust(size, b" ")
            for i in range(0, size, 8):
                block = chunk[i : i + 8]
                if block == b"        ":
                    self._code(254)
                else:
                    self._code(253, block)

    def close(self) -> None:
        if self.codes:
            self.codes.extend(b"\0" * (8 - len(self.codes)))  # 0: padding, ignored
            self.pending.append(bytes(self.codes))
            self.pending.extend(self.blocks)
        self.out.write(b"".join(self.pending))


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
) -> int:
    """Write ``rows`` (one value per variable, in order; ``None`` is missing) as a ``.sav``
    file. ``widths`` gives each text variable's width in UTF-8 bytes (1 to 32,767; longer
    values are cut); ``n_rows`` is the number of rows that will come. Returns the rows
    written; raises :class:`ValueError` when that is not ``n_rows`` or a name is unusable."""
    names = [v.name for v in variables]
    if len({n.lower() for n in names}) != len(names):
        raise ValueError("variable names must differ (ignoring case)")
    layout = []  # (variable, segment widths or None for a number, first short name)
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
        layout.append((v, segs))
    case_size = index - 1
    now = now or datetime.now()
    header = b"".join((
        b"$FL2", _pad(b"@(#) SPSS DATA FILE evalsurvey", 60),
        struct.pack("<5i", 2, case_size, 1, 0, n_rows), struct.pack("<d", BIAS),
        _pad(now.strftime("%d %b %y").encode("ascii"), 9),
        _pad(now.strftime("%H:%M:%S").encode("ascii"), 8),
        _pad(_cut(file_label, 64), 64), b"\0" * 3,
    ))  # fmt: skip
    out.write(header)
    out.write(b"".join(records))
    for labels, at in label_sets:
        body = [struct.pack("<2i", 3, len(labels))]
        for value, text in labels.items():
            data = _cut(text, 120)
            entry = struct.pack("<dB", float(value), len(data)) + data
            body.append(entry.ljust((len(entry) + 7) // 8 * 8, b" "))
        body.append(struct.pack("<3i", 4, 1, at))
        out.write(b"".join(body))
    # machine records: version, IEEE doubles, bytecode compression, little-endian, UTF-8
    out.write(_info(3, 4, struct.pack("<8i", 1, 0, 0, -1, 1, 1, 2, 65001)))
    lowest = math.nextafter(-sys.float_info.max, 0.0)
    out.write(_info(4, 8, struct.pack("<3d", SYSMIS, sys.float_info.max, lowest)))
    out.write(_info(13, 1, b"\t".join(long_names)))
    if very_long:
        out.write(_info(14, 1, b"".join(very_long)))
    out.write(_info(20, 1, b"UTF-8"))
    out.write(_record(999, 0))
    cases = _Cases(out)
    n = 0
    for row in rows:
        n += 1
        for (v, segs), value in zip(layout, row, strict=True):
            if segs is not None:
                cases.text(b"" if value is None else _cut(str(value), widths[v.name]), segs)
            elif v.kind == "datetime":
                seconds = None if value is None else (value - SPSS_EPOCH).total_seconds()
                cases.number(seconds)
            else:
                cases.number(None if value is None else float(value))
    cases.close()
    if n != n_rows:
        raise ValueError(f"{n} rows written, {n_rows} announced")
    return n


def text_width(values: Iterable[Any]) -> int:
    """The width in UTF-8 bytes a text variable needs for ``values`` (at least 1)."""
    return max(1, min(MAX_WIDTH, max((len(str(v).encode("utf-8")) for v in values
                                      if v is not None), default=1)))  # fmt: skip
