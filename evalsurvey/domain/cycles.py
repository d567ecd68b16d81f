"""Assessment cycles: create, change, and move through their statuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from evalsurvey.audit import record_reason
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import check_code
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, RaterGroup
from evalsurvey.models.cycles import CYCLE_TRANSITIONS, PERIODS
from evalsurvey.models.types import utcnow

# The one move back: an admin reopens a closed cycle, giving a reason that is audited.
REOPEN = (CycleStatus.CLOSED, CycleStatus.OPEN)


def in_time_order() -> list[Cycle]:
    """Every cycle, oldest first: the one order of cycles in time, which the burst rule's
    earlier baselines, the previous cycle of year-over-year comparisons and a unit's trend
    all follow.

    A cycle is placed by its opening time. The cycle form lets a cycle be saved without one,
    and a cycle keeps no created time to fall back on, so an undated cycle is placed by the
    order cycles were created in (their ids): right after every cycle created before it (at
    the latest opening time among them), or first when none was. Cycles placed at the same
    time keep the order they were created in. Worked out here rather than in SQL, where
    ``opens_at < NULL`` holds for nothing and SQLite and PostgreSQL sort a missing time at
    opposite ends.
    """
    keys = {}
    latest = None  # the latest opening time among the cycles created so far
    for cycle in db.session.scalars(select(Cycle).order_by(Cycle.id)):
        when = cycle.opens_at if cycle.opens_at is not None else latest
        if when is not None and (latest is None or when > latest):
            latest = when
        keys[cycle] = (0, 0, cycle.id) if when is None else (1, when, cycle.id)
    return sorted(keys, key=keys.__getitem__)


def earlier_than(cycle: Cycle) -> list[Cycle]:
    """The cycles before ``cycle`` in :func:`in_time_order`, the latest first."""
    ordered = in_time_order()
    return ordered[: ordered.index(cycle)][::-1] if cycle in ordered else []


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


MIN_N_LIMIT = 1000  # a minimum above this is a typing slip, not a sample size


def set_group_minimums(cycle: Cycle, minimums: dict[str, int | None]) -> Cycle:
    """The fewest scored responses each rater group needs for a unit before it has a score
    in this cycle (None: the default of five). Applied by the next analysis. Flushed."""
    known = set(db.session.scalars(select(RaterGroup.code)))
    out = {}
    for code, n in minimums.items():
        if code not in known:
            raise DomainError("未知的评价群体 {name}。", f"min_{code}", name=code)
        if n is None:
            continue
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MIN_N_LIMIT:
            raise DomainError("请填写 1 到 {limit} 之间的整数。", f"min_{code}", limit=MIN_N_LIMIT)
        out[code] = n
    cycle.group_min_n = dict(sorted(out.items()))
    db.session.flush()
    return cycle
