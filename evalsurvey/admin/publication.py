"""Publishing a unit type's results (after confirming) and answering objections."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.domain.results import cycle as cycle_results
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, label
from evalsurvey.models import Cycle, Objection
from evalsurvey.models.units import UNIT_TYPES
from evalsurvey.web import run_action

# the blockers the two-level review page resolves (linked from the confirmation page)
REVIEW_BLOCKERS = (publication_domain.NO_DRAW, publication_domain.PENDING)

PUBLISH_WARNING = N_(
    "将以最新保存的综合结果和等级公示 7 天，任何人都可提出异议；公示后结果不再变动。"
)


def published_now(cycle: Cycle, unit_type: str) -> bool:
    return publication_domain.publication_of(cycle, unit_type) is not None


def _unit_type() -> str:
    """``?type=`` (or the posted one): a known unit type, else not found (these pages are
    about one unit type's results: without one they have nothing to name or publish)."""
    unit_type = request.values.get("type", "")
    if unit_type not in UNIT_TYPES:
        abort(404)
    return unit_type


@bp.route("/cycles/<int:cycle_id>/publish", methods=["GET", "POST"])
@admin_only
def publish_results(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    unit_type = _unit_type()
    form = forms.PublishForm()
    refused = None  # the refusal of a post, shown as an error on this page
    reason = form.reason.data or ""
    if form.validate_on_submit():
        done = run_action(
            publication_domain.publish_results,
            cycle,
            unit_type,
            current_user.username,
            reason=reason,
            show=False,
        )
        if done:
            flash(_("结果已公示，公示期 7 天。"))
            return redirect(url_for("admin.objections", cycle_id=cycle.id, type=unit_type))
        refused = done.message
    blockers = publication_domain.publication_blockers(cycle, unit_type)
    reasons = [b.error().text(_) for b in blockers]
    # what would be published now, shown before the office confirms
    preview = (
        cycle_results.current_result(cycle, unit_type)
        if not published_now(cycle, unit_type)
        else None
    )
    return render_template(
        "admin/publish.html",
        form=form,
        cycle=cycle,
        unit_type=unit_type,
        kind=label("unit_type", unit_type),
        warning=_(PUBLISH_WARNING),
        refused=refused if refused not in reasons else None,
        blockers=list(zip(blockers, reasons, strict=True)),
        overridable=bool(blockers) and all(b.overridable for b in blockers),
        reason=reason,
        preview=preview,
        review_codes=REVIEW_BLOCKERS,
    ), (400 if refused or form.errors else 200)


@bp.route("/cycles/<int:cycle_id>/objections", methods=["GET", "POST"])
@admin_only
def objections(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    unit_type = _unit_type()
    published = publication_domain.publication_of(cycle, unit_type)
    form = forms.ObjectionAnswerForm()
    if request.method == "POST" and form.validate_on_submit() and published is not None:
        found = db.get_or_404(Objection, form.objection.data)
        if found.publication_id != published.id:
            flash(_("不允许的操作。"))
        else:
            if run_action(
                publication_domain.answer_objection,
                found,
                form.answer.data or "",
                current_user.username,
            ):
                flash(_("已答复。"))
        return redirect(url_for("admin.objections", cycle_id=cycle.id, type=unit_type))
    if request.method == "POST":
        # only a tampered post names no objection (the page's form always does)
        flash(_("不允许的操作。"))
        return redirect(url_for("admin.objections", cycle_id=cycle.id, type=unit_type))
    rows = (
        db.session.scalars(
            select(Objection).where(Objection.publication_id == published.id).order_by(Objection.id)
        )
        if published
        else []
    )
    return render_template(
        "admin/objections.html",
        cycle=cycle,
        unit_type=unit_type,
        published=published,
        rows=list(rows),
        form=form,
    )
