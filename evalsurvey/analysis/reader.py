"""Read the response interchange CSV into numpy arrays, checking every cell once.

Streams the file in chunks so a million rows fit comfortably in memory: repeated
strings (units, groups, devices) become integer codes as they are read.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime
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

    def code(self, value: str) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.names)
            self.names.append(value)
        return found


class Columns:
    """The coded identity columns of a response table, filled row by row.

    Both readers of responses (the interchange CSV here, the database in
    :mod:`evalsurvey.domain.results.analysis`) add rows through this, so a table is coded the
    same way whatever it was read from.
    """

    KINDS = ("questionnaire", "unit", "group", "rater", "device")

    def __init__(self) -> None:
        self.codes = {k: Codes() for k in self.KINDS}
        self.cols: dict[str, list[int]] = {k: [] for k in self.KINDS}
        self.rater_units: list[str] = []

    def add(
        self, questionnaire: str, unit: str, group: str, rater: str, device: str, rater_unit: str
    ) -> None:
        self.cols["questionnaire"].append(self.codes["questionnaire"].code(questionnaire))
        self.cols["unit"].append(self.codes["unit"].code(unit))
        self.cols["group"].append(self.codes["group"].code(group))
        self.cols["rater"].append(self.codes["rater"].code(rater) if rater else -1)
        self.cols["device"].append(self.codes["device"].code(device) if device else -1)
        self.rater_units.append(rater_unit)

    def table(self, **rest) -> ResponseTable:
        """The table: these columns plus ``rest`` (ids, times, items, …)."""
        units = self.codes["unit"]
        return ResponseTable(
            questionnaire=np.array(self.cols["questionnaire"], np.int64),
            questionnaires=self.codes["questionnaire"].names,
            unit=np.array(self.cols["unit"], np.int64),
            units=units.names,
            group=np.array(self.cols["group"], np.int64),
            groups=self.codes["group"].names,
            rater=np.array(self.cols["rater"], np.int64),
            raters=self.codes["rater"].names,
            # a rater's own unit counts only if it is one of the rated units
            rater_unit=np.array(
                [units.index.get(v, -1) if v else -1 for v in self.rater_units], np.int64
            ),
            device=np.array(self.cols["device"], np.int64),
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
            return _read(fh)
    return _read(source)


def _read(fh: TextIO) -> ResponseTable:
    reader = csv.reader(fh)
    header = next(reader, None)
    if header is None:
        raise InputError(1, "-", "the file is empty")
    header = [h.strip() for h in header]
    for column in HEAD + TAIL:
        if column not in header:
            raise InputError(1, column, "column is missing from the header")
    pos = {name: header.index(name) for name in HEAD}
    item_names = [h for h in header[len(HEAD) :] if h != "comment"]
    item_pos = [header.index(h) for h in item_names]
    width = len(header)

    ids: list[str] = []
    seen: dict[str, int] = {}
    columns = Columns()
    started = np.empty(0)
    submitted = np.empty(0)
    raw_items: list[list[str]] = [[] for _ in item_names]
    st_chunk: list[float] = []
    su_chunk: list[float] = []
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
        st_chunk.append(_timestamp(raw, row_no, "started_at") if raw else math.nan)
        raw = cells[pos["submitted_at"]].strip()
        if not raw:
            raise InputError(row_no, "submitted_at", "empty")
        su_chunk.append(_timestamp(raw, row_no, "submitted_at"))
        for store, p in zip(raw_items, item_pos, strict=True):
            store.append(cells[p])
        if len(su_chunk) >= CHUNK:
            started = np.concatenate((started, st_chunk))
            submitted = np.concatenate((submitted, su_chunk))
            st_chunk, su_chunk = [], []
    started = np.concatenate((started, st_chunk))
    submitted = np.concatenate((submitted, su_chunk))

    row_of = np.array(list(seen.values()), dtype=np.int64)
    numeric: list[NDArray[np.float64]] = []
    scored_names: list[str] = []
    text_items: list[str] = []
    empty_items: list[str] = []
    for name, values in zip(item_names, raw_items, strict=True):
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
        started=started,
        submitted=submitted,
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
    memo: dict[str, float] = {"": math.nan}
    out = np.empty(len(values))
    bad_first = -1
    bad = good = 0
    for i, v in enumerate(values):
        x = memo.get(v)
        if x is None:
            try:
                x = float(v)
                if not math.isfinite(x):
                    raise ValueError
            except ValueError:
                s = v.strip()
                x = memo.get(s)
                if x is None:
                    try:
                        x = float(s) if s else math.nan
                        if not math.isfinite(x) and s:
                            raise ValueError
                    except ValueError:
                        x = -math.inf
            memo[v] = x
        if x == -math.inf:
            bad += 1
            if bad_first < 0:
                bad_first = i
            out[i] = math.nan
        else:
            if x == x:
                good += 1
            out[i] = x
    if good == 0 or bad > good:
        return None
    return out, bad_first
