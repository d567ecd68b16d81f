"""Exports people open in Excel: responses as XLSX (streamed), results as XLSX and CSV.

Formula injection is neutralised by the one rule of :mod:`evalsurvey.cells`: text that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, in CSV and
XLSX alike, and an XLSX text cell is always stored as text, never as a formula. (The response
interchange CSV is a contract for other systems, written as it is and offered as a data file.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import LargeBinary, cast, func, select
from sqlalchemy.orm import selectinload

from evalsurvey.cells import inert, xlsx_row
from evalsurvey.domain.access import Scope
from evalsurvey.domain.collecting.questionnaires import cycle_items
from evalsurvey.extensions import db
from evalsurvey.models import Channel, Cycle, RaterGroup, Response, ResponseStatus, Unit
from evalsurvey.reports.sheet import column_letter, write_sheet
from evalsurvey.reports.spss import MAX_WIDTH, Variable, write_sav
from evalsurvey.scoring.result import Standing, shown
from evalsurvey.timezones import to_local

NUMBER_TYPES = ("satisfaction5", "scale10", "points")


def write_csv(out: IO[str], header: list[str], rows: Iterable[list[Any]]) -> None:
    """A CSV for Excel: every cell :func:`~evalsurvey.cells.inert`."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([inert(h) for h in header])
    for row in rows:
        writer.writerow([inert(v) for v in row])


def _sheet(book: Workbook, title: str, header: list[str], widths: list[int]):
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for i, width in enumerate(widths):
        sheet.column_dimensions[column_letter(i)].width = width
    sheet.append(xlsx_row(sheet, header, font=Font(bold=True)))
    return sheet


def _local(value):
    """An aware time as the office's wall clock to the second, as Excel dates are (no zone)."""
    return to_local(value).replace(tzinfo=None, microsecond=0) if value is not None else None


def _answer_cells(answers: dict, kinds: list[tuple[str, bool]]) -> list:
    """A response's answers as cells, item by item: numbers stay numbers, several choices
    are joined with ``;``, anything else is its text."""
    cells = []
    for code, numeric in kinds:
        value = answers.get(code)
        if isinstance(value, list):
            value = ";".join(value)
        elif not numeric and value is not None:
            value = str(value)
        cells.append(value)
    return cells


def responses_xlsx(
    out: IO[bytes], cycle: Cycle, scope: Scope, labels: dict[str, str], names: dict[str, dict]
) -> int:
    """Write the cycle's responses this person may read as an XLSX workbook, one row each,
    streamed (rows read in batches and written as they come: memory stays flat; see
    :mod:`evalsurvey.reports.sheet`, whose text cells are never formulas).

    ``labels`` names the fixed columns in the reader's language; ``names`` gives display
    names (``status``, ``channel``, ``group``: code → name). Returns the rows written."""
    items = cycle_items(cycle.id)
    fixed = ["id", "unit", "unit_name", "parent", "group", "channel", "status", "started",
             "submitted", "seconds"]  # fmt: skip
    header = [labels[k] for k in fixed] + [f"{c} {i.text}" for c, i in items.items()]
    header.append(labels["comment"])
    widths = [18, 12, 28, 16, 10, 8, 8, 20, 20, 8] + [14] * len(items) + [40]
    # column tuples, not ORM objects, and plain cell values: the export's speed is this loop
    units = {
        u.id: (u.code, u.name, u.parent.name if u.parent else "")
        for u in db.session.scalars(select(Unit).options(selectinload(Unit.parent)))
    }
    groups = {
        g.id: names["group"].get(g.code, g.code) for g in db.session.scalars(select(RaterGroup))
    }
    channels, statuses = names["channel"], names["status"]
    query = scope.rows(
        select(
            Response.public_id, Response.unit_id, Response.rater_group_id, Response.channel,
            Response.status, Response.started_at, Response.submitted_at, Response.answers,
            Response.comment,
        )
        .where(Response.cycle_id == cycle.id)
        .order_by(Response.id)
    )  # fmt: skip
    kinds = [(code, item.type in NUMBER_TYPES) for code, item in items.items()]

    def rows():
        for public_id, unit_id, group_id, channel, status, started_at, submitted_at, \
                answers, comment in db.session.execute(
                    query.execution_options(yield_per=5000)):  # fmt: skip
            unit = units[unit_id]
            row = [
                public_id,
                *unit,
                groups.get(group_id, ""),
                channels.get(channel, channel),
                statuses.get(status, status),
                _local(started_at),
                _local(submitted_at),
                round((submitted_at - started_at).total_seconds()) if started_at else None,
            ]
            row.extend(_answer_cells(answers, kinds))
            row.append(comment)
            yield row

    return write_sheet(out, labels["sheet"], header, widths, rows())


def results_rows(rows: list[Standing], reason) -> tuple[list[str], list[list[Any]]]:
    """The ranking (the cycle's result's standing rows) as table rows: rank, unit, name,
    score, grade, reason, previous, change; points as the pages show them (:func:`shown`)."""
    body = [
        [r.rank, r.unit, r.name, shown(r.score), r.label, reason(r), shown(r.previous),
         shown(r.change)]
        for r in rows
    ]  # fmt: skip
    return ["rank", "unit", "name", "score", "grade", "reason", "previous", "change"], body


def results_xlsx(out: IO[bytes], title: str, header: list[str], body: list[list[Any]]) -> None:
    book = Workbook(write_only=True)
    sheet = _sheet(book, title, header, [6, 12, 30, 10, 10, 60, 10, 10])
    for row in body:
        sheet.append(xlsx_row(sheet, row))
    book.save(out)


def _spss_name(code: str, taken: set[str]) -> str:
    """A valid SPSS variable name for an item code (letters first, no punctuation)."""
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in code)[:60]
    if not name or not name[0].isalpha():
        name = "q" + name
    base, n = name, 1
    while name.lower() in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name.lower())
    return name


def _byte_length(column):
    """A text column's length in UTF-8 bytes, in SQL (SQLite before 3.43 has no
    ``octet_length``; a text cast to a blob is its UTF-8 bytes)."""
    if db.engine.dialect.name == "sqlite":
        return func.length(cast(column, LargeBinary))
    return func.octet_length(column)


def responses_sav(
    out: IO[bytes],
    cycle: Cycle,
    scope: Scope,
    labels: dict[str, str],
    compression: str = "zlib",
) -> int:
    """Write the cycle's responses this person may read as an SPSS system file: one
    variable per item with the question as its label, the satisfaction levels as value
    labels, times in the office's zone. Streamed (:mod:`evalsurvey.reports.spss`): the rows
    are written case by case as they are read, so memory stays flat; the text columns'
    widths come first from SQL (and, for text answers only, a first pass). ``compression``
    ``"zlib"`` (``.zsav``: the size does not follow the longest comment) or ``"bytecode"``
    (``.sav``). Returns the rows written."""
    from evalsurvey.models.questionnaires import SATISFACTION_LEVELS

    items = cycle_items(cycle.id)
    fixed = ("id", "unit", "unit_name", "group", "channel", "status", "submitted")
    taken = {*fixed, "comment"}
    names = {code: _spss_name(code, taken) for code in items}
    levels = {float(v): zh for v, zh, _en in SATISFACTION_LEVELS}
    variables = [
        Variable(k, labels.get(k, k), "datetime" if k == "submitted" else "text") for k in fixed
    ]
    for code, item in items.items():
        numeric = item.type in NUMBER_TYPES
        variables.append(
            Variable(
                names[code],
                item.text,
                "number" if numeric else "text",
                decimals=2 if item.type == "points" else 0,
                value_labels=levels if item.type == "satisfaction5" else {},
            )
        )
    variables.append(Variable("comment", labels.get("comment", "comment"), "text"))
    units = {u.id: (u.code, u.name) for u in db.session.scalars(select(Unit))}
    groups = {g.id: g.code for g in db.session.scalars(select(RaterGroup))}
    query = scope.rows(
        select(
            Response.public_id, Response.unit_id, Response.rater_group_id, Response.channel,
            Response.status, Response.submitted_at, Response.answers, Response.comment,
        )
        .where(Response.cycle_id == cycle.id)
        .order_by(Response.id)
    )  # fmt: skip
    kinds = [(code, item.type in NUMBER_TYPES) for code, item in items.items()]

    def rows():
        for (
            public_id,
            unit_id,
            group_id,
            channel,
            status,
            submitted_at,
            answers,
            comment,
        ) in db.session.execute(query.execution_options(yield_per=5000)):
            unit = units[unit_id]
            row = [public_id, unit[0], unit[1], groups.get(group_id, ""), channel, status,
                   _local(submitted_at)]  # fmt: skip
            row.extend(_answer_cells(answers, kinds))
            row.append(comment)
            yield row

    # the text columns' widths in UTF-8 bytes, before any case is written: the fixed ones
    # from the units and groups, the id and comment from the database; only answers to
    # items that are not numbers need a first pass over the rows
    def widest(values) -> int:
        return max([1, *(len(str(v).encode("utf-8")) for v in values if v)])

    where = scope.rows(select(Response.id).where(Response.cycle_id == cycle.id)).whereclause
    n, last, id_bytes, comment_bytes = db.session.execute(
        select(func.count(), func.max(Response.id), func.max(_byte_length(Response.public_id)),
               func.max(_byte_length(Response.comment))).where(where)
    ).one()  # fmt: skip
    # the rows counted now, whatever arrives while the file is written
    query = query.where(Response.id <= (last or 0))
    widths = {
        "id": id_bytes or 1,
        "unit": widest(u[0] for u in units.values()),
        "unit_name": widest(u[1] for u in units.values()),
        "group": widest(groups.values()),
        "channel": widest(c.value for c in Channel),
        "status": widest(st.value for st in ResponseStatus),
        "comment": comment_bytes or 1,
    }
    texts = [(i, names[code]) for i, (code, numeric) in enumerate(kinds) if not numeric]
    if texts:
        seen = dict.fromkeys((name for _i, name in texts), 1)
        for row in rows():
            for i, name in texts:
                value = row[len(fixed) + i]
                if value:
                    seen[name] = max(seen[name], len(value.encode("utf-8")))
        widths |= seen
    widths = {k: min(v, MAX_WIDTH) for k, v in widths.items()}
    return write_sav(
        out, variables, widths, rows(), n, file_label=cycle.code, compression=compression
    )
