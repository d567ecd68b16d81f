"""Read the response interchange CSV into numpy arrays, checking every cell once.

Streams the file in chunks so a million rows fit comfortably in memory: repeated
strings (units, groups, devices) become integer codes as they are read.

Two readers, one table. :func:`read_responses` works column by column on chunks of rows
(strings coded through dictionaries, timestamps of the usual shape converted by numpy,
item cells parsed once per distinct value); the first sign of a bad cell sends the whole
file to :func:`read_rows`, the row-by-row reader that defines every check and its message.
So the fast path needs to be right only on good files, and errors read exactly as before.
"""

from __future__ import annotations

import csv
import gc
import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, count, filterfalse, islice, repeat
from typing import TextIO

import numpy as np
from numpy.typing import NDArray

from evalsurvey.csvformat import HEAD, TAIL

CHUNK = 50_000


class InputError(ValueError):
    """Bad input, named by row (the header is row 1) and column."""

    def __init__(self, row: int, column: str, message: str):
        self.row, self.column = row, column
        super().__init__(f"row {row}, column {column}: {message}")


class Codes:
    """Strings to dense integer codes, in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []
        self._seen: dict[str, int] = {}  # cells as written to their codes (-1: blank)

    def code(self, value: str) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.names)
            self.names.append(value)
        return found

    def codes(
        self, values: Sequence[str], empty: bool = False, strip: bool = False
    ) -> NDArray[np.int64]:
        """:meth:`code` of every value at once (of each value stripped, with ``strip``);
        with ``empty``, "" is -1 and never a name.

        Works on distinct values in C loops (``dict.fromkeys`` keeps first appearances in
        order); a column of few distinct values (units, groups) is then one look-up a cell.
        """
        n = len(values)
        if self._seen:
            found = np.fromiter(map(self._seen.get, values, repeat(-2)), np.int64, n)
            if not (found == -2).any():
                return found
        distinct = list(dict.fromkeys(values))
        clean = list(map(str.strip, distinct)) if strip else distinct
        fresh = list(filterfalse(self.index.__contains__, dict.fromkeys(clean)))
        if empty and "" in fresh:
            fresh.remove("")
        self.index.update(zip(fresh, count(len(self.names))))
        self.names.extend(fresh)
        spelled = dict(zip(distinct, map(self.index.get, clean, repeat(-1)), strict=True))
        if 4 * len(distinct) <= n:  # few distinct spellings: remembered for the next chunk
            self._seen.update(spelled)
        return np.fromiter(map(spelled.__getitem__, values), np.int64, n)


class Columns:
    """The coded identity columns of a response table, filled row by row or in chunks.

    Both readers of responses (the interchange CSV here, the database in
    :mod:`evalsurvey.domain.results.analysis`) add rows through this, so a table is coded
    the same way whatever it was read from.
    """

    KINDS = ("questionnaire", "unit", "group", "rater", "device", "rater_unit")

    def __init__(self) -> None:
        self.codes = {k: Codes() for k in self.KINDS}
        self.cols: dict[str, list[int]] = {k: [] for k in self.KINDS}
        self.parts: dict[str, list[NDArray[np.int64]]] = {k: [] for k in self.KINDS}

    def add(
        self, questionnaire: str, unit: str, group: str, rater: str, device: str, rater_unit: str
    ) -> None:
        self.cols["questionnaire"].append(self.codes["questionnaire"].code(questionnaire))
        self.cols["unit"].append(self.codes["unit"].code(unit))
        self.cols["group"].append(self.codes["group"].code(group))
        for kind, value in (("rater", rater), ("device", device), ("rater_unit", rater_unit)):
            self.cols[kind].append(self.codes[kind].code(value) if value else -1)

    def extend(
        self,
        questionnaire: Sequence[str],
        unit: Sequence[str],
        group: Sequence[str],
        rater: Sequence[str],
        device: Sequence[str],
        rater_unit: Sequence[str],
        strip: bool = False,
    ) -> None:
        """Many rows at once, column by column (after any :meth:`add`-ed rows). With
        ``strip`` every column but the questionnaire is stripped first, as the CSV's are."""
        for kind, values, empty in (
            ("questionnaire", questionnaire, False),
            ("unit", unit, False),
            ("group", group, False),
            ("rater", rater, True),
            ("device", device, True),
            ("rater_unit", rater_unit, True),
        ):
            self._flush(kind)
            codes = self.codes[kind].codes(values, empty, strip and kind != "questionnaire")
            self.parts[kind].append(codes)

    def _flush(self, kind: str) -> None:
        if self.cols[kind]:
            self.parts[kind].append(np.array(self.cols[kind], np.int64))
            self.cols[kind] = []

    def column(self, kind: str) -> NDArray[np.int64]:
        self._flush(kind)
        parts = self.parts[kind]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def table(self, **rest) -> ResponseTable:
        """The table: these columns plus ``rest`` (ids, times, items, …)."""
        units = self.codes["unit"]
        # a rater's own unit counts only if it is one of the rated units
        own = np.array(
            [units.index.get(name, -1) for name in self.codes["rater_unit"].names] + [-1],
            np.int64,
        )
        return ResponseTable(
            questionnaire=self.column("questionnaire"),
            questionnaires=self.codes["questionnaire"].names,
            unit=self.column("unit"),
            units=units.names,
            group=self.column("group"),
            groups=self.codes["group"].names,
            rater=self.column("rater"),
            raters=self.codes["rater"].names,
            rater_unit=own[self.column("rater_unit")],  # -1 picks the last: none
            device=self.column("device"),
            **rest,
        )


@dataclass
class ResponseTable:
    response_id: list[str]
    questionnaire: NDArray[np.int64]
    questionnaires: list[str]
    unit: NDArray[np.int64]
    units: list[str]
    group: NDArray[np.int64]
    groups: list[str]
    rater: NDArray[np.int64]  # -1 = anonymous
    raters: list[str]
    rater_unit: NDArray[np.int64]  # code into ``units``, -1 = none
    device: NDArray[np.int64]  # -1 = unknown
    started: NDArray[np.float64]  # epoch seconds, NaN = unknown
    submitted: NDArray[np.float64]
    items: NDArray[np.float64]  # (responses, scored items), NaN = missing
    item_names: list[str]
    text_items: list[str]  # item columns that are not numbers (choices, text)
    empty_items: list[str]  # item columns with no answer at all
    row: NDArray[np.int64]  # the CSV row of each response (header = row 1)
    # A person's review of each response: 0 none (the rules decide), 1 kept as valid
    # (no rule can drop it), -1 left out (suspect until a person says otherwise).
    decision: NDArray[np.int8] | None = None
    # network prefix codes (-1 = unknown); only the database knows them: the interchange
    # CSV carries no network column, so a table read from it has None
    network: NDArray[np.int64] | None = None
    # each unit's usual submissions per hour of day in an earlier period, shaped
    # (len(units), 24), NaN where unknown (see stats.usual_rates); None: no earlier period
    earlier_rates: NDArray[np.float64] | None = None
    # True where the response came through a single-use invitation (channel ``invite``):
    # the burst rule leaves those out (one response per invitation cannot be stuffed)
    invited: NDArray[np.bool_] | None = None

    @property
    def n(self) -> int:
        return len(self.response_id)


def _timestamp(raw: str, row: int, column: str) -> float:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(row, column, f"not an ISO 8601 timestamp: {raw!r}") from None
    if value.tzinfo is None:
        raise InputError(row, column, f"timestamp {raw!r} has no UTC offset")
    return value.timestamp()


# Where the digits and separators of ``2026-09-01T09:30:00+08:00`` (25 characters, as
# exports write it) and ``2026-09-01T09:30:00.250000+08:00`` (32, Python's isoformat) sit.
_SHORT, _LONG = 25, 32


def _epochs(values: Sequence[str]) -> NDArray[np.float64]:
    """Epoch seconds of timestamp cells as written, NaN for a blank one.

    Cells of the two usual shapes are converted by arithmetic on their digits, exactly
    as :func:`datetime.fromisoformat` then ``timestamp()`` would; every other cell is
    stripped and goes through those. Raises :class:`InputError` (row 0) for a cell they
    refuse.
    """
    n = len(values)
    out = np.full(n, np.nan)
    lengths = np.fromiter(map(len, values), np.int64, n)
    done = np.zeros(n, bool)
    for width in (_SHORT, _LONG):
        where = np.flatnonzero(lengths == width)
        if where.size:
            seconds = _epochs_of_shape(list(compress(values, lengths == width)), width)
            ok = ~np.isnan(seconds)
            out[where[ok]] = seconds[ok]
            done[where[ok]] = True
    for i in np.flatnonzero(~done):  # blank or unusual: the standard library decides
        raw = values[i].strip()
        if raw:
            out[i] = _timestamp(raw, 0, "")
    return out


def _epochs_of_shape(values: list[str], width: int) -> NDArray[np.float64]:
    """Epoch seconds of same-length cells of one usual shape; NaN where a cell is not
    of that shape (or out of the years 1900–2199, where microseconds stay exact)."""
    n = len(values)
    try:
        text = "".join(values).encode("ascii")
    except UnicodeEncodeError:  # not the usual shape: the standard library decides
        return np.full(n, np.nan)
    chars = np.frombuffer(text, np.uint8).reshape(n, width)
    frac = width == _LONG
    zone = 26 if frac else 19  # the offset's sign
    digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, zone + 1, zone + 2]
    digits += [zone + 4, zone + 5] + (list(range(20, 26)) if frac else [])
    ok = ((chars[:, digits] - np.uint8(48)) <= 9).all(axis=1)  # wraps below "0"
    for p, allowed in ((4, b"-"), (7, b"-"), (10, b"T "), (13, b":"), (16, b":"), (zone, b"+-")):
        is_allowed = chars[:, p] == allowed[0]
        for other in allowed[1:]:
            is_allowed |= chars[:, p] == other
        ok &= is_allowed
    ok &= chars[:, zone + 3] == ord(":")
    if frac:
        ok &= chars[:, 19] == ord(".")
    d = chars.astype(np.int32) - 48

    def number(start: int, stop: int) -> NDArray[np.int64]:
        value = d[:, start]
        for p in range(start + 1, stop):
            value = value * 10 + d[:, p]
        return value

    year, month, day = number(0, 4), number(5, 7), number(8, 10)
    hour, minute, second = number(11, 13), number(14, 16), number(17, 19)
    off_h, off_m = number(zone + 1, zone + 3), number(zone + 4, zone + 6)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    ok &= (year >= 1900) & (year <= 2199) & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= day <= month_days[np.clip(month, 0, 12)] + (leap & (month == 2))
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59) & (off_h <= 23) & (off_m <= 59)
    # days since 1970-01-01 of a proleptic Gregorian date (years from March)
    y = year - (month <= 2)
    era, yoe = y // 400, y % 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    offset = off_h * 3600 + off_m * 60
    local = days.astype(np.int64) * 86400 + hour * 3600 + minute * 60 + second
    utc = local - np.where(chars[:, zone] == ord("-"), -offset, offset)
    micros = utc * 1_000_000 + (number(20, 26).astype(np.int64) if frac else 0)
    # the same division as timedelta.total_seconds(): exact microseconds / 10**6
    return np.where(ok, micros / 1e6, np.nan)


def _cell(value: str) -> float:
    """A numeric item cell: its number, NaN when empty, -inf when it is not a number."""
    try:
        x = float(value)
        if not math.isfinite(x):
            raise ValueError
        return x
    except ValueError:
        s = value.strip()
        if not s:
            return math.nan
        try:
            x = float(s)
        except ValueError:
            return -math.inf
        return x if math.isfinite(x) else -math.inf


class _Refused(Exception):
    """The fast reader met a cell it will not judge: the row-by-row reader reads the file."""


def read_responses(source: str | TextIO) -> ResponseTable:
    """Read and check an interchange CSV, from a path or an open text stream.

    Raises
    ------
    InputError
        Missing columns, a short row, an unparsable timestamp, a duplicate response
        id, or a stray non-number in a numeric item column; the first one found.
    OSError, UnicodeDecodeError
        The file cannot be read as UTF-8.
    """
    if isinstance(source, str):
        with open(source, encoding="utf-8-sig", newline="") as fh:
            try:
                return _read_columns(fh)
            except _Refused:
                fh.seek(0)
                return read_rows(fh)
    if not source.seekable():
        source = io.StringIO(source.read())
    start = source.tell()
    try:
        return _read_columns(source)
    except _Refused:
        source.seek(start)
        return read_rows(source)


@dataclass(frozen=True)
class _Layout:
    pos: dict[str, int]
    item_names: list[str]
    item_pos: list[int]
    width: int


def _header(reader: Iterator[list[str]]) -> _Layout:
    header = next(reader, None)
    if header is None:
        raise InputError(1, "-", "the file is empty")
    header = [h.strip() for h in header]
    for column in HEAD + TAIL:
        if column not in header:
            raise InputError(1, column, "column is missing from the header")
    item_names = [h for h in header[len(HEAD) :] if h != "comment"]
    return _Layout(
        pos={name: header.index(name) for name in HEAD},
        item_names=item_names,
        item_pos=[header.index(h) for h in item_names],
        width=len(header),
    )


@contextmanager
def _no_collection():
    """Reading builds millions of small lists and tuples that hold only strings: the
    cycle collector's passes over them find nothing and cost a third of the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_columns(fh: TextIO) -> ResponseTable:
    reader = csv.reader(fh)
    layout = _header(reader)
    pos, width = layout.pos, layout.width
    ids: list[str] = []
    seen: set[str] = set()
    rows: list[NDArray[np.int64]] = []
    started: list[NDArray[np.float64]] = []
    submitted: list[NDArray[np.float64]] = []
    invited: list[NDArray[np.bool_]] = []
    items: list[list[NDArray[np.float64]]] = [[] for _ in layout.item_names]
    memos: list[dict[str, float]] = [{"": math.nan} for _ in layout.item_names]
    first_bad: list[tuple[int, str] | None] = [None] * len(layout.item_names)
    columns = Columns()
    row_no = 1
    with _no_collection():
        while True:
            chunk = list(islice(reader, CHUNK))
            if not chunk:
                break
            numbers = np.arange(row_no + 1, row_no + 1 + len(chunk), dtype=np.int64)
            row_no += len(chunk)
            if set(map(len, chunk)) != {width}:
                # blank lines count as rows but hold no response; any other width is wrong
                keep = [len(c) == width for c in chunk]
                for cells, kept in zip(chunk, keep, strict=True):
                    if not kept and not (not cells or (len(cells) == 1 and not cells[0].strip())):
                        raise _Refused
                chunk = list(compress(chunk, keep))
                numbers = numbers[np.array(keep, bool)]
                if not chunk:
                    continue
            col = list(zip(*chunk, strict=True))
            del chunk
            rid = list(map(str.strip, col[pos["response_id"]]))
            if "" in rid:
                raise _Refused
            fresh = set(rid)
            if len(fresh) != len(rid) or not seen.isdisjoint(fresh):
                raise _Refused
            seen |= fresh
            try:
                start_at = _epochs(col[pos["started_at"]])
                submit_at = _epochs(col[pos["submitted_at"]])
            except InputError:
                raise _Refused from None
            if np.isnan(submit_at).any():  # blank
                raise _Refused
            columns.extend(
                *(col[pos[name]] for name in ("questionnaire", "unit", "rater_group")),
                *(col[pos[name]] for name in ("rater", "device", "rater_unit")),
                strip=True,
            )
            if "" in columns.codes["unit"].index or "" in columns.codes["group"].index:
                raise _Refused
            offset = len(ids)
            ids.extend(rid)
            rows.append(numbers)
            started.append(start_at)
            submitted.append(submit_at)
            channel = col[pos["channel"]]
            invite = {value: value.strip() == "invite" for value in dict.fromkeys(channel)}
            invited.append(np.fromiter(map(invite.__getitem__, channel), bool, len(rid)))
            for j, p in enumerate(layout.item_pos):
                values, memo = col[p], memos[j]
                try:  # usually every spelling is known after the first chunk
                    parsed = np.fromiter(map(memo.__getitem__, values), np.float64, len(values))
                except KeyError:
                    for value in filterfalse(memo.__contains__, dict.fromkeys(values)):
                        memo[value] = _cell(value)
                    parsed = np.fromiter(map(memo.__getitem__, values), np.float64, len(values))
                if first_bad[j] is None and (parsed == -math.inf).any():
                    i = int(np.argmax(parsed == -math.inf))
                    first_bad[j] = (offset + i, values[i])
                items[j].append(parsed)
    row_of = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    numeric: list[NDArray[np.float64]] = []
    scored_names: list[str] = []
    text_items: list[str] = []
    empty_items: list[str] = []
    for j, name in enumerate(layout.item_names):
        values = np.concatenate(items[j]) if items[j] else np.zeros(0)
        items[j] = []
        good = int(np.isfinite(values).sum())
        bad = int((values == -math.inf).sum())
        if good == 0 and bad == 0:  # every cell blank
            empty_items.append(name)
            continue
        if good == 0 or bad > good:
            text_items.append(name)
            continue
        if first_bad[j] is not None:
            i, raw = first_bad[j]
            raise InputError(int(row_of[i]), name, f"not a number: {raw!r}")
        numeric.append(values)
        scored_names.append(name)
    return columns.table(
        response_id=ids,
        started=np.concatenate(started) if started else np.zeros(0),
        submitted=np.concatenate(submitted) if submitted else np.zeros(0),
        items=np.column_stack(numeric) if numeric else np.zeros((len(ids), 0)),
        item_names=scored_names,
        text_items=text_items,
        empty_items=empty_items,
        row=row_of,
        invited=np.concatenate(invited) if invited else np.zeros(0, bool),
    )


def read_rows(fh: TextIO) -> ResponseTable:
    """The row-by-row reader: every check in file order, so the first bad cell is the one
    named. :func:`read_responses` gives the same table faster and comes here on a bad cell."""
    reader = csv.reader(fh)
    layout = _header(reader)
    pos, width = layout.pos, layout.width
    ids: list[str] = []
    seen: dict[str, int] = {}
    columns = Columns()
    started: list[float] = []
    submitted: list[float] = []
    raw_items: list[list[str]] = [[] for _ in layout.item_names]
    invited: list[bool] = []
    row_no = 1
    for cells in reader:
        row_no += 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != width:
            raise InputError(row_no, "-", f"{len(cells)} cells; the header has {width}")
        rid = cells[pos["response_id"]].strip()
        if not rid:
            raise InputError(row_no, "response_id", "empty")
        if rid in seen:
            raise InputError(row_no, "response_id", f"{rid!r} repeats row {seen[rid]}")
        seen[rid] = row_no
        ids.append(rid)
        unit = cells[pos["unit"]].strip()
        if not unit:
            raise InputError(row_no, "unit", "empty")
        group = cells[pos["rater_group"]].strip()
        if not group:
            raise InputError(row_no, "rater_group", "empty")
        columns.add(
            cells[pos["questionnaire"]],
            unit,
            group,
            cells[pos["rater"]].strip(),
            cells[pos["device"]].strip(),
            cells[pos["rater_unit"]].strip(),
        )
        invited.append(cells[pos["channel"]].strip() == "invite")
        raw = cells[pos["started_at"]].strip()
        started.append(_timestamp(raw, row_no, "started_at") if raw else math.nan)
        raw = cells[pos["submitted_at"]].strip()
        if not raw:
            raise InputError(row_no, "submitted_at", "empty")
        submitted.append(_timestamp(raw, row_no, "submitted_at"))
        for store, p in zip(raw_items, layout.item_pos, strict=True):
            store.append(cells[p])

    row_of = np.array(list(seen.values()), dtype=np.int64)
    numeric: list[NDArray[np.float64]] = []
    scored_names: list[str] = []
    text_items: list[str] = []
    empty_items: list[str] = []
    for name, values in zip(layout.item_names, raw_items, strict=True):
        if not any(v.strip() for v in values):
            empty_items.append(name)
            continue
        parsed = _numbers(values)
        if parsed is None:
            text_items.append(name)
            continue
        arr, bad = parsed
        if bad >= 0:
            raise InputError(int(row_of[bad]), name, f"not a number: {values[bad]!r}")
        numeric.append(arr)
        scored_names.append(name)
    items = np.column_stack(numeric) if numeric else np.zeros((len(ids), 0))
    return columns.table(
        response_id=ids,
        started=np.array(started, np.float64),
        submitted=np.array(submitted, np.float64),
        items=items,
        item_names=scored_names,
        text_items=text_items,
        empty_items=empty_items,
        row=row_of,
        invited=np.array(invited, dtype=bool),
    )


def _numbers(values: list[str]) -> tuple[NDArray[np.float64], int] | None:
    """Parse a column: (values, first bad index or -1), or None if it is not numeric.

    A column counts as numeric when most of its non-empty cells are numbers; then a
    stray non-number is an input error rather than a reason to drop the column.
    """
    memo: dict[str, float] = {}
    out = np.empty(len(values))
    for i, v in enumerate(values):
        x = memo.get(v)
        if x is None:
            x = memo[v] = _cell(v)
        out[i] = x
    bad = out == -math.inf
    good = int(np.isfinite(out).sum())
    if good == 0 or int(bad.sum()) > good:
        return None
    out[bad] = math.nan
    return out, int(np.argmax(bad)) if bad.any() else -1
