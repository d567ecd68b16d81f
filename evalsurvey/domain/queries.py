"""Read-side queries used by the staff pages and commands, kept in one place."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Link, RaterGroup, Response, Unit


@dataclass
class UnitCounts:
    unit: Unit
    total: int = 0
    by_group: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)


def response_counts(cycle: Cycle, unit_ids: set[int] | None = None) -> list[UnitCounts]:
    """Counts of a cycle's responses per unit, by rater group, channel and status."""
    query = (
        select(Response.unit_id, RaterGroup.code, Response.channel, Response.status, func.count())
        .join(RaterGroup, RaterGroup.id == Response.rater_group_id)
        .where(Response.cycle_id == cycle.id)
        .group_by(Response.unit_id, RaterGroup.code, Response.channel, Response.status)
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(unit_ids))
    rows = db.session.execute(query).all()
    ids = {r[0] for r in rows}
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    result: dict[int, UnitCounts] = {}
    for unit_id, group, channel, status, n in rows:
        c = result.setdefault(unit_id, UnitCounts(units[unit_id]))
        c.total += n
        for bucket, key in ((c.by_group, group), (c.by_channel, channel), (c.by_status, status)):
            bucket[key] = bucket.get(key, 0) + n
    return sorted(result.values(), key=lambda c: c.unit.code)


def cycle_totals(cycle_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Response.cycle_id, func.count())
        .where(Response.cycle_id.in_(cycle_ids))
        .group_by(Response.cycle_id)
    ).all()
    return defaultdict(int, {cid: n for cid, n in rows})


def cycle_links(cycle: Cycle, unit_ids: set[int] | None = None) -> list[Link]:
    query = (
        select(Link)
        .where(Link.cycle_id == cycle.id)
        .options(
            selectinload(Link.unit),
            selectinload(Link.rater_group),
            selectinload(Link.questionnaire),
        )
        .join(Unit, Unit.id == Link.unit_id)
        .order_by(Unit.code, Link.id)
    )
    if unit_ids is not None:
        query = query.where(Link.unit_id.in_(unit_ids))
    return list(db.session.scalars(query))


def recent_responses(
    cycle: Cycle, unit_ids: set[int] | None, external_only: bool = False, limit: int = 50
) -> list[Response]:
    """Latest responses; ``external_only`` as in :func:`recent_comments`."""
    return _latest(cycle, unit_ids, external_only, limit)


def recent_comments(
    cycle: Cycle, unit_ids: set[int] | None, external_only: bool, limit: int = 100
) -> list[Response]:
    """Latest responses with a comment: the feedback rectification starts from.

    ``external_only`` leaves out internal groups (members, leaders, departments): a
    branch's own contact reading its members' words could tell who wrote them.
    """
    return _latest(cycle, unit_ids, external_only, limit, Response.comment != "")


def _latest(cycle, unit_ids, external_only, limit, *conditions) -> list[Response]:
    query = (
        select(Response)
        .join(RaterGroup, RaterGroup.id == Response.rater_group_id)
        .where(Response.cycle_id == cycle.id, *conditions)
        .options(selectinload(Response.unit), selectinload(Response.rater_group))
        .order_by(Response.submitted_at.desc())
        .limit(limit)
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(unit_ids))
    if external_only:
        query = query.where(RaterGroup.internal.is_(False))
    return list(db.session.scalars(query))


def get_by_code(model, code: str):
    return db.session.scalar(select(model).where(model.code == code))
