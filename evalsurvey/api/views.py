"""What other systems read: units, rater groups, questionnaires, cycles, links, responses,
counts, results and rectification items, each through the pages' domain functions and
the token owner's scope (:mod:`evalsurvey.domain.access`). Lists are paged by an opaque
cursor (``?cursor=`` from the previous page's ``next_cursor``)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from spectree import Response as Doc
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from evalsurvey.admin.blueprint import base_url
from evalsurvey.api import auth, bp, spec
from evalsurvey.api.problems import ApiProblem
from evalsurvey.api.schemas import (
    CountList,
    CycleList,
    CycleOut,
    LedgerPage,
    LinkList,
    PageQuery,
    Problem,
    QuestionnaireList,
    RaterGroupList,
    ResponsePage,
    ResponseQuery,
    ResultOut,
    ResultQuery,
    UnitOut,
    UnitPage,
    UnitQuery,
)
from evalsurvey.domain import queries
from evalsurvey.domain.access import AccessDenied
from evalsurvey.domain.assessment.publication import publication_of
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.cycles import in_time_order
from evalsurvey.domain.files.interchange import _iso as iso
from evalsurvey.domain.results.cycle import cycle_result, published_result
from evalsurvey.domain.results.dashboard import UnitFlags, unit_flags
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import (
    Cycle,
    Link,
    Questionnaire,
    RaterGroup,
    RectificationItem,
    Response,
    Unit,
)
from evalsurvey.reports.words import grade_reason
from evalsurvey.scoring.result import CycleResult, UnitResult

NOT_FOUND = {"HTTP_404": Problem}
UNITS, CYCLES, RESPONSES, RESULTS = "units", "cycles", "responses", "results"


def _cursor(raw: str | None) -> int:
    """The id a page starts after (cursors are ids; a client treats them as opaque)."""
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 9:
        raise ApiProblem(
            422,
            _("请求内容有误。"),
            [{"index": None, "field": "cursor", "detail": _("无效的游标。")}],
        )
    return int(raw)


def _paged(query: Select, id_column, args: PageQuery) -> tuple[list[Any], str | None]:
    rows = list(
        db.session.scalars(
            query.where(id_column > _cursor(args.cursor)).order_by(id_column).limit(args.limit + 1)
        )
    )
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    return rows, (str(rows[-1].id) if more and rows else None)


def _paged_list(rows: list[Any], args: PageQuery) -> tuple[list[Any], str | None]:
    """A page of an ordered list of rows, resuming after the row whose id is the cursor
    (for lists ordered by something other than id, e.g. cycles in time order)."""
    after = _cursor(args.cursor)
    # a cursor naming no row (its row was deleted) ends the list rather than restart it
    start = (
        next((i + 1 for i, row in enumerate(rows) if row.id == after), len(rows)) if after else 0
    )
    page = rows[start : start + args.limit]
    more = start + args.limit < len(rows)
    return page, (str(page[-1].id) if more and page else None)


def _cycle(code: str) -> Cycle:
    cycle = queries.get_by_code(Cycle, code)
    if cycle is None:
        raise ApiProblem(404, _("找不到考评周期 {code}。", code=code))
    return cycle


def _unit_in_scope(code: str) -> Unit:
    unit = queries.get_by_code(Unit, code)
    if unit is None:
        raise ApiProblem(404, _("找不到单位 {code}。", code=code))
    try:
        return auth.scope().require_unit(unit)
    except AccessDenied:
        raise ApiProblem(403, _("该令牌无权查看单位 {code}。", code=code)) from None


def _unit_out(unit: Unit, parents: dict[int, str]) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "type": unit.type,
        "parent": parents.get(unit.parent_id) if unit.parent_id else None,
        "active": unit.active,
    }


@bp.get("/units")
@spec.validate(query=UnitQuery, resp=Doc(HTTP_200=UnitPage, HTTP_422=Problem), tags=[UNITS])
def list_units(query: UnitQuery):
    """Units this token may see (a unit contact: its unit and those below it)."""
    statement = auth.scope().units(select(Unit), Unit.id)
    if query.type:
        statement = statement.where(Unit.type == query.type)
    units, cursor = _paged(statement, Unit.id, query)
    parents = dict(db.session.execute(select(Unit.id, Unit.code)).all())
    return {"units": [_unit_out(u, parents) for u in units], "next_cursor": cursor}


@bp.get("/units/<code>")
@spec.validate(resp=Doc(HTTP_200=UnitOut, **NOT_FOUND), tags=[UNITS])
def get_unit(code: str):
    """One unit by its code."""
    unit = _unit_in_scope(code)
    parents = {unit.parent_id: unit.parent.code} if unit.parent is not None else {}
    return _unit_out(unit, parents)


@bp.get("/rater-groups")
@spec.validate(query=PageQuery, resp=Doc(HTTP_200=RaterGroupList, HTTP_422=Problem), tags=[UNITS])
def list_rater_groups(query: PageQuery):
    """Every rater group, and whether this token may read its rows (counts always)."""
    access = auth.scope()
    groups, cursor = _paged(select(RaterGroup), RaterGroup.id, query)
    return {
        "next_cursor": cursor,
        "rater_groups": [
            {
                "code": g.code,
                "name": g.name,
                "name_en": g.name_en,
                "internal": g.internal,
                "visible_to_unit": g.visible_to_unit,
                "rows_readable": access.sees_rows_of(g),
            }
            for g in groups
        ],
    }


@bp.get("/questionnaires")
@spec.validate(
    query=PageQuery, resp=Doc(HTTP_200=QuestionnaireList, HTTP_422=Problem), tags=[CYCLES]
)
def list_questionnaires(query: PageQuery):
    """Published questionnaire versions, in the order they were made (a published version
    never changes)."""
    versions, cursor = _paged(
        select(Questionnaire)
        .where(Questionnaire.published_at.is_not(None))
        .options(selectinload(Questionnaire.items)),
        Questionnaire.id,
        query,
    )
    return {
        "next_cursor": cursor,
        "questionnaires": [
            {
                "label": q.label,
                "code": q.code,
                "version": q.version,
                "title": q.title,
                "published_at": iso(q.published_at) or None,
                "items": [
                    {
                        "code": i.code,
                        "text": i.text,
                        "type": i.type,
                        "required": i.required,
                        "max_points": i.max_points,
                        "options": i.options,
                    }
                    for i in q.items
                ],
            }
            for q in versions
        ],
    }


def _cycle_out(cycle: Cycle, total: int) -> dict[str, Any]:
    return {
        "code": cycle.code,
        "name": cycle.name,
        "period": cycle.period,
        "status": cycle.status,
        "opens_at": iso(cycle.opens_at) or None,
        "closes_at": iso(cycle.closes_at) or None,
        "accepting": cycle.accepting(),
        "responses": total,
    }


@bp.get("/cycles")
@spec.validate(query=PageQuery, resp=Doc(HTTP_200=CycleList, HTTP_422=Problem), tags=[CYCLES])
def list_cycles(query: PageQuery):
    """Every cycle in time order (:func:`~evalsurvey.domain.cycles.in_time_order`), with
    the responses of the units this token may see."""
    cycles, cursor = _paged_list(in_time_order(), query)
    totals = queries.cycle_totals([c.id for c in cycles], auth.scope())
    return {"cycles": [_cycle_out(c, totals[c.id]) for c in cycles], "next_cursor": cursor}


@bp.get("/cycles/<code>")
@spec.validate(resp=Doc(HTTP_200=CycleOut, **NOT_FOUND), tags=[CYCLES])
def get_cycle(code: str):
    """One cycle by its code."""
    cycle = _cycle(code)
    return _cycle_out(cycle, queries.cycle_totals([cycle.id], auth.scope())[cycle.id])


@bp.get("/cycles/<code>/links")
@spec.validate(
    query=PageQuery, resp=Doc(HTTP_200=LinkList, HTTP_422=Problem, **NOT_FOUND), tags=[CYCLES]
)
def list_links(code: str, query: PageQuery):
    """The cycle's links of units in scope, with their public addresses and QR codes, in
    the order they were made."""
    cycle = _cycle(code)
    base = base_url()
    links, cursor = _paged(queries.cycle_links_query(cycle, auth.scope()), Link.id, query)
    return {
        "next_cursor": cursor,
        "links": [
            {
                "code": link.code,
                "unit": link.unit.code,
                "rater_group": link.rater_group.code,
                "questionnaire": link.questionnaire.label,
                "mode": link.mode,
                "active": link.active,
                "url": link_domain.link_url(base, link),
                "qr_png": url_for("api.link_qr", code=link.code, _external=True),
            }
            for link in links
        ],
    }


@bp.get("/links/<code>/qr.png")
def link_qr(code: str):
    """A link's QR code as PNG (the address it holds is the link's ``url``)."""
    link = queries.get_by_code(Link, code)
    if link is None:
        raise ApiProblem(404)
    _unit_in_scope(link.unit.code)
    png = link_domain.qr_png(link_domain.link_url(base_url(), link))
    return png, 200, {"Content-Type": "image/png"}


def _response_out(r: Response, identities: bool) -> dict[str, Any]:
    return {
        "response_id": r.public_id,
        "questionnaire": r.questionnaire.label,
        "unit": r.unit.code,
        "rater_group": r.rater_group.code,
        # an expert's id and own unit never reach those who may not see identities
        "rater": r.rater if identities else "",
        "rater_unit": r.rater_unit if identities else "",
        "channel": r.channel,
        "device": r.device,
        "started_at": iso(r.started_at) or None,
        "submitted_at": iso(r.submitted_at),
        "status": r.status,
        "answers": r.answers,
        "comment": r.comment,
    }


@bp.get("/cycles/<code>/responses")
@spec.validate(
    query=ResponseQuery,
    resp=Doc(HTTP_200=ResponsePage, HTTP_422=Problem, **NOT_FOUND),
    tags=[RESPONSES],
)
def list_responses(code: str, query: ResponseQuery):
    """The cycle's responses this token may read: of units in scope, and of rater groups
    whose rows it may read (a unit contact never reads members', leaders', departments' or
    panels' rows: their counts are at ``/counts``). Oldest first."""
    cycle = _cycle(code)
    access = auth.scope()
    unit_ids = _unit_in_scope(query.unit).subtree_ids() if query.unit else None
    statement = queries.responses_query(
        cycle,
        access,
        unit_ids=unit_ids,
        group=query.group,
        status=query.status,
    ).options(selectinload(Response.questionnaire))
    rows, cursor = _paged(statement.order_by(None), Response.id, query)
    return {
        "responses": [_response_out(r, access.identities) for r in rows],
        "next_cursor": cursor,
    }


@bp.get("/cycles/<code>/counts")
@spec.validate(
    query=PageQuery,
    resp=Doc(HTTP_200=CountList, HTTP_422=Problem, **NOT_FOUND),
    tags=[RESPONSES],
)
def list_counts(code: str, query: PageQuery):
    """Responses per unit in scope and rater group: counts of every group, rows or not.
    A page holds ``limit`` units (each with all its groups)."""
    cycle = _cycle(code)
    access = auth.scope()
    unit_ids = list(
        db.session.scalars(
            access.units(select(Response.unit_id).where(Response.cycle_id == cycle.id))
            .where(Response.unit_id > _cursor(query.cursor))
            .group_by(Response.unit_id)
            .order_by(Response.unit_id)
            .limit(query.limit + 1)
        )
    )
    cursor = str(unit_ids[query.limit - 1]) if len(unit_ids) > query.limit else None
    counts = queries.response_counts(cycle, access, set(unit_ids[: query.limit]))
    return {
        "next_cursor": cursor,
        "counts": [
            {"unit": c.unit.code, "rater_group": group, "responses": n}
            for c in counts
            for group, n in sorted(c.by_group.items())
        ],
    }


def _standing_out(u: UnitResult, labels) -> dict[str, Any] | None:
    s = u.standing
    if s is None:
        return None
    return {
        "score": s.score,
        "source": s.source,
        "rank": s.rank,
        "grade": s.grade,
        "label": s.label,
        "reason": grade_reason(s, labels) if s.label else "",
        "previous": s.previous,
        "change": s.change,
    }


def _flags_out(found: UnitFlags | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "analysed_at": iso(found.analysed_at),
        "suspect": found.suspect,
        "reasons": found.reasons,
        "surge_days": found.surge_days,
    }


def _result_out(cycle: Cycle, result: CycleResult, published: bool) -> dict[str, Any]:
    """The units of ``result`` whose results this token may see (the pages' rule:
    :meth:`~evalsurvey.domain.access.Scope.may_see_results`); 403 if none."""
    access = auth.scope()
    units = {
        u.code: u for u in db.session.scalars(select(Unit).where(Unit.type == result.unit_type))
    }
    shown = [
        u for u in result.units if u.unit in units and access.may_see_results(cycle, units[u.unit])
    ]
    if result.units and not shown:
        raise ApiProblem(403, _("结果公示前，只有考评办可以查看这些单位的结果。"))
    labels = dict(result.grade_labels)
    flags = unit_flags(cycle, result.unit_type) if access.office else {}
    return {
        "cycle": cycle.code,
        "unit_type": result.unit_type,
        "published": published,
        "weights": dict(result.weights),
        "grade_labels": labels,
        "units": [
            {
                "unit": u.unit,
                "name": u.name,
                "computed": u.computed,
                "computed_rank": u.computed_rank,
                "missing": list(u.missing),
                "terms": [t.__dict__ for t in u.terms],
                "groups": [
                    {"group": g.group, "n_used": g.n_used, "score": g.score} for g in u.groups
                ],
                "standing": _standing_out(u, labels),
                "flags": _flags_out(flags.get(u.unit)),
            }
            for u in shown
        ],
    }


@bp.get("/cycles/<code>/results")
@spec.validate(
    query=ResultQuery,
    resp=Doc(HTTP_200=ResultOut, HTTP_422=Problem, **NOT_FOUND),
    tags=[RESULTS],
)
def get_results(code: str, query: ResultQuery):
    """The cycle's result for one unit type, as every page shows it: the published result
    once published, else the current one (standing score, rank, grade and its reason, the
    composite's terms, satisfaction by rater group). Before publication only the office."""
    cycle = _cycle(code)
    result = cycle_result(cycle, query.unit_type)
    if result is None:
        raise ApiProblem(404, _("该类单位还没有综合结果。"))
    published = publication_of(cycle, query.unit_type) is not None
    return _result_out(cycle, result, published)


@bp.get("/cycles/<code>/published-results")
@spec.validate(
    query=ResultQuery,
    resp=Doc(HTTP_200=ResultOut, HTTP_422=Problem, **NOT_FOUND),
    tags=[RESULTS],
)
def get_published_results(code: str, query: ResultQuery):
    """The result as published (公示) for one unit type; 404 before publication."""
    cycle = _cycle(code)
    publication = publication_of(cycle, query.unit_type)
    if publication is None:
        raise ApiProblem(404, _("该类单位的结果尚未公示。"))
    return _result_out(cycle, published_result(publication), True)


@bp.get("/cycles/<code>/rectification-items")
@spec.validate(
    query=PageQuery,
    resp=Doc(HTTP_200=LedgerPage, HTTP_422=Problem, **NOT_FOUND),
    tags=[RESULTS],
)
def list_rectification_items(code: str, query: PageQuery):
    """The cycle's rectification items this token may see (a unit contact: items drawn
    from results only once published or confirmed, as on the ledger page)."""
    cycle = _cycle(code)
    statement = auth.scope().items(
        select(RectificationItem)
        .join(Unit, Unit.id == RectificationItem.unit_id)
        .where(RectificationItem.cycle_id == cycle.id)
        .options(selectinload(RectificationItem.unit)),
        cycle,
    )
    items, cursor = _paged(statement, RectificationItem.id, query)
    return {
        "items": [
            {
                "id": i.id,
                "unit": i.unit.code,
                "source": i.source,
                "reference": i.reference,
                "title": i.title,
                "detail": i.detail,
                "owner": i.owner,
                "due_on": i.due_on.isoformat() if i.due_on else None,
                "status": i.status,
                "created_at": iso(i.created_at),
                "closed_at": iso(i.closed_at) or None,
            }
            for i in items
        ],
        "next_cursor": cursor,
    }
