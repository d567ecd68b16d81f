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
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evalsurvey.csvformat import HEAD, TAIL
from evalsurvey.domain.questionnaires import QuestionnaireError, format_value, parse_value
from evalsurvey.domain.responses import new_public_id
from evalsurvey.domain.units import ImportError_
from evalsurvey.extensions import db
from evalsurvey.models import Channel, Cycle, Questionnaire, RaterGroup, Response, Unit


def item_codes(questionnaires: Iterable[Questionnaire]) -> list[str]:
    """Item columns for a set of versions: first appearance order, each code once."""
    codes: list[str] = []
    for q in questionnaires:
        for item in q.items:
            if item.code not in codes:
                codes.append(item.code)
    return codes


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def export_responses(
    out: TextIO,
    *,
    cycle: Cycle | None = None,
    unit_ids: set[int] | None = None,
    progress: Callable[[int], None] | None = None,
    statuses: set[str] | None = None,
    external_only: bool = False,
) -> int:
    """Write responses (of ``cycle``, ``unit_ids`` and ``statuses`` when given) as CSV."""
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
    if external_only:  # see queries.recent_comments: internal groups' rows stay with the office
        query = query.where(
            Response.rater_group_id.in_(select(RaterGroup.id).where(RaterGroup.internal.is_(False)))
        )
    q_query = select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version)
    if cycle is not None:
        q_query = q_query.where(
            Questionnaire.id.in_(
                select(Response.questionnaire_id).where(Response.cycle_id == cycle.id)
            )
        )
    codes = item_codes(db.session.scalars(q_query))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEAD + codes + TAIL)
    count = 0
    for r in db.session.execute(query.execution_options(yield_per=1000)).scalars():
        writer.writerow(
            [
                r.public_id,
                r.questionnaire.label,
                r.unit.code,
                r.rater_group.code,
                r.rater,
                r.rater_unit,
                r.channel,
                r.device,
                _iso(r.started_at),
                _iso(r.submitted_at),
            ]
            + [format_value(r.answers.get(c)) for c in codes]
            + [r.comment]
        )
        count += 1
        if progress is not None and count % 500 == 0:
            progress(500)
    if progress is not None:
        progress(count % 500)
    return count


def _parse_time(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError("timestamp needs an offset, e.g. +08:00")
    return value


def import_responses(text: str, cycle: Cycle, default_channel: str = Channel.IMPORT) -> int:
    """Add responses from interchange CSV to ``cycle``, all or nothing.

    Every problem is collected and raised together as :class:`ImportError_`, each
    naming its row (the header is row 1) and column; nothing is written then.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise ImportError_([(1, "-", "the file is empty")])
    header = [h.strip() for h in header]
    missing = [c for c in HEAD + TAIL if c not in header]
    if missing:
        raise ImportError_([(1, c, "column is missing from the header") for c in missing])
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
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    groups = {g.code: g for g in db.session.scalars(select(RaterGroup))}
    versions = {
        q.label: q
        for q in db.session.scalars(
            select(Questionnaire).options(selectinload(Questionnaire.items))
        )
    }
    known_ids = set(db.session.scalars(select(Response.public_id)))
    errors: list[tuple[int, str, str]] = []
    pending: list[dict[str, Any]] = []
    seen_ids: dict[str, int] = {}
    for n, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append((n, "-", f"{len(cells)} cells, the header has {len(header)}"))
            continue
        row = dict(zip(header, cells, strict=True))
        rid = row["response_id"].strip() or new_public_id()
        if rid in known_ids:
            errors.append((n, "response_id", f"{rid!r} is already stored"))
        elif rid in seen_ids:
            errors.append((n, "response_id", f"{rid!r} repeats row {seen_ids[rid]}"))
        seen_ids[rid] = n
        q = versions.get(row["questionnaire"].strip())
        if q is None:
            errors.append((n, "questionnaire", f"unknown questionnaire {row['questionnaire']!r}"))
        unit = units.get(row["unit"].strip())
        if unit is None:
            errors.append((n, "unit", f"unknown unit {row['unit']!r}"))
        group = groups.get(row["rater_group"].strip())
        if group is None:
            errors.append((n, "rater_group", f"unknown rater group {row['rater_group']!r}"))
        channel = row["channel"].strip() or default_channel
        if channel not in set(Channel):
            errors.append((n, "channel", f"unknown channel {channel!r}"))
        times: dict[str, datetime | None] = {}
        for col in ("started_at", "submitted_at"):
            raw = row[col].strip()
            if not raw:
                if col == "submitted_at":
                    errors.append((n, col, "empty"))
                times[col] = None
                continue
            try:
                times[col] = _parse_time(raw)
            except ValueError as exc:
                errors.append((n, col, f"not an ISO 8601 timestamp with offset ({exc})"))
        answers: dict[str, Any] = {}
        if q is not None:
            by_code = {i.code: i for i in q.items}
            for col in item_columns:
                raw = row[col]
                item = by_code.get(col)
                if item is None:
                    if raw.strip():
                        errors.append((n, col, f"not an item of {q.label}"))
                    continue
                try:
                    answers[col] = parse_value(item, raw)
                except QuestionnaireError as exc:
                    errors.append((n, col, str(exc)))
            for code in by_code:
                answers.setdefault(code, None)
        if len(errors) > 200:
            break
        pending.append(
            {
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
            }
        )
    if errors:
        raise ImportError_(errors)
    for p in pending:
        db.session.add(
            Response(
                public_id=p["public_id"],
                cycle=cycle,
                unit=p["unit"],
                rater_group=p["rater_group"],
                questionnaire=p["questionnaire"],
                channel=p["channel"],
                started_at=p["started_at"],
                submitted_at=p["submitted_at"],
                answers=p["answers"],
                comment=p["comment"],
                device=p["device"],
                submission_key="import-" + p["public_id"],
                rater=p["rater"],
                rater_unit=p["rater_unit"],
            )
        )
    return len(pending)
