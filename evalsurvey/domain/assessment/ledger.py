"""The rectification ledger: items from deductions and from bad citizen reviews, worked on
by the unit, closed only by a reviewer with evidence and a note."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select

from evalsurvey.audit import record_reason
from evalsurvey.domain.assessment.schemes import unit_type_results
from evalsurvey.domain.errors import DomainError
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
# dropping a proposal is not a move: it has its own confirmation step (drop) and can be
# undone by a reviewer (restore)
REVIEWER_MOVES = {"proposed": {"open"}, "submitted": {"closed", "reopened"}}
SETTLED = ("closed", "dropped")  # no owner or deadline to change any more
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


class ItemErrors(DomainError):
    """A bulk action refused: each refused item's reason by its id. Nothing was changed."""

    def __init__(self, errors: dict[int, DomainError]):
        super().__init__("{n} 个整改项不能处理，所选各项均未保存；原因见各项。", n=len(errors))
        self.errors = errors


def _check_due(due_on: date | None, item: RectificationItem | None = None) -> None:
    """A deadline a person gives now: not a day already past in the office's zone (a typo in
    the year would make the item overdue at once). An item's own earlier deadline stands."""
    if due_on is None or (item is not None and due_on == item.due_on):
        return
    if due_on < to_local(utcnow()).date():
        raise DomainError("整改期限不能早于今天。", "due_on")


def _check_move(
    item: RectificationItem,
    status: str,
    reviewer: bool,
    note: str,
    owner: str,
    due_on: date | None,
) -> None:
    """Why ``item`` may not move to ``status`` (raised), before anything is written."""
    moves = REVIEWER_MOVES if reviewer else UNIT_MOVES
    if status not in moves.get(item.status, set()):
        raise DomainError("不允许的状态变更。", "status")
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    if status == "open" and (not owner.strip() or due_on is None):
        raise DomainError("确认整改项需要指定责任人和期限。", "owner")
    if status in ("submitted", "closed", "reopened") and not note:
        raise DomainError("请填写情况说明。", "note")
    if status == "closed" and not item.evidence:
        raise DomainError("销号必须有佐证材料。", "evidence")


def _apply_move(
    item: RectificationItem, status: str, actor: str, note: str, owner: str, due_on: date | None
) -> None:
    if status == "open":
        item.owner, item.due_on = owner.strip()[:120], due_on
    if status == "closed":
        item.closed_by, item.closed_at = actor, utcnow()
    item.status = status
    if note:
        item.note = note


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
    note, owner = (note or "").strip(), owner or ""
    _check_due(due_on, item)
    _check_move(item, status, reviewer, note, owner, due_on)
    _apply_move(item, status, actor, note, owner, due_on)
    db.session.flush()


def update(
    item: RectificationItem,
    reviewer: bool,
    note: str = "",
    owner: str = "",
    due_on: date | None = None,
    evidence_added: bool = False,
) -> None:
    """Save without moving: a new note (either side), or, by a reviewer, the owner and the
    deadline of an item not yet closed or dropped. Refused when nothing changes. Flushed."""
    note, owner = (note or "").strip(), (owner or "").strip()[:120]
    if item.status in SETTLED or not (reviewer or item.status in UNIT_MOVES):
        raise DomainError("该整改项现在不能修改。", "status")
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    changed = evidence_added or (bool(note) and note != item.note)
    if reviewer:
        _check_due(due_on, item)
    if reviewer and ((owner and owner != item.owner) or (due_on and due_on != item.due_on)):
        item.owner, item.due_on = owner or item.owner, due_on or item.due_on
        changed = True
    if not changed:
        raise DomainError("没有要保存的修改：请选择新的状态，或填写要修改的内容。", "status")
    if note:
        item.note = note
    db.session.flush()


def _check_assign(item: RectificationItem) -> None:
    if item.status in SETTLED:
        raise DomainError("已销号或不予立项的整改项不能再指派。", "owner")


def _each(items: list[RectificationItem], check) -> None:
    """``check`` every item, keeping each refusal by the item: all pass or none is changed."""
    if not items:
        raise DomainError("请先勾选整改项。", "items")
    errors = {}
    for item in items:
        try:
            check(item)
        except DomainError as exc:
            errors[item.id] = exc
    if errors:
        raise ItemErrors(errors)


def confirm_many(
    items: list[RectificationItem], actor: str, owner: str = "", due_on: date | None = None
) -> int:
    """Confirm the proposed ``items`` (to "open"): the owner and deadline given, else each
    item's own (assigned earlier). All or nothing. Returns how many."""
    owner = (owner or "").strip()
    _check_due(due_on)

    def check(item):
        if item.status != "proposed":
            raise DomainError("只有待确认的整改项可以确认。", "status")
        _check_move(item, "open", True, "", owner or item.owner, due_on or item.due_on)

    _each(items, check)
    for item in items:
        _apply_move(item, "open", actor, "", owner or item.owner, due_on or item.due_on)
    db.session.flush()
    return len(items)


def assign_many(items: list[RectificationItem], owner: str = "", due_on: date | None = None) -> int:
    """Give ``items`` an owner, a deadline or both, their status unchanged (items not closed
    or dropped). All or nothing. Returns how many."""
    owner = (owner or "").strip()
    if not owner and due_on is None:
        raise DomainError("请填写责任人或整改期限。", "owner")
    _check_due(due_on)
    _each(items, _check_assign)
    for item in items:
        item.owner, item.due_on = owner[:120] or item.owner, due_on or item.due_on
    db.session.flush()
    return len(items)


def close_many(items: list[RectificationItem], actor: str, note: str) -> int:
    """Close the submitted ``items`` with one note; each needs its evidence. All or
    nothing. Returns how many."""
    note = (note or "").strip()
    if not note:
        raise DomainError("请填写情况说明。", "note")

    def check(item):
        if item.status != "submitted":
            raise DomainError("只有已提交待销号的整改项可以销号。", "status")
        _check_move(item, "closed", True, note, "", None)

    _each(items, check)
    for item in items:
        _apply_move(item, "closed", actor, note, "", None)
    db.session.flush()
    return len(items)


def drop(item: RectificationItem, reason: str) -> None:
    """Decide not to take up a proposed item (不予立项), with the reason, kept as its note
    and in the audit log. A reviewer can undo it (:func:`restore`)."""
    reason = (reason or "").strip()
    if item.status != "proposed":
        raise DomainError("只有待确认的整改项可以不予立项。", "reason")
    if not reason:
        raise DomainError("请填写原因。", "reason")
    if len(reason) > 500:
        raise DomainError("内容太长。", "reason")
    item.status, item.note = "dropped", reason
    db.session.flush()
    record_reason(item, "drop", reason)
    db.session.flush()


def restore(item: RectificationItem) -> None:
    """Undo a drop: the item is proposed again (the change is in the audit log)."""
    if item.status != "dropped":
        raise DomainError("只有不予立项的整改项可以恢复。")
    item.status = "proposed"
    db.session.flush()


def overdue(item: RectificationItem, today: date) -> bool:
    return (
        item.status not in ("closed", "dropped")
        and item.due_on is not None
        and (item.due_on < today)
    )
