"""A cycle's dashboard: charts (server-rendered SVG, no JavaScript) each with its data."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from evalsurvey.admin.blueprint import analysts, bp, readers, require_unit, scope
from evalsurvey.admin.composite import chosen_unit_type
from evalsurvey.admin.feedback import group_chart
from evalsurvey.domain.results.dashboard import cycle_dashboard, unit_dashboard
from evalsurvey.extensions import db
from evalsurvey.i18n import _, label, pick
from evalsurvey.models import Cycle, RaterGroup, Unit
from evalsurvey.reports import charts


def _daily(daily: list[tuple[str, int]]) -> str:
    """Submissions per day as a line (a burst shows as a spike)."""
    return charts.line(_("每日提交"), [d for d, _n in daily], [n for _d, n in daily],
                       _("日期"), _("答卷数（份）"))  # fmt: skip


@bp.get("/cycles/<int:cycle_id>/dashboard")
@analysts
def dashboard_of_cycle(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    types, unit_type = chosen_unit_type(cycle)
    data = cycle_dashboard(cycle, unit_type, scope())
    names = {g.code: pick(g.name, g.name_en) for g in db.session.scalars(select(RaterGroup))}
    kind = label("unit_type", unit_type)
    drawn = {}
    if data.ranking:
        top = data.ranking[:30]
        drawn["ranking"] = charts.hbars(
            _("{kind}排名和等级", kind=kind), [r.name for r in top], [r.score for r in top],
            _("得分（百分制）"), [r.label or "—" for r in top],
        )  # fmt: skip
        drawn["distribution"] = charts.histogram(
            _("{kind}得分分布", kind=kind), [r.score for r in data.ranking],
            _("得分（百分制）"), _("单位数（个）"),
        )  # fmt: skip
    if data.groups:
        drawn["groups"] = charts.intervals(
            _("各评价群体的平均满意度（95% 置信区间）"),
            [names.get(g["group"], g["group"]) for g in data.groups],
            [g["mean"] for g in data.groups],
            [g["ci95"][0] if g["ci95"] else None for g in data.groups],
            [g["ci95"][1] if g["ci95"] else None for g in data.groups],
            _("得分（百分制）"),
        )
    if data.gap:
        drawn["gap"] = charts.scatter(
            _("内部评价与外部评价"), [g["external"] for g in data.gap],
            [g["internal"] for g in data.gap], [g["name"] for g in data.gap],
            _("外部（群众等）得分"), _("内部（党员等）得分"), [g["stands_out"] for g in data.gap],
        )  # fmt: skip
    if data.raters:
        reach = max([10.0] + [max(abs(r["ci95"][0]), abs(r["ci95"][1])) for r in data.raters])
        drawn["raters"] = charts.intervals(
            _("评审专家的宽严（与其他专家相比，95% 置信区间）"),
            [r["rater"] for r in data.raters], [r["severity"] for r in data.raters],
            [r["ci95"][0] for r in data.raters], [r["ci95"][1] for r in data.raters],
            _("比其他专家高出的分数（分）"), xlim=(-reach * 1.1, reach * 1.1),
            highlight=[bool(r["reasons"]) for r in data.raters],
        )  # fmt: skip
    if data.change:
        drawn["change"] = charts.diverging(
            _("与上一周期相比的变化"), [r.name for r in data.change[:30]],
            [r.change for r in data.change[:30]], _("得分变化（分）"),
        )  # fmt: skip
    if data.flags:
        reasons = list(data.flags)
        drawn["flags"] = charts.grouped_bars(
            _("可疑和提示标记（按原因）"), [label("flag", r) for r in reasons],
            {_("答卷数"): [data.flags[r] for r in reasons]}, _("答卷数（份）"),
        )  # fmt: skip
    if data.daily:
        drawn["daily"] = _daily(data.daily)
    return render_template(
        "admin/cycle_dashboard.html",
        cycle=cycle,
        types=types,
        unit_type=unit_type,
        data=data,
        charts=drawn,
        names=names,
    )


@bp.get("/cycles/<int:cycle_id>/units/<int:unit_id>/dashboard")
@readers
def dashboard_of_unit(cycle_id: int, unit_id: int):
    """One unit: its figures in the cycle, its trend over cycles, submissions per day and
    its rectification items. A unit's contact sees the figures once they are published
    (``Scope.may_see_results``)."""
    cycle = db.get_or_404(Cycle, cycle_id)
    unit = require_unit(db.session.get(Unit, unit_id))
    access = scope()
    data = unit_dashboard(cycle, unit, access)
    names = {g.code: pick(g.name, g.name_en) for g in db.session.scalars(select(RaterGroup))}
    drawn = {"groups": group_chart(data.report)}
    if len(data.trend) >= 2:
        drawn["trend"] = charts.line(
            _("历次考评得分"), [t["cycle"] for t in data.trend], [t["score"] for t in data.trend],
            _("考评周期"), _("得分（百分制）"), integer=False,
        )  # fmt: skip
    if data.daily:
        drawn["daily"] = _daily(data.daily)
    return render_template(
        "admin/unit_dashboard.html",
        cycle=cycle,
        unit=unit,
        data=data,
        charts=drawn,
        names=names,
        office=access.office,
        figures=access.may_see_results(cycle, unit),
    )
