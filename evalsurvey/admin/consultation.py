"""Department consultation: departments submit adjustments, the office decides.

A department picks the unit (those it may propose for) and the bonus, penalty or veto item
from the scheme the cycle uses for that unit's type; the page states each item's rule in
words and how its value is written, with an example taken from the item itself (so the
example is always one the item accepts).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import SelectChoice

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp
from evalsurvey.admin.findings import evidence_folder, form_status, send_evidence
from evalsurvey.admin.schemes import rule_words
from evalsurvey.auth.guards import roles_required
from evalsurvey.domain.assessment import consultation as consultation_domain
from evalsurvey.domain.assessment.evidence import store_evidence
from evalsurvey.domain.assessment.grades import grade_labels_of
from evalsurvey.domain.assessment.schemes import cycle_scheme, scheme_of
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, current_lang, label, sep
from evalsurvey.models import Adjustment, Cycle, Finding, Role, Unit
from evalsurvey.scoring import Finding as ScoringFinding
from evalsurvey.scoring import FindingsError
from evalsurvey.scoring.categories import category_name
from evalsurvey.scoring.points import score_units
from evalsurvey.scoring.schemes import Veto
from evalsurvey.web import run_action


@dataclass(frozen=True)
class ItemChoice:
    """One item a department may propose, as the page offers it."""

    value: str  # "<unit type>/<code>": the same code may name other items in other schemes
    code: str
    title: str
    kind: str  # bonus | penalty | veto
    rule: Markup  # the rule in words (categories as <code>)
    hint: str  # how the value is written
    example: str  # a value the item accepts


def item_choices(cycle: Cycle, unit_type: str) -> list[ItemChoice]:
    """The bonus, penalty and veto items of ``unit_type``'s scheme in ``cycle``."""
    out = []
    grades: dict[str, str] | None = None
    for item in consultation_domain.adjustable_of_type(cycle, unit_type):
        kind = consultation_domain.item_kind(cycle, unit_type, item.code) or ""
        if isinstance(item, Veto):
            if grades is None:
                grades = grade_labels_of(cycle, unit_type)
            # grades by their labels in the cycle's rules (a code no rule names is left out)
            barred = sep(",").join(grades[b] for b in item.bars if b in grades)
            rule = Markup(
                _("否决：扣 {d} 分，且不得评为{grades}", d=f"{item.deduct:g}", grades=barred)
                if barred
                else _("否决：扣 {d} 分", d=f"{item.deduct:g}")
            )
            hint, example = _("发生即填 1。"), "1"
        else:
            lang = current_lang()
            categories = [category_name(c, lang) for c in item.rule.params["points"]]
            example = f"{categories[0]}:1"
            rule = rule_words(item.rule)
            hint = _(
                "取值填 类别:次数（类别为 {categories}），几类之间用分号隔开。",
                categories=sep(",").join(categories),
            )
        out.append(
            ItemChoice(
                f"{unit_type}/{item.code}", item.code, item.title, kind, rule, hint, example
            )  # fmt: skip
        )
    return out


def _catalogue(cycle: Cycle) -> tuple[dict[str, Unit], list[tuple[str, list[ItemChoice]]]]:
    """The units a department may propose for (by code) and each of their types' items."""
    units = {u.code: u for u in consultation_domain.proposable_units(cycle)}
    types = sorted({u.type for u in units.values()})
    return units, [(t, item_choices(cycle, t)) for t in types]


def _item_code(unit: Unit, raw: str) -> str:
    """The item's code from the picker's ``<unit type>/<code>`` (a bare code is read in the
    unit's own scheme)."""
    unit_type, slash, code = raw.strip().rpartition("/")
    if slash and unit_type != unit.type:
        raise DomainError(
            "所选项目属于“{other}”的考核方案，所选单位是“{own}”，请重新选择项目。",
            "item",
            other=label("unit_type", unit_type),
            own=label("unit_type", unit.type),
        )
    if not code:
        raise DomainError("请选择加分、减分或否决项。", "item")
    return code


def _submit(cycle: Cycle, form: forms.AdjustmentForm, units: dict[str, Unit]) -> Adjustment:
    """A department's adjustment for the unit it picked, with its evidence: one action."""
    if not (form.unit.data or "").strip():
        raise DomainError("请选择单位。", "unit")
    unit = units.get(form.unit.data.strip())
    if unit is None:
        raise DomainError("找不到该单位。", "unit")
    found = consultation_domain.submit_adjustment(
        cycle,
        unit,
        _item_code(unit, form.item.data or ""),
        form.value.data or "",
        form.reason.data or "",
        current_user.username,
    )
    upload = form.evidence.data
    if upload is not None and getattr(upload, "filename", ""):
        store_evidence(evidence_folder(), found, upload.filename, upload.read())
    return found


@bp.route("/cycles/<int:cycle_id>/consultation", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.DEPARTMENT)
def consultation(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.ConfirmForm()
    department = current_user.role == Role.DEPARTMENT
    propose = forms.AdjustmentForm() if department else None
    units, catalogue = _catalogue(cycle) if department else ({}, [])
    refused = None
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "submit":
            if propose is None:
                abort(403)
            if propose.validate_on_submit():
                done = run_action(_submit, cycle, propose, units, form=propose)
                if done:
                    flash(_("已提交，待考核办审批。"))
                    return redirect(url_for("admin.consultation", cycle_id=cycle.id))
                refused = done.error
            # refused: the form again, with what was typed and the reason by its field
        elif action in DECISIONS:
            # a row's button from a page older than the confirmation step: the office is
            # sent to that step, nothing is decided here
            if current_user.role != Role.ADMIN:
                abort(403)
            pick = forms.AdjustmentPickForm()
            if not pick.validate_on_submit():
                if "csrf_token" in pick.errors:
                    flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
                    return redirect(url_for("admin.consultation", cycle_id=cycle.id), 303)
                abort(404)  # no adjustment, or an id no row can have
            found = _adjustment(cycle, pick.adjustment.data)
            return redirect(url_for(f"admin.{action}_adjustment", cycle_id=cycle.id,
                                    adjustment_id=found.id), 303)  # fmt: skip
        else:
            if form.validate_on_submit():
                flash(_("不允许的操作。"))
            else:
                flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
            return redirect(url_for("admin.consultation", cycle_id=cycle.id), 303)
    if propose is not None:
        by_type: dict[str, list[Unit]] = {}
        for unit in units.values():
            by_type.setdefault(unit.type, []).append(unit)
        propose.unit.choices = [SelectChoice("", _("请选择单位"))] + [
            SelectChoice(
                u.code, f"{u.name} {u.code}", {"data-type": t}, optgroup=label("unit_type", t)
            )  # fmt: skip
            for t, members in by_type.items()
            for u in members
        ]
    query = select(Adjustment).where(Adjustment.cycle_id == cycle.id).order_by(Adjustment.id.desc())
    if department:
        query = query.where(Adjustment.submitted_by == current_user.username)
    rows = list(db.session.scalars(query))
    titles = {}
    for unit_type in {a.unit.type for a in rows}:
        for choice in item_choices(cycle, unit_type):
            titles[(unit_type, choice.code)] = choice.title
    chosen = next(
        (c for _t, items in catalogue for c in items if propose and c.value == propose.item.data),
        None,
    )
    return render_template(
        "admin/consultation.html",
        cycle=cycle,
        rows=rows,
        titles=titles,
        form=form,
        propose=propose,
        catalogue=catalogue,
        chosen=chosen,
    ), (form_status(propose, refused) if propose is not None else 200)


# the office's two decisions: the form each posts, and what its confirmation page says
DECISIONS = {
    "approve": (forms.ApproveAdjustmentForm, N_("批准部门意见"), N_("确认批准")),
    "reject": (forms.RejectAdjustmentForm, N_("驳回部门意见"), N_("确认驳回")),
}


def _adjustment(cycle: Cycle, adjustment_id: int) -> Adjustment:
    found = db.get_or_404(Adjustment, adjustment_id)
    if found.cycle_id != cycle.id:
        abort(404)
    return found


def _points(cycle: Cycle, unit: Unit, item: str, value: str) -> float | None:
    """What ``item`` written as ``value`` counts in ``unit``'s total (bonus before its cap;
    a penalty or veto below 0); None when there is no value or it cannot be read."""
    version = cycle_scheme(cycle, unit.type)
    if version is None or not (value or "").strip():
        return None
    try:
        scored = score_units(scheme_of(version), [ScoringFinding(unit.code, item, value)])[0]
    except FindingsError:
        return None
    return round(scored.bonus_raw + scored.penalties - scored.veto_deduction, 6)


def _effect(found: Adjustment) -> dict:
    """What approving ``found`` changes: the item's recorded value and its points, before
    and after (occurrences add up to what is already recorded)."""
    current = db.session.scalar(
        select(Finding).where(
            Finding.cycle_id == found.cycle_id,
            Finding.unit_id == found.unit_id,
            Finding.element == found.item,
        )
    )
    old = current.value if current is not None else ""
    # added up as approving adds them
    new = consultation_domain.merged_value(old, found.value) if old else found.value
    before = _points(found.cycle, found.unit, found.item, old) if old else 0.0
    after = _points(found.cycle, found.unit, found.item, new)
    change = None if before is None or after is None else round(after - before, 6)
    return {"old": old, "new": new, "before": before, "after": after, "change": change}


@bp.route(
    "/cycles/<int:cycle_id>/consultation/<int:adjustment_id>/approve", methods=["GET", "POST"]
)
@admin_only
def approve_adjustment(cycle_id: int, adjustment_id: int):
    return _decide(cycle_id, adjustment_id, "approve")


@bp.route("/cycles/<int:cycle_id>/consultation/<int:adjustment_id>/reject", methods=["GET", "POST"])
@admin_only
def reject_adjustment(cycle_id: int, adjustment_id: int):
    return _decide(cycle_id, adjustment_id, "reject")


def _decide(cycle_id: int, adjustment_id: int, decision: str):
    """The office approves or rejects one adjustment after seeing what it changes: the
    unit, the item, the points, the department's reason; a reason of its own is required."""
    cycle = db.get_or_404(Cycle, cycle_id)
    found = _adjustment(cycle, adjustment_id)
    back = url_for("admin.consultation", cycle_id=cycle.id)
    if found.status != "pending":
        flash(_("该申请已处理。"))
        return redirect(back, 303)
    form_class, title, button = DECISIONS[decision]
    form = form_class()
    if form.validate_on_submit() and run_action(
        consultation_domain.decide,
        found,
        decision == "approve",
        form.decision.data,
        current_user.username,
        form=form,
    ):
        flash(_("已批准。") if decision == "approve" else _("已驳回。"))
        return redirect(back, 303)
    titles = {c.code: c.title for c in item_choices(cycle, found.unit.type)}
    return render_template(
        "admin/adjustment_decide.html",
        cycle=cycle,
        found=found,
        title=_(title),
        button=_(button),
        decision=decision,
        item_title=titles.get(found.item, ""),
        kind=consultation_domain.item_kind(cycle, found.unit.type, found.item) or "",
        effect=_effect(found) if decision == "approve" else None,
        form=form,
        back=back,
    ), (400 if form.errors else 200)


@bp.get("/adjustments/<int:adjustment_id>/evidence")
@roles_required(Role.ADMIN, Role.INSPECTOR, Role.DEPARTMENT)
def adjustment_evidence(adjustment_id: int):
    """A department's evidence: for the office and the department that submitted it (it may
    name petitioners, so never for the unit)."""
    found = db.get_or_404(Adjustment, adjustment_id)
    if current_user.role == Role.DEPARTMENT and found.submitted_by != current_user.username:
        abort(403)
    return send_evidence(found, f"{found.unit.code}-{found.item}")
