"""A cycle's responses read in bulk into the analysis's typed table.

Rows never become ORM objects or SQLAlchemy rows: the DB-API cursor's plain tuples (on
PostgreSQL a cursor on the server, fetched 50,000 rows at a time and built by psycopg's C
loaders) turn into column tuples, coded column by column like the interchange CSV's
(:class:`~evalsurvey.analysis.reader.Columns`); timestamps become numbers in numpy (on
PostgreSQL in the server, which gives the epoch exactly); the answers' JSON is decoded once
per distinct text (a citizens' questionnaire of six five-level items has at most 15,625).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import filterfalse

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Float, Select, Text, case, cast, extract, select

from evalsurvey.analysis.reader import Codes, Columns, ResponseTable
from evalsurvey.domain.collecting.questionnaires import format_value
from evalsurvey.extensions import db
from evalsurvey.models import Channel, Questionnaire, RaterGroup, Response, ResponseStatus, Unit

CHUNK = 50_000
_cursor_names = itertools.count()


def read_response_table(
    cycle_id: int, scales: Sequence[str], unit_ids: Iterable[int] | None = None
) -> ResponseTable:
    """The cycle's responses (``excluded`` left out, in the order they were stored) as
    the typed table; ``scales`` names the scored items (see ``analysis.item_scales``)."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    query = _selection(cycle_id, unit_ids, postgres)
    # ids as the driver gives them: integers from SQLite, text from PostgreSQL's CSV
    unit_code = _by_id(select(Unit.id, Unit.code))
    group_code = _by_id(select(RaterGroup.id, RaterGroup.code))
    label: dict = {}
    for qid, code, version in db.session.execute(
        select(Questionnaire.id, Questionnaire.code, Questionnaire.version)
    ):
        label[qid] = label[str(qid)] = f"{code}@{version}"
    columns = Columns()
    answers = _Answers(scales)
    ids: list[str] = []
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("started", "submitted", "decision", "invited", "network")
    }
    networks = Codes()
    for col in _server_cursor_chunks(query) if postgres else _cursor_chunks(query):
        (rid, qid, uid, gid, rater, device, network, rater_unit, start, end, decision, ans,
         invited) = col  # fmt: skip
        ids.extend(rid)
        columns.extend(
            list(map(label.__getitem__, qid)),
            list(map(unit_code.__getitem__, uid)),
            list(map(group_code.__getitem__, gid)),
            rater,
            device,
            rater_unit,
        )
        parts["network"].append(networks.codes(network, empty=True))
        if postgres:  # epoch seconds already, NULL as None (NaN)
            parts["started"].append(np.array(start, np.float64))
            parts["submitted"].append(np.array(end, np.float64))
        else:
            parts["started"].append(_sqlite_epochs(start))
            parts["submitted"].append(_sqlite_epochs(end))
        parts["decision"].append(np.asarray(decision).astype(np.int8))
        parts["invited"].append(np.asarray(invited).astype(np.int8).astype(bool))
        answers.add(ans)
    joined = {
        k: np.concatenate(v) if v else np.zeros(0, dtype)
        for (k, v), dtype in zip(
            parts.items(), (np.float64, np.float64, np.int8, bool, np.int64), strict=True
        )
    }
    items, scored, empty, text_items = answers.table()
    return columns.table(
        response_id=ids,
        started=joined["started"],
        submitted=joined["submitted"],
        items=items,
        network=joined["network"],
        item_names=scored,
        text_items=text_items,
        empty_items=empty,
        row=np.arange(2, len(ids) + 2, dtype=np.int64),
        decision=joined["decision"],
        invited=joined["invited"],
    )


def _by_id(query: Select) -> dict:
    """``{id: value}`` keyed by the id both as an integer and as text."""
    out: dict = {}
    for key, value in db.session.execute(query):
        out[key] = out[str(key)] = value
    return out


def _selection(cycle_id: int, unit_ids: Iterable[int] | None, postgres: bool) -> Select:
    def when(column):
        # PostgreSQL's epoch of a timestamptz is exact (numeric, to the microsecond), and
        # its cast to double precision correctly rounded, as Python's float() of it is
        return cast(extract("epoch", column), Float) if postgres else column

    query = (
        select(
            Response.public_id,
            Response.questionnaire_id,
            Response.unit_id,
            Response.rater_group_id,
            Response.rater,
            Response.device,
            Response.network,
            Response.rater_unit,
            when(Response.started_at),
            when(Response.submitted_at),
            # a person's decision: suspect stays out until made valid; a reviewed valid stays in
            case(
                (Response.status == ResponseStatus.SUSPECT.value, -1),
                (Response.reviewed, 1),
                else_=0,
            ),
            cast(Response.answers, Text),  # the JSON as stored, decoded here
            case((Response.channel == Channel.INVITE.value, 1), else_=0),
        )
        .where(Response.cycle_id == cycle_id, Response.status != ResponseStatus.EXCLUDED.value)
        .order_by(Response.id)
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(list(unit_ids)))
    return query


def _cursor_chunks(query: Select) -> Iterator[list[tuple]]:
    """Column tuples of the selection, ``CHUNK`` rows at a time, from a DB-API cursor."""
    connection = db.session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        while rows := cursor.fetchmany(CHUNK):
            yield list(zip(*rows, strict=True))
    finally:
        cursor.close()


def _server_cursor_chunks(query: Select) -> Iterator[list[tuple]]:
    """Column tuples of the selection, ``CHUNK`` rows at a time, from a PostgreSQL cursor
    on the server (one ``FETCH`` a chunk, rows built by psycopg's C loaders), each chunk
    fetched while the one before is coded.

    Not ``COPY … TO STDOUT``: the server sends COPY's output one message a row and psycopg
    reads each through Python (a million rows: about 8 s of client CPU against 1.8 s here,
    see docs/benchmarks.md)."""
    connection = db.session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    cursor = connection.connection.driver_connection.cursor(name=f"responses_{next(_cursor_names)}")

    def fetch() -> Iterator[list[tuple]]:
        with cursor:
            cursor.execute(compiled.string, compiled.params)
            while rows := cursor.fetchmany(CHUNK):
                yield list(zip(*rows, strict=True))

    return _ahead(fetch())


def _ahead(chunks: Iterator[list[tuple]]) -> Iterator[list[tuple]]:
    """``chunks``, each fetched in a thread while the one before is coded: the server
    reads and sends the next rows (psycopg waits without the GIL) as Python works."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="responses")
    try:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk
    finally:
        pool.shutdown(wait=True)  # a fetch under way ends before the cursor closes
        chunks.close()


def _sqlite_epochs(values: Sequence[str | None]) -> NDArray[np.float64]:
    """SQLite's naive UTC timestamps (``2026-09-01 09:30:00.250000``) as epoch seconds,
    NaN for NULL: whole microseconds divided by 10**6, as ``datetime.timestamp()`` does."""
    when = np.array(values, dtype="datetime64[us]")
    micros = when.astype(np.int64)
    return np.where(np.isnat(when), math.nan, micros / 1e6)


class _Answers:
    """The answers' JSON decoded once per distinct text: scored values, which scored
    items were answered at all, and which other items hold an answer."""

    def __init__(self, scales: Sequence[str]) -> None:
        self.scales = list(scales)
        self.index: dict[str, int] = {}
        self.values: list[list[float]] = []
        self.answered: list[list[bool]] = []
        self.text: set[str] = set()
        self.parts: list[NDArray[np.int64]] = []

    def add(self, texts: Sequence[str]) -> None:
        index, scales, scored = self.index, self.scales, set(self.scales)
        for text in filterfalse(index.__contains__, dict.fromkeys(texts)):
            answers = json.loads(text)
            index[text] = len(self.values)
            values = [answers.get(c) for c in scales]
            self.answered.append([v is not None for v in values])
            self.values.append(
                [
                    float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
                    for v in values
                ]
            )
            self.text.update(
                c for c, v in answers.items() if c not in scored and format_value(v) != ""
            )
        self.parts.append(np.fromiter(map(index.__getitem__, texts), np.int64, len(texts)))

    def table(self) -> tuple[NDArray[np.float64], list[str], list[str], list[str]]:
        """(items of the scored columns, scored items, empty items, text items)."""
        which = np.concatenate(self.parts) if self.parts else np.zeros(0, np.int64)
        shape = (len(self.values), len(self.scales))
        answered = np.array(self.answered, bool).reshape(shape)
        scored = [c for j, c in enumerate(self.scales) if answered[:, j].any()]
        keep = [j for j, c in enumerate(self.scales) if c in scored]
        values = np.array(self.values, np.float64).reshape(shape)
        items = values[:, keep][which] if len(which) else np.full((0, len(keep)), math.nan)
        empty = [c for c in self.scales if c not in scored]
        return items, scored, empty, sorted(self.text)
