"""The composite result per unit type: weights configured per cycle, every term shown."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import flask
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin import grade_rules as grade_forms
from evalsurvey.admin.blueprint import admin_only, bp, download, readers, reviewers, scope
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.domain.assessment import grades as grade_domain
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.domain.assessment.evidence import MIMETYPES
from evalsurvey.domain.assessment.schemes import cycle_scheme, scheme_of
from evalsurvey.domain.files import exports
from evalsurvey.domain.results import cycle as cycle_results
from evalsurvey.domain.results import shortfalls
from evalsurvey.domain.results.analysis import unit_types_in
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, label, pick
from evalsurvey.models import Cycle, CycleScheme, RaterGroup, Unit
from evalsurvey.models.units import UNIT_TYPES
from evalsurvey.reports.words import grade_reason
from evalsurvey.scoring.composite import SIDES
from evalsurvey.scoring.grading import parse_rules
from evalsurvey.stats.weighting import MISSING_POLICIES
from evalsurvey.web import run_action


def component_names(cycle: Cycle | None = None) -> dict[str, str]:
    """Each component's name in the reader's language (other cycles: for a roll-up)."""
    names = {composite_domain.INSPECTION: _("现场考核（考评标准）")}
    for g in db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)):
        names[g.code] = pick(g.name, g.name_en)
    for other in db.session.scalars(select(Cycle).order_by(Cycle.id)):
        if cycle is None or other.id != cycle.id:
            names[composite_domain.CYCLE_PREFIX + other.code] = _(
                "周期“{name}”的综合得分", name=other.name
            )
    return names


def cycle_unit_types(cycle: Cycle) -> list[str]:
    """The unit types the cycle assesses or has responses for."""
    found = set(
        db.session.scalars(select(CycleScheme.unit_type).where(CycleScheme.cycle_id == cycle.id))
    )

    return sorted(found | set(unit_types_in(cycle)))


def chosen_unit_type(cycle: Cycle) -> tuple[list[str], str]:
    """The cycle's unit types and the one this page shows (``?type=``, else the first)."""
    types = cycle_unit_types(cycle)
    chosen = request.values.get("type")
    if chosen and chosen not in UNIT_TYPES:
        abort(404)  # no page, setting or file for a type that does not exist
    return types, chosen or (types[0] if types else "")


# why a part of a unit's result has no score (codes from .domain.shortfalls)
GAP_WORDS = {
    shortfalls.TOO_FEW: N_("{group}评分份数 {n}，少于本周期设定的 {min} 份"),
    shortfalls.NO_RESPONSES: N_("没有{group}的评分"),
    shortfalls.NOT_ASSESSED: N_("现场考核尚未完成"),
    shortfalls.NO_COMPOSITE: N_("没有{group}"),
}


def _gap_words(gap: shortfalls.Gap, names: dict[str, str]) -> str:
    return _(
        GAP_WORDS[gap.reason],
        group=names.get(gap.component, gap.component),
        n=gap.n,
        min=gap.minimum,
    )


@bp.app_template_global()
def score_gaps(cycle: Cycle, unit_type: str) -> dict[str, dict[str, str]]:
    """Unit → component → why it has no score, in the reader's language (the composite
    page, a unit's page and its feedback report say it wherever a score is missing)."""
    key = ("score_gaps", cycle.id, unit_type)
    cache = flask.g.setdefault("score_gaps", {})
    if key not in cache:
        names = component_names(cycle)
        cache[key] = {
            unit: {component: _gap_words(gap, names) for component, gap in found.items()}
            for unit, found in shortfalls.gaps(cycle, unit_type).items()
        }
    return cache[key]


@bp.app_template_global()
def report_gaps(report: dict, cycle: Cycle, unit: Unit) -> dict[str, str]:
    """Component → why it has no score, for one feedback report: from the reasons the report
    carries (frozen with it; one unit's PDF then reads no other unit), else, for reports made
    before they did, from the cycle's result."""
    if "gaps" not in report:
        return score_gaps(cycle, unit.type).get(unit.code, {})
    names = component_names(cycle)
    return {g[0]: _gap_words(shortfalls.Gap(*g), names) for g in report["gaps"]}


@bp.get("/cycles/<int:cycle_id>/composite")
@readers
def composite(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    _types, unit_type = chosen_unit_type(cycle)
    return composite_page(cycle, unit_type)


def tie_columns(cycle: Cycle, unit_type: str) -> dict[str, str]:
    """What a grade's tie-breaker may compare, by name: the components the composite weighs
    (every component before weights are set) and the penalty points."""
    names = component_names(cycle)
    config = composite_domain.setting(cycle, unit_type)
    codes = list(config.weights) if config else list(names)
    out = {c: names.get(c, c) for c in codes}
    out[grade_forms.PENALTIES] = _("减分（越少越高）")
    return out


def veto_bars(cycle: Cycle, unit_type: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The vetoes of the cycle's scheme for the unit type and the grades each bars."""
    version = cycle_scheme(cycle, unit_type)
    if version is None:
        return []
    return [(v.code, v.title, tuple(v.bars)) for v in scheme_of(version).vetoes if v.bars]


def composite_page(cycle: Cycle, unit_type: str, editor=None, weights=None, status: int = 200):
    """The composite page; ``editor`` is the grade rules form as posted (else as stored),
    ``weights`` the weights form as posted."""
    types = cycle_unit_types(cycle)
    config = composite_domain.setting(cycle, unit_type)
    run = composite_domain.latest_composite(cycle, unit_type)
    access = scope()
    visible = {
        u.code: u
        for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))
        if access.may_see_results(cycle, u)
    }
    # one result (frozen once published): ranked, scored and graded on the standing scores,
    # as results.csv, the dashboard and the publication are; the computed composite beside
    result = cycle_results.cycle_result(cycle, unit_type)
    units_of = [u for u in (result.units if result else ()) if u.unit in visible]
    rows = [u for u in units_of if u.standing is not None]
    rows.sort(key=lambda u: (u.standing.rank, u.unit))
    rows += [u for u in units_of if u.standing is None]
    # units in scope whose results wait for publication (a unit contact's, before it)
    waiting = not access.office and any(
        access.sees_unit(u) and u.code not in visible
        for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))
    )
    rules = grade_domain.rules_for(cycle, unit_type)
    grade_labels = {b.code: b.label for b in parse_rules(rules).bands} if rules else {}
    published = publication_domain.publication_of(cycle, unit_type)
    if published is not None and result is not None:
        grade_labels = dict(result.grade_labels) or grade_labels  # as published
    if editor is None and current_user.role == "admin":
        editor = grade_forms.from_rules(rules or grade_domain.DEFAULT_STARS).pad()
    return render_template(
        "admin/composite.html",
        waiting=waiting,
        cycle=cycle,
        types=types,
        unit_type=unit_type,
        config=config,
        run=composite_domain.run_of(published.run_id) if published is not None else run,
        result=result,
        stale=cycle_results.staleness(cycle, unit_type) if access.office else None,
        rows=rows,
        units=visible,
        names=component_names(cycle),
        policies=MISSING_POLICIES,
        form=forms.ConfirmForm(),
        graded=any(r.standing and r.standing.label for r in rows),
        changes=any(r.standing and r.standing.change is not None for r in rows),
        published=published,
        grade_labels=grade_labels,
        editor=editor,
        tie_columns=tie_columns(cycle, unit_type) if editor is not None else {},
        vetoes=veto_bars(cycle, unit_type) if editor is not None else [],
        editor_codes=grade_forms.grade_codes(editor) if editor is not None else {},
        weights=weights or weights_form(config),
        gaps=score_gaps(cycle, unit_type),
        minimums_changed=access.office
        and published is None  # a published result stays as it was
        and shortfalls.minimums_changed(cycle, unit_type),
        group_of={g.code: g for g in db.session.scalars(select(RaterGroup))},
        sides=SIDES,
        side_names={"internal": _("内部"), "external": _("外部")},
    ), status


@dataclass
class WeightsForm:
    """The weights form as typed (field name → text) and its problems by field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def weights_form(config) -> WeightsForm:
    """The form for the stored setting: the own weights, and the split as the office set it."""
    out = WeightsForm()
    if config is None:
        return out
    split = config.split or {}
    groups = split.get("groups", {})
    for name, value in config.weights.items():
        if name not in groups:
            out.values[f"w_{name}"] = grade_forms.number_text(value)
    for group, side in groups.items():
        out.values[f"side_{group}"] = side
    for name in ("share", *SIDES):
        if name in split:
            out.values[f"split_{name}"] = grade_forms.number_text(split[name])
    out.values["missing"] = config.missing
    return out


def _typed_number(form: WeightsForm, name: str) -> float | None:
    """A weight or share as typed (60% is 0.6); a problem goes beside its field, so one save
    names every field to fix (the domain checks again)."""
    value = forms.typed_weight(form.get(name))
    if value is not None and math.isnan(value):
        form.errors.setdefault(name, []).append(_("请填写数字。"))
        return None
    if value is not None and value < 0:
        form.errors.setdefault(name, []).append(_("权重不能为负数。"))
        return None
    return value


def _settings_post(cycle_id: int):
    """The cycle, the posted :class:`~.forms.UnitTypeForm` and, when the post cannot be
    taken (an expired page, an unknown type), the redirect back to the composite page with
    the reason flashed."""
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.UnitTypeForm()
    if form.validate_on_submit():
        return cycle, form, None
    unit_type = form.type.data if form.type.data in UNIT_TYPES else None
    expired = "csrf_token" in form.errors
    flash(_("页面已过期或来源无法验证，请返回刷新后重试。") if expired else _("未知的单位类型。"))
    return cycle, form, redirect(url_for("admin.composite", cycle_id=cycle.id, type=unit_type))


def _back_to_composite(cycle_id: int, part: str):
    """A refused save answers with the page at the post's address: reloading it (a GET) goes
    back to the composite page rather than to "method not allowed"."""
    cycle = db.get_or_404(Cycle, cycle_id)
    _types, unit_type = chosen_unit_type(cycle)
    return redirect(url_for("admin.composite", cycle_id=cycle.id, type=unit_type) + part)


@bp.route("/cycles/<int:cycle_id>/composite/settings", methods=["GET", "POST"])
@admin_only
def composite_settings(cycle_id: int):
    """Weights per component and, if the satisfaction share is given, its split between the
    internal and external groups; problems beside their fields, what was typed kept."""
    if request.method == "GET":
        return _back_to_composite(cycle_id, "#weights")
    cycle, posted, refused = _settings_post(cycle_id)
    if refused is not None:
        return refused
    unit_type = posted.type.data
    form = WeightsForm({k: v for k, v in request.form.items() if isinstance(v, str)})
    weights: dict[str, float] = {}
    for name in composite_domain.components(cycle):
        value = _typed_number(form, f"w_{name}")
        if value is not None:
            weights[name] = value
    split = None
    share = _typed_number(form, "split_share")
    sides = {side: _typed_number(form, f"split_{side}") for side in SIDES}
    if share is not None:
        groups = {
            code: form.get(f"side_{code}")
            for code in db.session.scalars(select(RaterGroup.code))
            if form.get(f"side_{code}") in SIDES
        }
        split = {"share": share, **{k: v or 0.0 for k, v in sides.items()}, "groups": groups}
    if not form.errors:
        done = run_action(
            composite_domain.set_weights,
            cycle,
            unit_type,
            weights,
            form.get("missing"),
            split,
            show=False,
        )
        if done:
            flash(_("已保存。"))
            return redirect(
                url_for("admin.composite", cycle_id=cycle.id, type=unit_type) + "#weights"
            )
        name = done.error.field or ""
        if name != "missing" and not name.startswith(("w_", "split_")):
            name = "weights"  # the form as a whole
        form.errors.setdefault(name, []).append(done.message)
    return composite_page(cycle, unit_type, weights=form, status=400)


@bp.post("/cycles/<int:cycle_id>/composite")
@reviewers
def recompute_composite(cycle_id: int):
    cycle, posted, refused = _settings_post(cycle_id)
    if refused is not None:
        return refused
    unit_type = posted.type.data
    if run_action(composite_domain.run_composite, cycle, unit_type, current_user.username):
        flash(_("已重新计算综合结果。"))
    return redirect(url_for("admin.composite", cycle_id=cycle.id, type=unit_type))


@bp.route("/cycles/<int:cycle_id>/grades", methods=["GET", "POST"])
@admin_only
def grade_settings(cycle_id: int):
    """The grade rules editor's buttons: add or remove a row and preview (the page again,
    nothing stored), or save (the rules' JSON contract, see :mod:`.grade_rules`)."""
    if request.method == "GET":
        return _back_to_composite(cycle_id, "#grades")
    cycle, posted, refused = _settings_post(cycle_id)
    if refused is not None:
        return refused
    unit_type, action = posted.type.data, posted.action.data or "save"
    editor = grade_forms.from_form(request.form)
    if grade_forms.change_rows(editor, action):
        return composite_page(cycle, unit_type, editor)
    data = grade_forms.to_rules(editor, tie_columns(cycle, unit_type))
    if data is None:
        return composite_page(cycle, unit_type, editor, status=400)
    if action == "preview":
        editor.preview = grade_domain.preview(cycle, unit_type, data)
        return composite_page(cycle, unit_type, editor)
    done = run_action(grade_domain.set_rules, cycle, unit_type, data, show=False)
    if not done:
        editor.errors.setdefault("kind", []).append(done.message)
        return composite_page(cycle, unit_type, editor, status=400)
    flash(_("等级规则已保存。"))
    return redirect(url_for("admin.composite", cycle_id=cycle.id, type=unit_type) + "#grades")


@bp.get("/cycles/<int:cycle_id>/results.<fmt>")
@readers
def export_results(cycle_id: int, fmt: str):
    """The ranking with grades and their reasons (published, else as it stands now), as
    XLSX or CSV; only the units in the person's scope."""
    if fmt not in ("xlsx", "csv"):
        abort(404)
    cycle = db.get_or_404(Cycle, cycle_id)
    _types, unit_type = chosen_unit_type(cycle)
    access = scope()
    if not access.office and publication_domain.publication_of(cycle, unit_type) is None:
        # a unit contact's file would hold no row before publication: say why instead
        flash(_("该类单位的结果尚未公示，公示后在这里显示，并可导出。"))
        return redirect(url_for("admin.composite", cycle_id=cycle.id, type=unit_type), 303)
    rows = publication_domain.ranking_rows(cycle, unit_type)
    if rows is None:  # nothing to export yet: back to where it is computed
        flash(_("还没有计算结果。"))
        return redirect(url_for("admin.composite", cycle_id=cycle.id, type=unit_type))
    published = publication_domain.publication_of(cycle, unit_type)
    rules = grade_domain.rules_for(cycle, unit_type)
    labels = {b.code: b.label for b in parse_rules(rules).bands} if rules else {}
    if published is not None:
        labels = publication_domain.grade_labels(published) or labels
    visible = {u.code for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))
               if access.may_see_results(cycle, u)}  # fmt: skip
    header, body = exports.results_rows(
        [r for r in rows if r.unit in visible],
        lambda r: grade_reason(r, labels) if r.label else "",
    )
    words = {"rank": _("排名"), "unit": _("单位编码"), "name": _("单位"), "score": _("得分"),
             "grade": _("等级"), "reason": _("评定理由"), "previous": _("上期得分"),
             "change": _("较上期")}  # fmt: skip
    header = [words[h] for h in header]
    name = f"results-{cycle.code}-{unit_type}"
    if fmt == "csv":
        out = io.StringIO()
        exports.write_csv(out, header, body)
        return download(out.getvalue(), f"{name}.csv", "text/csv")
    data = io.BytesIO()
    exports.results_xlsx(data, label("unit_type", unit_type), header, body)
    return download(data.getvalue(), f"{name}.xlsx", MIMETYPES[".xlsx"])
