"""The review queue: suspect responses grouped by their first reason and unit, decided by a
person one by one or a group at a time, with a reason. A decision beats every statistical
rule from the next analysis run on (:func:`evalsurvey.domain.collecting.responses.set_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evalsurvey.audit import record_reason
from evalsurvey.domain.access import Scope
from evalsurvey.domain.collecting.responses import set_status
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results.analysis import latest_runs
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Response, ResponseStatus

OTHER = "other"  # suspect without a flag in the latest run (marked before a recompute)
DECISIONS = {"confirm": ResponseStatus.EXCLUDED, "clear": ResponseStatus.VALID}


@dataclass
class QueueGroup:
    reason: str
    unit_code: str
    unit_name: str
    entries: list[tuple[Response, list[str], dict]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.reason}|{self.unit_code}"


def flags_of(cycle: Cycle) -> dict[str, dict]:
    """The latest runs' flags per response id: {"reasons": [...], "details": {...}}."""
    out: dict[str, dict] = {}
    for run in latest_runs(cycle).values():
        for entry in (run.result or {}).get("responses", []):
            out[entry["response_id"]] = entry
    return out


def review_queue(cycle: Cycle, scope: Scope) -> list[QueueGroup]:
    """Every suspect response no person has decided yet, within ``scope``, grouped by its
    first reason and its unit (largest groups first)."""
    rows = db.session.scalars(
        scope.rows(
            select(Response)
            .where(
                Response.cycle_id == cycle.id,
                Response.status == ResponseStatus.SUSPECT,
                Response.reviewed.is_(False),
            )
            .options(selectinload(Response.unit))
            .order_by(Response.submitted_at)
        )
    )
    flags = flags_of(cycle)
    groups: dict[tuple[str, str], QueueGroup] = {}
    for response in rows:
        flagged = flags.get(response.public_id, {})
        reasons = flagged.get("reasons") or [OTHER]
        key = (reasons[0], response.unit.code)
        group = groups.setdefault(
            key, QueueGroup(reasons[0], response.unit.code, response.unit.name)
        )
        group.entries.append((response, reasons, flagged.get("details", {})))
    return sorted(groups.values(), key=lambda g: (-len(g.entries), g.reason, g.unit_code))


def decide(responses: list[Response], decision: str, reason: str) -> int:
    """A person's decision on ``responses``: ``confirm`` (excluded) or ``clear`` (valid),
    with the reason, each audited. Flushed; returns how many were decided."""
    if decision not in DECISIONS:
        raise DomainError("请选择确认剔除或恢复有效。", "decision")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写复核理由。", "reason")
    if len(reason) > 500:
        raise DomainError("内容太长。", "reason")
    if not responses:
        raise DomainError("请至少选择一份答卷。")
    for response in responses:
        set_status(response, DECISIONS[decision])
        record_reason(response, "review", reason)
    db.session.flush()
    return len(responses)


def siblings(response: Response, scope: Scope, limit: int = 50) -> list[Response]:
    """Other responses from the same device in the same cycle (public links only; members'
    invitations carry no device), for the office: a phone that rated many units."""
    if not scope.office or not response.device:
        return []
    return list(
        db.session.scalars(
            select(Response)
            .where(
                Response.cycle_id == response.cycle_id,
                Response.device == response.device,
                Response.id != response.id,
            )
            .options(selectinload(Response.unit))
            .order_by(Response.submitted_at)
            .limit(limit)
        )
    )
