"""Department consultation: a department submits a bonus, penalty or veto for a unit, with a
reason; the office approves or rejects it with a reason. An approved adjustment enters the
result as a finding of that item (audited), so its explanation travels with the unit's
result; an approved penalty or veto also becomes a ledger item to follow up."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.domain.assessment.schemes import cycle_scheme, record_finding, scheme_of
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import Adjustment, Cycle, CycleScheme, Finding, RectificationItem, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.scoring import Finding as ScoringFinding
from evalsurvey.scoring import FindingsError
from evalsurvey.scoring.findings import check_finding


def adjustable_items(cycle: Cycle, unit: Unit) -> list:
    """The bonus, penalty and veto items of the scheme the cycle uses for the unit's type."""
    return adjustable_of_type(cycle, unit.type)


def adjustable_of_type(cycle: Cycle, unit_type: str) -> list:
    """The bonus, penalty and veto items of the scheme the cycle uses for ``unit_type``."""
    version = cycle_scheme(cycle, unit_type)
    if version is None:
        return []
    scheme = scheme_of(version)
    return [*scheme.bonus, *scheme.penalties, *scheme.vetoes]


def item_kind(cycle: Cycle, unit_type: str, code: str) -> str | None:
    """``bonus``, ``penalty`` or ``veto`` for an adjustable item's code, else None."""
    version = cycle_scheme(cycle, unit_type)
    if version is None:
        return None
    scheme = scheme_of(version)
    for kind, items in (("bonus", scheme.bonus), ("penalty", scheme.penalties),
                        ("veto", scheme.vetoes)):  # fmt: skip
        if any(i.code == code for i in items):
            return kind
    return None


def proposable_units(cycle: Cycle) -> list[Unit]:
    """The units a department may propose for in ``cycle``: the active units of every type
    the cycle assesses with a scheme, by type and code."""
    types = select(CycleScheme.unit_type).where(CycleScheme.cycle_id == cycle.id)
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.active.is_(True), Unit.type.in_(types))
            .order_by(Unit.type, Unit.code)
        )
    )


def submit_adjustment(
    cycle: Cycle, unit: Unit, item: str, value: str, reason: str, actor: str
) -> Adjustment:
    """A department's proposal (pending until the office decides). Flushed."""
    version = cycle_scheme(cycle, unit.type)
    if version is None:
        raise DomainError("本周期尚未为该类型单位指定考核方案。")
    if not unit.active:
        raise DomainError("该单位已停用。", "unit")
    if item not in {i.code for i in adjustable_items(cycle, unit)}:
        raise DomainError("只能提出加分项、减分项或否决项。", "item")
    if not (value or "").strip():
        raise DomainError("请填写取值。", "value")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请填写原因。", "reason")
    try:
        check_finding(scheme_of(version), ScoringFinding(unit.code, item, value, reason, 0))
    except FindingsError:
        raise DomainError("取值不符合该要素的计分规则。", "value") from None
    found = Adjustment(
        cycle_id=cycle.id,
        unit_id=unit.id,
        item=item,
        value=value.strip()[:200],
        reason=reason[:2000],
        submitted_by=actor,
    )
    db.session.add(found)
    db.session.flush()
    return found


def merged_value(old: str, new: str) -> str:
    """Occurrence counts added together (``a:1;b:2`` + ``a:1`` → ``a:2;b:2``); a veto stays 1."""
    if new.strip() in ("0", "1"):
        return "1" if "1" in (old.strip(), new.strip()) else "0"
    counts: dict[str, int] = {}
    for text in (old, new):
        for part in text.split(";"):
            cat, _sep, n = part.partition(":")
            if cat.strip():
                counts[cat.strip()] = counts.get(cat.strip(), 0) + int(n or 1)
    return ";".join(f"{c}:{n}" for c, n in counts.items())


def decide(adjustment: Adjustment, approve: bool, decision: str, actor: str) -> None:
    """The office's decision, with a reason. Approving adds the adjustment to the unit's
    finding for that item (occurrences added up). Flushed."""
    if adjustment.status != "pending":
        raise DomainError("该申请已处理。")
    if actor == adjustment.submitted_by:
        raise DomainError("不能审批自己提交的申请。")
    decision = (decision or "").strip()
    if not decision:
        raise DomainError("请填写原因。", "decision")
    if approve:
        current = db.session.scalar(
            select(Finding).where(
                Finding.cycle_id == adjustment.cycle_id,
                Finding.unit_id == adjustment.unit_id,
                Finding.element == adjustment.item,
            )
        )
        value = merged_value(current.value, adjustment.value) if current else adjustment.value
        note = f"{adjustment.submitted_by}: {adjustment.reason}"
        if current is not None and current.note:
            note = f"{current.note}\n{note}"
        record_finding(
            adjustment.cycle,
            adjustment.unit,
            adjustment.item,
            value,
            note[:2000],
            actor,
            reason=decision,
        )
        # the problem a department raised is followed up like a deduction (a bonus is none)
        if item_kind(adjustment.cycle, adjustment.unit.type, adjustment.item) != "bonus":
            db.session.add(
                RectificationItem(
                    cycle_id=adjustment.cycle_id,
                    unit_id=adjustment.unit_id,
                    source="consultation",
                    reference=f"A{adjustment.id}",
                    # the problem is what the department found, not the office's "同意"
                    title=f"{adjustment.item} {adjustment.reason}"[:300],
                    detail=adjustment.value,
                )
            )
    adjustment.status = "approved" if approve else "rejected"
    adjustment.decided_by, adjustment.decision, adjustment.decided_at = actor, decision, utcnow()
    db.session.flush()
