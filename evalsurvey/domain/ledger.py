"""The rectification ledger: items from deductions and from bad citizen reviews, worked on
by the unit, closed only by a reviewer with evidence and a note."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.schemes import unit_type_results
from evalsurvey.extensions import db
from evalsurvey.models import (
    Cycle,
    ItemType,
    RectificationItem,
    Response,
    ResponseStatus,
    Unit,
)
from evalsurvey.models.types import utcnow
from evalsurvey.scoring.workdays import WorkCalendar, add_working_days, china_calendar
from evalsurvey.timezones import to_local

# who may move an item from one status to the next
UNIT_MOVES = {
    "open": {"in_progress", "submitted"},
    "in_progress": {"submitted"},
    "reopened": {"in_progress", "submitted"},
}
REVIEWER_MOVES = {"proposed": {"open", "dropped"}, "submitted": {"closed", "reopened"}}
BAD_LEVELS = (1, 2)  # the two lowest satisfaction levels


def work_calendar() -> WorkCalendar:
    """China's holidays and make-up working days (调休) from the maintained calendar, with the
    office's ``HOLIDAYS`` and ``WORKDAYS`` (ISO dates) on top: deadlines count its working days."""
    config = current_app.config
    return china_calendar(
        holidays=(date.fromisoformat(d) for d in config.get("HOLIDAYS", [])),
        workdays=(date.fromisoformat(d) for d in config.get("WORKDAYS", [])),
    )


def propose_from_deductions(cycle: Cycle, unit_type: str) -> int:
    """One proposed item per element that lost points, for every unit of the type (once)."""
    results = unit_type_results(cycle, unit_type)
    if results is None:
        raise DomainError("本周期尚未为该类型单位指定考核方案。")
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))}
    titles = {e.code: e.title for e in results.scheme.elements()}
    made = 0
    for code, result in results.units.items():
        for element, r in result.elements.items():
            if r.points is None or r.points >= r.max - 1e-9 or r.rule == "survey":
                continue
            if _exists(cycle, units[code], "deduction", element):
                continue
            db.session.add(
                RectificationItem(
                    cycle_id=cycle.id,
                    unit_id=units[code].id,
                    source="deduction",
                    reference=element,
                    title=f"{element} {titles[element]}"[:300],
                    detail=f"{r.points:g} / {r.max:g}",
                )
            )
            made += 1
    db.session.flush()
    return made


def follow_up_bad_reviews(
    cycle: Cycle, visit_days: int | None = None, fix_days: int | None = None
) -> int:
    """An open item for every citizen response with an answer at the two lowest satisfaction
    levels and a comment: a return visit within ``visit_days`` and a fix within ``fix_days``
    working days of the response (defaults: ``REVIEW_VISIT_DAYS``, ``REVIEW_FIX_DAYS``).
    The item keeps the comment, never who or when."""
    visit_days = current_app.config["REVIEW_VISIT_DAYS"] if visit_days is None else visit_days
    fix_days = current_app.config["REVIEW_FIX_DAYS"] if fix_days is None else fix_days
    rows = db.session.scalars(
        select(Response).where(
            Response.cycle_id == cycle.id,
            Response.comment != "",
            Response.status != ResponseStatus.EXCLUDED,
        )
    )
    off = work_calendar()
    made = 0
    for response in rows:
        satisfaction = [
            response.answers.get(item.code)
            for item in response.questionnaire.items
            if item.type == ItemType.SATISFACTION5
        ]
        if not any(v in BAD_LEVELS for v in satisfaction):
            continue
        if _exists(cycle, response.unit, "review", response.public_id):
            continue
        day = to_local(response.submitted_at).date()
        db.session.add(
            RectificationItem(
                cycle_id=cycle.id,
                unit_id=response.unit_id,
                source="review",
                reference=response.public_id,
                title=response.comment[:300],
                status="open",
                visit_due_on=add_working_days(day, visit_days, off),
                due_on=add_working_days(day, fix_days, off),
            )
        )
        made += 1
    db.session.flush()
    return made


def _exists(cycle: Cycle, unit: Unit, source: str, reference: str) -> bool:
    return (
        db.session.scalar(
            select(RectificationItem.id).where(
                RectificationItem.cycle_id == cycle.id,
                RectificationItem.unit_id == unit.id,
                RectificationItem.source == source,
                RectificationItem.reference == reference,
            )
        )
        is not None
    )


def move(
    item: RectificationItem,
    status: str,
    actor: str,
    reviewer: bool,
    note: str = "",
    owner: str = "",
    due_on: date | None = None,
) -> None:
    """Move ``item`` to ``status`` as a reviewer (office) or as the unit. Closing needs
    evidence and a note; confirming a proposal needs an owner and a deadline. Flushed."""
    moves = REVIEWER_MOVES if reviewer else UNIT_MOVES
    if status not in moves.get(item.status, set()):
        raise DomainError("不允许的状态变更。", "status")
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    if status == "open":
        if not (owner or "").strip() or due_on is None:
            raise DomainError("确认整改项需要指定责任人和期限。", "owner")
        item.owner, item.due_on = owner.strip()[:120], due_on
    if status in ("submitted", "closed", "reopened") and not note:
        raise DomainError("请填写情况说明。", "note")
    if status == "closed":
        if not item.evidence:
            raise DomainError("销号必须有佐证材料。", "evidence")
        item.closed_by, item.closed_at = actor, utcnow()
    item.status = status
    if note:
        item.note = note
    db.session.flush()


def overdue(item: RectificationItem, today: date) -> bool:
    return (
        item.status not in ("closed", "dropped")
        and item.due_on is not None
        and (item.due_on < today)
    )
