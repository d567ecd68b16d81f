"""The cycle analysis page: the latest stored run per unit type; recompute on request."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import analysts, bp, reviewers
from evalsurvey.analysis.report import METHODS, OptionError
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results import analysis as cycle_analysis
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, OPTION_MESSAGES, _, label, pick, sep
from evalsurvey.models import AnalysisRun, Cycle, RaterGroup, Unit
from evalsurvey.web import run_action

# A flag's numbers as a sentence in the reader's language (the statistics give numbers only).
SENTENCES = {
    "speeder": N_("用时 {seconds:.0f} 秒，通常为 {typical_seconds:.0f} 秒"),
    "duplicate": N_("同一设备在 {window_hours:g} 小时内已评价该单位 {earlier:.0f} 次"),
    "burst": N_("{window_minutes:g} 分钟内 {count:.0f} 份，按平时速度约 {expected:.1f} 份"),
    "surge": N_(
        "该单位当天 {count:.0f} 份，平常约 {expected:.1f} 份；"
        "本份属于集中提交的可能性 {posterior:.0%}"
    ),
    "in_surge": N_(
        "提交于集中提交当天（{count:.0f} 份，平常约 {expected:.1f} 份），但与平常答卷一致"
        "（属于集中提交的可能性 {posterior:.0%}）"
    ),
    "network": N_(
        "{window_hours:.0f} 小时内该单位 {of:.0f} 份新设备答卷中 {count:.0f} 份来自同一网络"
        "（通常一个网络最多约占 {usual_share:.0%}）"
    ),
    "straightline": N_("全部 {items:.0f} 题都选 {answer:g}"),
    "outlier": N_("得分 {score:.0f}，该单位中位数 {unit_median:.0f}"),
    "lenient": N_("比其他评委平均高 {points:.1f} 分"),
    "severe": N_("比其他评委平均低 {points:.1f} 分"),
    "flat_rater": N_("给各单位的分数几乎相同（标准差 {sd:.1f}，一般评委 {typical_sd:.1f}）"),
    "collusion": N_("与评委 {partners} 的评分偏差高度一致"),
    "own_unit": N_("给本单位的分数比其他评委高 {points:.1f} 分"),
}


def flag_sentence(reason: str, details: dict) -> str:
    """One flag in words, from its numbers."""
    values = {k: (float("nan") if v is None else v) for k, v in details.items()}
    if "partners" in values:
        values["partners"] = sep(",").join(values["partners"])
    text = _(SENTENCES[reason], **values) if reason in SENTENCES else label("flag", reason)
    if "rater" in details:
        return _("评委 {rater}：", rater=details["rater"]) + text
    return text


def _recompute(cycle: Cycle, form: forms.RecomputeForm) -> list[AnalysisRun]:
    """Recompute the cycle's analysis with the form's method and weights: one action (an
    option the analysis cannot use is refused with its message, nothing stored)."""
    try:
        options = cycle_analysis.cycle_options(
            cycle, weights=form.weights(), method=form.method.data
        )
        return cycle_analysis.run_analysis(cycle, current_user.username, options)
    except OptionError as exc:
        field, detail = ("method" if exc.code == "method" else None), exc.detail
        if exc.code == "weights_group":  # by the groups' names, beside the first one's field
            codes = [c.strip() for c in exc.detail.split(",") if c.strip()]
            names = {
                g.code: pick(g.name, g.name_en) for g in db.session.scalars(select(RaterGroup))
            }
            field = f"w_{codes[0]}" if codes else None
            detail = sep(",").join(names.get(c, c) for c in codes)
        raise DomainError(
            OPTION_MESSAGES.get(exc.code, N_("参数有误：{detail}")), field, detail=detail
        ) from None


@bp.get("/cycles/<int:cycle_id>/analysis")
@analysts
def analysis(cycle_id: int):
    return _page(db.get_or_404(Cycle, cycle_id), request.args.get("type"))


def _page(cycle: Cycle, unit_type: str | None, form: forms.RecomputeForm | None = None):
    """The analysis page of ``unit_type`` (the first by default); ``form``: a refused
    recompute, shown with what was typed and each problem by its field."""
    runs = cycle_analysis.latest_runs(cycle)
    types = sorted(runs) or cycle_analysis.unit_types_in(cycle)
    unit_type = unit_type or (types[0] if types else "")
    run: AnalysisRun | None = runs.get(unit_type)
    report = run.result if run is not None else None
    names = {}
    if report:
        codes = [u["unit"] for u in report["units"]]
        rows = db.session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))
        names = {code: name for code, name in rows}
    groups = _groups()
    if form is None:
        form = forms.recompute_form(
            groups,
            METHODS,
            weights=(run.options.get("weights") if run is not None else None) or {},
            formdata=None,
        )
        form.method.data = run.options.get("method", "adjusted") if run is not None else "adjusted"
        form.type.data = unit_type
    return render_template(
        "admin/analysis.html",
        cycle=cycle,
        run=run,
        report=report,
        names=names,
        types=types,
        unit_type=unit_type,
        group_names={g.code: pick(g.name, g.name_en) for g in groups}
        | {"internal": _("内部评价"), "external": _("外部评价")},
        suspects=[r for r in report["responses"] if r["suspect"]] if report else [],
        recompute=form,
        form=forms.MarkSuspectsForm(formdata=None, type=unit_type),
        flag_sentence=flag_sentence,
    ), (400 if form.errors else 200)


def _groups() -> list[RaterGroup]:
    return list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))


@bp.post("/cycles/<int:cycle_id>/analysis")
@reviewers
def recompute(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.recompute_form(_groups(), METHODS)
    if form.validate_on_submit():
        done = run_action(_recompute, cycle, form, form=form)
        if done:
            flash(_("已重新计算（{n} 个单位类型）。", n=len(done.value)))
            return redirect(
                url_for("admin.analysis", cycle_id=cycle.id, type=form.type.data or None)
            )
    elif "csrf_token" in form.errors:
        flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
        return redirect(url_for("admin.analysis", cycle_id=cycle.id))
    return _page(cycle, form.type.data, form)


@bp.post("/cycles/<int:cycle_id>/analysis/mark")
@reviewers
def mark_suspects(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.MarkSuspectsForm()
    unit_type = form.type.data or ""
    if not form.validate_on_submit():
        flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
        return redirect(url_for("admin.analysis", cycle_id=cycle.id))
    run = cycle_analysis.latest_runs(cycle).get(unit_type)
    if run is None or run.result is None:
        flash(_("还没有可分析的答卷。"))
    else:
        done = run_action(cycle_analysis.mark_suspects, run.result)
        if done:
            flash(_("已将 {n} 份答卷标记为可疑，待人工复核。", n=done.value))
    return redirect(url_for("admin.analysis", cycle_id=cycle.id, type=unit_type or None))
