"""The two-level review: bodies propose, the upper level draws its sample and re-reviews,
and the inflation report compares the two per body."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import analysts, bp, readers, scope
from evalsurvey.admin.composite import chosen_unit_type
from evalsurvey.domain.assessment import grade_review
from evalsurvey.domain.assessment.publication import publication_of
from evalsurvey.domain.assessment.standing import proposals_of
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.queries import get_by_code
from evalsurvey.domain.results import cycle as cycle_results
from evalsurvey.extensions import db
from evalsurvey.i18n import _, label, sep
from evalsurvey.models import Cycle, Unit
from evalsurvey.reports.charts import grouped_bars
from evalsurvey.scoring.review import DRAWN, MARGIN
from evalsurvey.web import run_action


def _review_notice(cycle: Cycle, unit: Unit, score: float) -> str:
    """What saving a proposal says: "已申报。", and when the upper level must re-review it
    (see :func:`evalsurvey.domain.assessment.grade_review.must_review`) that it will, and why."""
    # the scores' reasons only: whether the unit was drawn in the sample is not the body's
    reasons = tuple(
        r for r in grade_review.must_review(cycle, unit.type).get(unit.code, ()) if r != DRAWN
    )
    if not reasons:
        return _("已申报。")
    words = []
    computed = grade_review.suggestions(cycle, unit.type).get(unit.code)
    for reason in grade_review.shown_reasons(reasons):
        if reason == MARGIN and computed is not None:
            words.append(
                _(
                    "与计算得分 {computed} 相差 {difference} 分，超过允许的 {margin} 分",
                    computed=f"{round(computed[0], 2):g}",  # as the pages show points
                    difference=f"{abs(score - computed[0]):.2f}",
                    margin=f"{grade_review.review_margin():g}",
                )
            )
        else:
            words.append(label("review_reason", reason))
    return _(
        "已申报。该申报须经上级复核：{reasons}。复核前不计入排名，结果也不能公示。",
        reasons=sep(";").join(words),
    )


def _number(raw: str) -> float:
    try:
        return float((raw or "").strip())
    except ValueError:
        raise DomainError("得分必须是 0 到 100 之间的数字。", "score") from None


def _propose(cycle: Cycle, unit_type: str, form: forms.ProposalForm) -> str:
    """A lower-level body proposes a unit's score; returns what to say once it is stored."""
    unit = get_by_code(Unit, form.unit.data or "")
    if unit is None or unit.type != unit_type:
        abort(404)
    if not scope().may_propose_for(unit):
        abort(403)
    proposal = grade_review.propose(
        cycle,
        unit,
        _number(form.score.data),
        form.grade.data or "",  # none from the page: the rules give the grade
        form.note.data or "",
        current_user.username,
    )
    db.session.flush()
    return _review_notice(cycle, unit, proposal.score)


def _draw(cycle: Cycle, unit_type: str, form: forms.DrawForm) -> str:
    if not scope().can_review:
        abort(403)
    raw_seed = (form.seed.data or "").strip()
    if raw_seed and not raw_seed.isdigit():
        raise DomainError("随机种子必须是非负整数。", "seed")
    rate = (form.rate.data or "").strip() or grade_review.DEFAULT_RATE
    draw = grade_review.draw_sample(
        cycle, unit_type, current_user.username, rate, int(raw_seed) if raw_seed else None
    )
    return _("已抽取复核样本，随机种子 {seed}。", seed=draw.seed)


def _review_score(cycle: Cycle, unit_type: str, form: forms.ReviewScoreForm) -> str:
    if not scope().can_review:
        abort(403)
    proposal = proposals_of(cycle, unit_type).get(form.unit.data or "")
    if proposal is None:
        abort(404)
    grade_review.review(
        proposal, _number(form.score.data), form.note.data or "", current_user.username
    )
    return _("已保存复核得分。")


# each post names its action: the form that reads it and the function that does it
ACTIONS = {
    "propose": (forms.ProposalForm, _propose),
    "draw": (forms.DrawForm, _draw),
    "review": (forms.ReviewScoreForm, _review_score),
}


@bp.route("/cycles/<int:cycle_id>/review", methods=["GET", "POST"])
@readers
def review(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    types, unit_type = chosen_unit_type(cycle)
    form = forms.ConfirmForm()
    error = None  # (action, unit, field, message): a refused proposal or review, by its field
    posted = None  # the post's form, shown again with what was typed when refused
    if request.method == "POST":
        action = request.form.get("action", "")
        if action not in ACTIONS:
            abort(400)
        form_class, act = ACTIONS[action]
        posted = form_class()
        if posted.validate_on_submit():
            done = run_action(act, cycle, unit_type, posted, show=False)
            exc = done.error
            if done:
                flash(done.value)  # said only once it is stored
            elif exc.field and action in ("propose", "review"):
                error = (action, posted.data.get("unit") or "", exc.field, done.message)
            else:
                flash(done.message)
        elif posted.errors.keys() - {"csrf_token"} and action in ("propose", "review"):
            field, messages = next((k, v) for k, v in posted.errors.items() if k != "csrf_token")
            error = (action, posted.data.get("unit") or "", field, messages[0])
        elif posted.errors.keys() - {"csrf_token"}:
            flash(next(v[0] for k, v in posted.errors.items() if k != "csrf_token"))
        else:
            flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
        if error is None:
            return redirect(url_for("admin.review", cycle_id=cycle.id, type=unit_type), 303)
    access = scope()
    # before publication a contact sees, of the units it proposes for, only their computed
    # scores (to confirm or correct them): no reviewed or final score, no grade
    units = [
        u
        for u in db.session.scalars(select(Unit).where(Unit.type == unit_type).order_by(Unit.code))
        if access.may_see_computed_for_proposal(cycle, u)
    ]
    figures = {u.code for u in units if access.may_see_results(cycle, u)}
    proposals = proposals_of(cycle, unit_type)
    result = cycle_results.cycle_result(cycle, unit_type)
    standing = {r.unit: r for r in (result.ranking() if result else [])}
    stale = cycle_results.staleness(cycle, unit_type)
    draw = grade_review.draw_of(cycle, unit_type)
    redrawn = None
    if draw is not None and access.office:
        redrawn = grade_review.redraw(draw, unit_type)
    return render_template(
        "admin/review.html",
        cycle=cycle,
        types=types,
        unit_type=unit_type,
        units=units,
        figures=figures,
        proposals=proposals,
        suggestions=grade_review.suggestions(cycle, unit_type),
        standing=standing,
        # a unit added after the composite was computed has none yet: nothing to propose on
        in_composite={u.unit for u in result.units} if result else set(),
        published=publication_of(cycle, unit_type) is not None,
        stale=stale if access.office else None,
        # those who propose see that the computed scores will move, not which input changed
        recompute_due=not access.office and stale.recompute,
        stale_units=set(stale.stale_proposals),
        recompute_type=unit_type,
        grades=grade_review.grade_codes(cycle, unit_type),
        to_review={
            code: grade_review.shown_reasons(reasons)
            for code, reasons in grade_review.must_review(cycle, unit_type, proposals).items()
        },
        margin=grade_review.review_margin(),
        draw=draw,
        redrawn=redrawn,
        top=grade_review.top_grades(cycle, unit_type),
        access=access,
        form=form,
        error=error,
        posted=posted.data if error and posted is not None else {},
    ), (400 if error else 200)


@bp.get("/cycles/<int:cycle_id>/review/inflation")
@analysts
def inflation(cycle_id: int):
    """Per lower-level body: proposed against reviewed, as a table and a chart."""
    cycle = db.get_or_404(Cycle, cycle_id)
    types, unit_type = chosen_unit_type(cycle)
    grades = grade_review.grade_codes(cycle, unit_type)
    bodies = grade_review.inflation_by_body(cycle, unit_type)
    names = {u.code: u.name for u in db.session.scalars(select(Unit))}
    charts = {}
    for b in bodies:
        if b.report is None:
            continue
        title = _("{body}：申报与复核后的等级", body=names.get(b.body, b.body or "—"))
        charts[b.body] = grouped_bars(
            title,
            [g_label for _code, g_label in grades],
            {
                _("申报"): [b.report.proposed.get(code, 0) for code, _l in grades],
                _("复核后"): [b.report.reviewed.get(code, 0) for code, _l in grades],
            },
            _("单位数（个）"),
            _("等级"),
        )
    return render_template(
        "admin/inflation.html",
        cycle=cycle,
        types=types,
        unit_type=unit_type,
        kind=label("unit_type", unit_type),
        grades=grades,
        bodies=bodies,
        names=names,
        charts=charts,
    )
