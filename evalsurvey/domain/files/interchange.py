"""The response interchange CSV: a contract other work (statistics, paper forms) relies on.

UTF-8, a header row, one response per row, columns in this order::

    response_id, questionnaire, unit, rater_group, rater, rater_unit, channel, device,
    started_at, submitted_at, <one column per item code>, comment

``questionnaire`` is ``CODE@VERSION``; timestamps are ISO 8601 with offset; an
empty cell is a missing value; multiple-choice answers join option codes with ``;``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evalsurvey.csvformat import HEAD, TAIL
from evalsurvey.domain.access import Scope
from evalsurvey.domain.checks import NUL_MESSAGE, check_date
from evalsurvey.domain.collecting.questionnaires import (
    QuestionnaireError,
    format_value,
    parse_value,
)
from evalsurvey.domain.collecting.responses import (
    add_response,
    insert_new,
    new_public_id,
    response_row,
)
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import ImportError_, problem
from evalsurvey.extensions import db
from evalsurvey.models import Channel, Cycle, Questionnaire, RaterGroup, Response, Unit
from evalsurvey.timezones import to_local

BATCH = 500  # rows flushed at a time by an import

# what the database columns hold: longer values are refused by row and column
COLUMN_LIMITS = {"response_id": 40, "rater": 40, "rater_unit": 40, "device": 64, "comment": 2000}


def item_codes(questionnaires: Iterable[Questionnaire]) -> list[str]:
    """Item columns for a set of versions: first appearance order, each code once."""
    codes: list[str] = []
    for q in questionnaires:
        for item in q.items:
            if item.code not in codes:
                codes.append(item.code)
    return codes


def _iso(value: datetime | None) -> str:
    """A time as people in the office read it: their zone, to the second, with the offset."""
    if value is None:
        return ""
    return to_local(value).replace(microsecond=0).isoformat()


class _Writer:
    """``csv.writer(out, lineterminator="\\n")``, which the contract's bytes are, except that a
    field holding a lone carriage return is quoted as RFC 4180 says (the csv module quotes
    only the characters of its line terminator, so a comment with a bare CR split its row)."""

    def __init__(self, out: TextIO):
        self.out, self.writer = out, csv.writer(out, lineterminator="\n")

    def writerow(self, row: list[Any]) -> None:
        if not any(isinstance(v, str) and "\r" in v for v in row):
            self.writer.writerow(row)
            return
        cells = ["" if v is None else str(v) for v in row]
        self.out.write(",".join(_quoted(c) for c in cells) + "\n")


def _quoted(cell: str) -> str:
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def export_responses(
    out: TextIO,
    *,
    cycle: Cycle | None = None,
    unit_ids: set[int] | None = None,
    progress: Callable[[int], None] | None = None,
    statuses: set[str] | None = None,
    scope: Scope | None = None,
) -> int:
    """Write responses (of ``cycle``, ``unit_ids`` and ``statuses`` when given) as CSV.

    With a ``scope``, only the rows that person may read, and rater ids and own units
    blanked where the scope does not show identities. Returns the rows written.
    """
    count = 0

    def counted(n: int) -> None:
        nonlocal count
        count += n
        if progress is not None:
            progress(n)

    for chunk in export_chunks(cycle=cycle, unit_ids=unit_ids, statuses=statuses, scope=scope,
                               progress=counted):  # fmt: skip
        out.write(chunk)
    return count


def export_chunks(
    *,
    cycle: Cycle | None = None,
    unit_ids: set[int] | None = None,
    statuses: set[str] | None = None,
    scope: Scope | None = None,
    progress: Callable[[int], None] | None = None,
    rows_per_chunk: int = 500,
) -> Iterator[str]:
    """The interchange CSV of :func:`export_responses` as text pieces of ``rows_per_chunk``
    rows (the header in the first), read from the database as they are sent: a download
    streams, whatever the number of rows. ``progress`` is told how many rows each piece
    held."""
    query = (
        select(Response)
        .options(
            selectinload(Response.unit),
            selectinload(Response.rater_group),
            selectinload(Response.questionnaire).selectinload(Questionnaire.items),
        )
        .order_by(Response.id)
    )
    if cycle is not None:
        query = query.where(Response.cycle_id == cycle.id)
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(unit_ids))
    if statuses is not None:
        query = query.where(Response.status.in_(statuses))
    if scope is not None:
        query = scope.rows(query)
    identities = scope is None or scope.identities
    q_query = select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version)
    if cycle is not None:
        q_query = q_query.where(
            Questionnaire.id.in_(
                select(Response.questionnaire_id).where(Response.cycle_id == cycle.id)
            )
        )
    codes = item_codes(db.session.scalars(q_query))
    buffer = io.StringIO()
    writer = _Writer(buffer)
    writer.writerow(HEAD + codes + TAIL)
    count = 0
    # closed when the download is dropped half way (the generator closed at a yield): a
    # server-side cursor is not left open
    result = db.session.execute(query.execution_options(yield_per=1000)).scalars()
    try:
        for r in result:
            writer.writerow(
                [
                    r.public_id,
                    r.questionnaire.label,
                    r.unit.code,
                    r.rater_group.code,
                    r.rater if identities else "",
                    r.rater_unit if identities else "",
                    r.channel,
                    r.device,
                    _iso(r.started_at),
                    _iso(r.submitted_at),
                ]
                + [format_value(r.answers.get(c)) for c in codes]
                + [r.comment]
            )
            count += 1
            if count == rows_per_chunk:
                if progress is not None:
                    progress(count)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                count = 0
    finally:
        result.close()
    if progress is not None and count:
        progress(count)
    yield buffer.getvalue()


def _parse_time(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("timestamp needs an offset, e.g. +08:00")
    return value


def _records(reader) -> Iterable[list[str]]:
    """The rows of ``reader``; one the csv module cannot read (a field past its limit,
    ``csv.field_size_limit()``, or a broken quote) is an import problem, not a traceback."""
    row = 0  # the header is row 1, as everywhere
    try:
        for row, cells in enumerate(reader, start=1):  # noqa: B007 - read in the except
            yield cells
    except csv.Error:
        raise ImportError_(
            [
                problem(
                    row + 1,
                    "-",
                    "无法读取这一行：一格超过 {n} 个字符，或引号没有成对。",
                    n=csv.field_size_limit(),
                )
            ]  # fmt: skip
        ) from None


def import_responses(
    text: str | Iterable[str], cycle: Cycle, default_channel: str = Channel.IMPORT
) -> int:
    """Add responses from interchange CSV to ``cycle``, all or nothing.

    Every problem is collected and raised together as :class:`ImportError_`, each
    naming its row (the header is row 1) and column; nothing is written then (rows are
    flushed in batches while no problem is found, so the caller rolls back on the error).
    ``text`` is the CSV, or its lines as they are read (a file is never held whole).
    """
    reader = csv.reader(io.StringIO(text) if isinstance(text, str) else text)
    records = _records(reader)
    header = next(records, None)
    if header is None:
        raise ImportError_([problem(1, "-", "文件是空的。")])
    header = [h.strip() for h in header]
    missing = [c for c in HEAD + TAIL if c not in header]
    if missing:
        raise ImportError_([problem(1, c, "表头缺少这一列。") for c in missing])
    if header[: len(HEAD)] != HEAD or header[-1] != "comment":
        raise ImportError_(
            [
                (
                    1,
                    "-",
                    "columns must be in the interchange order: "
                    + ", ".join(HEAD)
                    + ", <items>, comment",
                )
            ]
        )
    item_columns = header[len(HEAD) : -1]
    known = Known.load()
    known_ids = set(db.session.scalars(select(Response.public_id)))
    errors: list[tuple[int, str, DomainError]] = []
    pending: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    stored = 0
    for n, cells in enumerate(records, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                problem(
                    n,
                    "-",
                    "有 {cells} 格，表头有 {header} 列。",
                    cells=len(cells),
                    header=len(header),
                )
            )
            continue
        row = dict(zip(header, cells, strict=True))
        checked, problems = check_record(row, item_columns, known, default_channel)
        errors.extend((n, column, error) for column, error in problems)
        rid = checked["public_id"]
        if rid in known_ids:
            errors.append(problem(n, "response_id", "{id} 已经导入过。", id=rid))
        elif rid in seen_ids:
            errors.append(
                problem(n, "response_id", "{id} 与第 {other} 行重复。", id=rid, other=seen_ids[rid])
            )
        seen_ids[rid] = n
        if len(errors) > 200:
            break
        if errors:
            continue  # nothing will be stored: only the problems are still collected
        if len(pending) >= BATCH:
            stored += _store(cycle, pending)
            pending = []
        pending.append(checked)
    if errors:
        raise ImportError_(errors)
    return stored + _store(cycle, pending)


@dataclass(frozen=True)
class Known:
    """What a record's codes may name: units, rater groups, questionnaire versions."""

    units: dict[str, Unit]
    groups: dict[str, RaterGroup]
    versions: dict[str, Questionnaire]

    @classmethod
    def load(cls) -> Known:
        return cls(
            {u.code: u for u in db.session.scalars(select(Unit))},
            {g.code: g for g in db.session.scalars(select(RaterGroup))},
            {
                q.label: q
                for q in db.session.scalars(
                    select(Questionnaire).options(selectinload(Questionnaire.items))
                )
            },
        )


def check_record(
    row: dict[str, Any], item_columns: Iterable[str], known: Known, default_channel: str
) -> tuple[dict[str, Any], list[tuple[str, DomainError]]]:
    """One interchange record (a CSV row, or an API response as the same fields): its
    response's values, and every problem by field. The one place a record is judged; the
    values are complete only when there is no problem. Cells are text (a multiple choice's
    option codes may come as a list); the id a record names is not checked against others
    here, since a file refuses any id stored before and the API answers with the stored one.
    """
    errors: list[tuple[str, DomainError]] = []

    def add(column: str, message: str, **params: object) -> None:
        errors.append((column, DomainError(message, column, **params)))

    for column, value in row.items():
        values = value if isinstance(value, list) else [value]
        if any("\x00" in v for v in values):
            add(column, NUL_MESSAGE)
    rid = row["response_id"].strip() or new_public_id()
    for column, limit in COLUMN_LIMITS.items():
        if len(row[column].strip()) > limit:
            add(column, "最多 {limit} 个字符。", limit=limit)
    q = known.versions.get(row["questionnaire"].strip())
    if q is None:
        add("questionnaire", "未知的问卷 {q}。", q=row["questionnaire"])
    unit = known.units.get(row["unit"].strip())
    if unit is None:
        add("unit", "找不到单位 {code}。", code=row["unit"])
    group = known.groups.get(row["rater_group"].strip())
    if group is None:
        add("rater_group", "未知的评价群体 {g}。", g=row["rater_group"])
    channel = row["channel"].strip() or default_channel
    if channel not in set(Channel):
        add("channel", "未知的渠道 {c}。", c=channel)
    times: dict[str, datetime | None] = {}
    for col in ("started_at", "submitted_at"):
        raw = row[col].strip()
        if not raw:
            if col == "submitted_at":
                add(col, "为空。")
            times[col] = None
            continue
        try:
            times[col] = check_date(_parse_time(raw), col)
        except DomainError as exc:  # a year no assessment can be about
            errors.append((col, exc))
        except ValueError:
            add(col, "不是带时区的 ISO 8601 时间：{value}", value=raw)
    answers: dict[str, Any] = {}
    if q is not None:
        by_code = {i.code: i for i in q.items}
        for col in item_columns:
            raw = row[col]
            item = by_code.get(col)
            if item is None:
                if any(v.strip() for v in (raw if isinstance(raw, list) else [raw])):
                    add(col, "不是问卷 {q} 的题目。", q=q.label)
                continue
            try:
                answers[col] = parse_value(item, raw)
            except QuestionnaireError as exc:
                errors.append((col, exc))
        for code in by_code:
            answers.setdefault(code, None)
    return {
        "public_id": rid,
        "questionnaire": q,
        "unit": unit,
        "rater_group": group,
        "rater": row["rater"].strip(),
        "rater_unit": row["rater_unit"].strip(),
        "channel": channel,
        "device": row["device"].strip(),
        "answers": answers,
        "started_at": times.get("started_at"),
        "submitted_at": times.get("submitted_at"),
        "comment": row["comment"],
    }, errors


def _fields(cycle: Cycle, p: dict[str, Any]) -> dict[str, Any]:
    """:func:`response_row`'s fields for a checked record of ``cycle``."""
    return {
        "public_id": p["public_id"],
        "cycle_id": cycle.id,
        "unit_id": p["unit"].id,
        "rater_group_id": p["rater_group"].id,
        "questionnaire_id": p["questionnaire"].id,
        "channel": p["channel"],
        "started_at": p["started_at"],
        "submitted_at": p["submitted_at"],
        "answers": p["answers"],
        "comment": p["comment"],
        "device": p["device"],
        "rater": p["rater"],
        "rater_unit": p["rater_unit"],
    }


def _store(cycle: Cycle, pending: list[dict[str, Any]]) -> int:
    """Add checked rows to the session, flush them and let them go (memory stays flat)."""
    made = [add_response(**_fields(cycle, p)) for p in pending]
    db.session.flush()
    for response in made:
        db.session.expunge(response)
    return len(made)


# what makes two records of one response_id the same response
SAME = (
    "cycle_id",
    "unit_id",
    "rater_group_id",
    "questionnaire_id",
    "channel",
    "started_at",
    "submitted_at",
    "answers",
    "comment",
    "device",
    "rater",
    "rater_unit",
)
FIXED = frozenset(HEAD + TAIL)


def _differs(row: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    return [f for f in SAME if row[f] != stored[f]]


class Conflict(Exception):
    """Records whose response_id is stored with other content: (index, fields that differ)."""

    def __init__(self, conflicts: list[tuple[int, str, list[str]]]):
        self.conflicts = conflicts  # (index, response_id, differing fields)
        super().__init__(f"{len(conflicts)} response_id(s) stored with other content")


@dataclass(frozen=True)
class Ingested:
    ids: list[str]  # every record's response_id, in order
    stored: int  # rows this call stored
    existing: int  # records of responses stored before (left as they were)


def ingest_records(
    cycle: Cycle,
    records: list[dict[str, Any]],
    scope: Scope,
    default_channel: str = Channel.IMPORT,
) -> Ingested:
    """Store interchange records (an API batch) in ``cycle``: all or nothing, idempotent by
    response_id. A record whose id is stored with the same content is that response
    (nothing is stored again); with other content the batch is refused
    (:class:`Conflict`). Problems are raised together as :class:`ImportError_`, each by
    the record's index (from 0) and field. Rows are built by the pages' builder
    (:func:`response_row`: review status valid, the device and channel given as evidence)
    and inserted once per id even under concurrent batches (``ON CONFLICT DO NOTHING``
    on the unique id, then the winner's row is compared). The caller commits, or rolls
    back on any exception."""
    known = Known.load()
    errors: list[tuple[int, str, DomainError]] = []
    rows: dict[str, dict[str, Any]] = {}
    first: dict[str, int] = {}
    ids: list[str] = []
    for index, record in enumerate(records):
        items = [c for c in record if c not in FIXED]
        checked, problems = check_record(record, items, known, default_channel)
        errors.extend((index, column, error) for column, error in problems)
        unit = checked["unit"]
        if unit is not None and not scope.sees_unit(unit):
            errors.append(
                (index, "unit", DomainError("无权为单位 {code} 提交答卷。", "unit", code=unit.code))
            )
        if len(errors) > 200:
            break
        if errors:
            continue
        row = response_row(**_fields(cycle, checked))
        rid = row["public_id"]
        ids.append(rid)
        if rid in rows:
            if _differs(row, rows[rid]):
                errors.append(
                    (
                        index,
                        "response_id",
                        DomainError(
                            "{id} 与第 {other} 条的 response_id 相同，内容却不同。",
                            "response_id",
                            id=rid,
                            other=first[rid],
                        ),
                    )
                )
            continue
        rows[rid], first[rid] = row, index
    if errors:
        raise ImportError_(errors)
    stored_before = _stored(list(rows))
    _check_same(rows, stored_before, first)
    new = [row for rid, row in rows.items() if rid not in stored_before]
    inserted = insert_new(new)
    lost = [row["public_id"] for row in new if row["public_id"] not in inserted]
    if lost:  # a concurrent batch stored them first: theirs stands if it is the same
        _check_same(rows, _stored(lost), first)
    return Ingested(ids, len(inserted), len(rows) - len(inserted))


def _stored(public_ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = [Response.public_id] + [getattr(Response, f) for f in SAME]
    for start in range(0, len(public_ids), 1000):
        chunk = public_ids[start : start + 1000]
        for values in db.session.execute(select(*columns).where(Response.public_id.in_(chunk))):
            found[values[0]] = dict(zip(SAME, values[1:], strict=True))
    return found


def _check_same(
    rows: dict[str, dict[str, Any]], stored: dict[str, dict[str, Any]], first: dict[str, int]
) -> None:
    conflicts = [
        (first[rid], rid, diff)
        for rid, values in stored.items()
        if (diff := _differs(rows[rid], values))
    ]
    if conflicts:
        raise Conflict(sorted(conflicts))
