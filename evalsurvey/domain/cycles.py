"""Assessment cycles: create, change, and move through their statuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from evalsurvey.audit import record_reason
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import check_code
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus
from evalsurvey.models.cycles import CYCLE_TRANSITIONS, PERIODS
from evalsurvey.models.types import utcnow

# The one move back: an admin reopens a closed cycle, giving a reason that is audited.
REOPEN = (CycleStatus.CLOSED, CycleStatus.OPEN)


def _check(name: str, opens_at: datetime | None, closes_at: datetime | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写名称。", "name")
    if len(name) > 200:
        raise DomainError("名称最多 200 个字符。", "name")
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError("截止时间必须晚于开始时间。", "closes_at")
    return name


def create_cycle(
    code: str,
    name: str,
    period: str = "year",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Cycle:
    """A new cycle in draft (flushed, not committed)."""
    code = check_code(code)
    name = _check(name, opens_at, closes_at)
    if period not in PERIODS:
        raise DomainError("未知的周期类型。", "period")
    if db.session.scalar(select(Cycle.id).where(Cycle.code == code)) is not None:
        raise DomainError("该编码已被使用。", "code")
    cycle = Cycle(code=code, name=name, period=period, opens_at=opens_at, closes_at=closes_at)
    db.session.add(cycle)
    db.session.flush()
    return cycle


def update_cycle(
    cycle: Cycle, name: str, opens_at: datetime | None, closes_at: datetime | None
) -> Cycle:
    cycle.name = _check(name, opens_at, closes_at)
    cycle.opens_at, cycle.closes_at = opens_at, closes_at
    db.session.flush()
    return cycle


def allowed_moves(cycle: Cycle) -> list[str]:
    """The statuses ``cycle`` may move to next (reopening included)."""
    moves = [s.value for s in CYCLE_TRANSITIONS[CycleStatus(cycle.status)]]
    if cycle.status == REOPEN[0]:
        moves.append(REOPEN[1].value)
    return moves


def transition(cycle: Cycle, status: str, reason: str = "") -> Cycle:
    """Move ``cycle`` to ``status``; reopening a closed cycle needs a reason (audited)."""
    if status not in allowed_moves(cycle):
        raise DomainError("不允许的状态变更。", "status")
    reopening = (cycle.status, status) == REOPEN
    if reopening:
        reason = (reason or "").strip()
        if not reason:
            raise DomainError("重新开放必须填写原因。", "reason")
        record_reason(cycle, "reopen", reason)
        cycle.closed_at = None
    cycle.status = status
    if status == CycleStatus.CLOSED:
        cycle.closed_at = utcnow()
    db.session.flush()
    return cycle
