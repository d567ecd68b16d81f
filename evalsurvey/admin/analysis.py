"""The cycle analysis page: the latest stored run per unit type; recompute on request."""

from __future__ import annotations

import math

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import analysts, bp, reviewers
from evalsurvey.analysis.report import METHODS, OptionError
from evalsurvey.domain.results import analysis as cycle_analysis
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, label, option_error, pick, sep
from evalsurvey.models import AnalysisRun, Cycle, RaterGroup, Unit

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


def _weights_from_form(groups: list[RaterGroup]) -> dict[str, float] | None:
    """Weights typed per rater group; None when every field is empty (equal weights)."""
    out: dict[str, float] = {}
    for g in groups:
        raw = request.form.get(f"w_{g.code}", "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise OptionError("weights_number", raw) from None
        if not math.isfinite(value):
            raise OptionError("weights_number", raw)
        out[g.code] = value
    return out or None


@bp.get("/cycles/<int:cycle_id>/analysis")
@analysts
def analysis(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    runs = cycle_analysis.latest_runs(cycle)
    types = sorted(runs) or cycle_analysis.unit_types_in(cycle)
    unit_type = request.args.get("type") or (types[0] if types else "")
    run: AnalysisRun | None = runs.get(unit_type)
    report = run.result if run is not None else None
    names = {}
    if report:
        codes = [u["unit"] for u in report["units"]]
        rows = db.session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))
        names = {code: name for code, name in rows}
    groups = list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))
    weights = (run.options.get("weights") if run is not None else None) or {}
    return render_template(
        "admin/analysis.html",
        cycle=cycle,
        run=run,
        report=report,
        names=names,
        types=types,
        unit_type=unit_type,
        groups=groups,
        group_names={g.code: pick(g.name, g.name_en) for g in groups}
        | {"internal": _("内部评价"), "external": _("外部评价")},
        weights=weights,
        methods=METHODS,
        method=run.options.get("method", "adjusted") if run is not None else "adjusted",
        suspects=[r for r in report["responses"] if r["suspect"]] if report else [],
        form=forms.ConfirmForm(),
        flag_sentence=flag_sentence,
    )


@bp.post("/cycles/<int:cycle_id>/analysis")
@reviewers
def recompute(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
        return redirect(url_for("admin.analysis", cycle_id=cycle.id))
    groups = list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))
    method = request.form.get("method", "adjusted")
    try:
        options = cycle_analysis.cycle_options(
            cycle,
            weights=_weights_from_form(groups),
            method=method if method in METHODS else "adjusted",
        )
        runs = cycle_analysis.run_analysis(cycle, current_user.username, options)
    except OptionError as exc:
        flash(option_error(exc))
        return redirect(url_for("admin.analysis", cycle_id=cycle.id))
    flash(_("已重新计算（{n} 个单位类型）。", n=len(runs)))
    return redirect(
        url_for("admin.analysis", cycle_id=cycle.id, type=request.form.get("type") or None)
    )


@bp.post("/cycles/<int:cycle_id>/analysis/mark")
@reviewers
def mark_suspects(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.ConfirmForm()
    run = cycle_analysis.latest_runs(cycle).get(request.form.get("type", ""))
    if not form.validate_on_submit() or run is None or run.result is None:
        flash(_("还没有可分析的答卷。"))
    else:
        changed = cycle_analysis.mark_suspects(run.result)
        db.session.commit()
        flash(_("已将 {n} 份答卷标记为可疑，待人工复核。", n=changed))
    return redirect(url_for("admin.analysis", cycle_id=cycle.id, type=request.form.get("type")))
