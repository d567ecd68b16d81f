"""One-to-one feedback reports: a page per unit that prints, and the same as a PDF.

Unit contacts read their own units' and the units below theirs' reports once the results
are published; the office also sees the live preview before that (marked as such). See
``Scope.may_see_results``.
"""

from __future__ import annotations

from flask import redirect, render_template, url_for
from sqlalchemy import select

from evalsurvey.admin.blueprint import bp, download, readers, require_unit, scope
from evalsurvey.admin.composite import chosen_unit_type, component_names
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.domain.results.feedback import rectification_items
from evalsurvey.extensions import db
from evalsurvey.i18n import _, current_lang, pick
from evalsurvey.models import Cycle, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.reports.charts import intervals
from evalsurvey.reports.pdf import html_to_pdf


@bp.get("/cycles/<int:cycle_id>/reports")
@readers
def reports(cycle_id: int):
    """The units whose feedback reports the person may read."""
    cycle = db.get_or_404(Cycle, cycle_id)
    types, unit_type = chosen_unit_type(cycle)
    access = scope()
    published = publication_domain.publication_of(cycle, unit_type)
    units = [
        u
        for u in db.session.scalars(select(Unit).where(Unit.type == unit_type).order_by(Unit.code))
        if access.sees_unit(u)
    ]
    readable = {u.id for u in units if access.may_see_results(cycle, u)}
    # only reports that exist are offered: the published ones, else (the office's previews)
    # those of the units in the stored composite; None before a composite
    reports = published.reports if published is not None else None
    if published is None and readable:
        reports = publication_domain.preview_reports(cycle, unit_type)
    return render_template(
        "admin/reports.html",
        cycle=cycle,
        types=types,
        unit_type=unit_type,
        units=units,
        readable=readable,
        existing={u.id for u in units if u.id in readable and u.code in (reports or {})},
        missing=missing_report(published),
        no_composite=bool(readable) and reports is None,
        published=published,
        office=access.office,
    )


def missing_report(published) -> str:
    """Why a unit whose results the person may read has no report: it is not in the
    results the reports are drawn from."""
    if published is not None:
        return _("没有反馈报告：该单位不在公示的结果中。")
    return _("没有反馈报告：该单位不在最新保存的综合结果中。")


def _report(cycle_id: int, unit_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    unit = require_unit(db.session.get(Unit, unit_id))
    report, published = publication_domain.report_of(cycle, unit)
    if not scope().may_see_results(cycle, unit):
        report = None  # a unit reads its report once the results are published
    return cycle, unit, report, published


def group_chart(report: dict | None) -> str | None:
    """The report's satisfaction by rater group (only groups at the minimum n) as a chart."""
    if not report or not report["groups"]:
        return None
    groups = report["groups"]
    return intervals(
        _("各评价群体满意度（95% 置信区间）"),
        [pick(g["name"], g["name_en"]) for g in groups],
        [g["score"] for g in groups],
        [g["ci95"][0] if g["ci95"] else None for g in groups],
        [g["ci95"][1] if g["ci95"] else None for g in groups],
        _("得分（百分制）"),
    )


def _render(cycle, unit, report, published, for_pdf: bool = False, missing=None) -> str:
    chart = group_chart(report)
    return render_template(
        "reports/feedback.html",
        cycle=cycle,
        unit=unit,
        report=report,
        missing=missing,
        published=published,
        names=component_names(cycle),
        items=[i for i in rectification_items(cycle, unit) if scope().may_see_item(i)],
        chart=chart,
        for_pdf=for_pdf,
        made_at=utcnow(),
        pdf_url=url_for("admin.feedback_pdf", cycle_id=cycle.id, unit_id=unit.id),
    )


@bp.get("/cycles/<int:cycle_id>/units/<int:unit_id>/report")
@readers
def feedback(cycle_id: int, unit_id: int):
    cycle, unit, report, published = _report(cycle_id, unit_id)
    if report is None and scope().may_see_results(cycle, unit):
        # none will come: the unit is not in the results (not found, said in words)
        return _render(cycle, unit, None, published, missing=missing_report(published)), 404
    # not yet readable: the page says when it comes (the unit exists: 200)
    return _render(cycle, unit, report, published)


@bp.get("/cycles/<int:cycle_id>/units/<int:unit_id>/report.pdf")
@readers
def feedback_pdf(cycle_id: int, unit_id: int):
    cycle, unit, report, published = _report(cycle_id, unit_id)
    if report is None:  # not yet readable: the report page says when it comes
        return redirect(url_for("admin.feedback", cycle_id=cycle.id, unit_id=unit.id), 303)
    pdf = html_to_pdf(_render(cycle, unit, report, published, for_pdf=True))
    suffix = "" if current_lang() != "en" else "-en"
    return download(pdf, f"{cycle.code}-{unit.code}-feedback{suffix}.pdf", "application/pdf")
