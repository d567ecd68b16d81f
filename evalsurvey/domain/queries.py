"""Read-side queries used by the staff pages and commands, kept in one place."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from evalsurvey.domain.access import Scope
from evalsurvey.extensions import db
from evalsurvey.models import BlockedAttempt, Cycle, Link, RaterGroup, Response, Unit


@dataclass
class UnitCounts:
    unit: Unit
    total: int = 0
    by_group: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)


def response_counts(
    cycle: Cycle, scope: Scope | None = None, unit_ids: set[int] | None = None
) -> list[UnitCounts]:
    """Counts of a cycle's responses per unit, by rater group, channel and status.

    Counts are shown for every group of the units in ``scope``: a count says nothing
    about who wrote what.
    """
    query = (
        select(Response.unit_id, RaterGroup.code, Response.channel, Response.status, func.count())
        .join(RaterGroup, RaterGroup.id == Response.rater_group_id)
        .where(Response.cycle_id == cycle.id)
        .group_by(Response.unit_id, RaterGroup.code, Response.channel, Response.status)
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(unit_ids))
    if scope is not None:
        query = scope.units(query)
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


def blocked_counts(
    cycle: Cycle, scope: Scope | None = None, unit_ids: set[int] | None = None
) -> dict[int, int]:
    """Public submissions the rate limits refused, per unit: a flood held back is still
    evidence about the unit (see :mod:`evalsurvey.ratelimit`)."""
    query = (
        select(Link.unit_id, func.count())
        .select_from(BlockedAttempt)
        .join(Link, Link.id == BlockedAttempt.link_id)
        .where(Link.cycle_id == cycle.id)
        .group_by(Link.unit_id)
    )
    if unit_ids is not None:
        query = query.where(Link.unit_id.in_(unit_ids))
    if scope is not None:
        query = scope.units(query, Link.unit_id)
    return {unit_id: n for unit_id, n in db.session.execute(query)}


def cycle_totals(cycle_ids: list[int], scope: Scope | None = None) -> dict[int, int]:
    """Responses per cycle, counting only the units in ``scope``."""
    query = (
        select(Response.cycle_id, func.count())
        .where(Response.cycle_id.in_(cycle_ids))
        .group_by(Response.cycle_id)
    )
    if scope is not None:
        query = scope.units(query)
    rows = db.session.execute(query).all()
    return defaultdict(int, {cid: n for cid, n in rows})


def cycle_links_query(cycle: Cycle, scope: Scope | None = None) -> Select:
    """The cycle's links of units in ``scope``, with their unit, group and questionnaire."""
    query = (
        select(Link)
        .where(Link.cycle_id == cycle.id)
        .options(
            selectinload(Link.unit),
            selectinload(Link.rater_group),
            selectinload(Link.questionnaire),
        )
        .join(Unit, Unit.id == Link.unit_id)
    )
    return scope.units(query, Link.unit_id) if scope is not None else query


def cycle_links(cycle: Cycle, scope: Scope | None = None) -> list[Link]:
    """:func:`cycle_links_query` by unit code."""
    return list(db.session.scalars(cycle_links_query(cycle, scope).order_by(Unit.code, Link.id)))


def responses_page(cycle: Cycle, scope: Scope, *, page: int = 1, per_page: int = 50, **filters):
    """A page of the cycle's responses this person may read, newest first, filtered as
    :func:`responses_query` filters."""
    query = responses_query(cycle, scope, **filters)
    return db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)


def responses_query(
    cycle: Cycle,
    scope: Scope,
    *,
    unit_ids: set[int] | None = None,
    group: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    public_ids: set[str] | None = None,
):
    """The cycle's responses this person may read, newest first, filtered (by unit
    subtree, rater group, status, channel, submission time from ``since`` up to ``until``,
    and ``public_ids``: e.g. those flagged for one reason): the pages and the API."""
    query = _rows(cycle, scope, unit_ids)
    if group:
        query = query.where(RaterGroup.code == group)
    if status:
        query = query.where(Response.status == status)
    if channel:
        query = query.where(Response.channel == channel)
    if since is not None:
        query = query.where(Response.submitted_at >= since)
    if until is not None:
        query = query.where(Response.submitted_at < until)
    if public_ids is not None:
        query = query.where(Response.public_id.in_(public_ids or {""}))
    return query


def recent_comments(
    cycle: Cycle, scope: Scope, unit_ids: set[int] | None = None, limit: int = 100
) -> list[Response]:
    """Latest responses with a comment, of the groups this person may read: the feedback
    rectification starts from."""
    query = _rows(cycle, scope, unit_ids).where(Response.comment != "").limit(limit)
    return list(db.session.scalars(query))


def _rows(cycle: Cycle, scope: Scope, unit_ids: set[int] | None):
    query = (
        select(Response)
        .join(RaterGroup, RaterGroup.id == Response.rater_group_id)
        .where(Response.cycle_id == cycle.id)
        .options(selectinload(Response.unit), selectinload(Response.rater_group))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(unit_ids))
    return scope.rows(query)


def get_by_code(model, code: str):
    return db.session.scalar(select(model).where(model.code == code))
