"""The rectification ledger: items per cycle, worked on by the unit, closed by a reviewer."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import bp, readers, require_unit, reviewers, scope
from evalsurvey.admin.findings import evidence_folder, form_status, send_evidence
from evalsurvey.domain import ledger as ledger_domain
from evalsurvey.domain.access import RESULT_SOURCES
from evalsurvey.domain.evidence import store_evidence
from evalsurvey.extensions import db
from evalsurvey.i18n import LABELS, _, label
from evalsurvey.models import Cycle, CycleScheme, RectificationItem, Role, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.timezones import to_local
from evalsurvey.web import run_action


def _today() -> date:
    return to_local(utcnow()).date()


def _item(item_id: int) -> RectificationItem:
    """The item, if the person may see it (a unit contact sees an item drawn from results
    once they are published or a reviewer has confirmed it: ``Scope.may_see_item``)."""
    item = db.get_or_404(RectificationItem, item_id)
    require_unit(item.unit)
    if not scope().may_see_item(item):
        abort(404)
    return item


@bp.get("/cycles/<int:cycle_id>/ledger")
@readers
def ledger(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    query = (
        select(RectificationItem)
        .join(Unit, Unit.id == RectificationItem.unit_id)
        .where(RectificationItem.cycle_id == cycle.id)
        .order_by(Unit.code, RectificationItem.id)
    )
    query = scope().items(query, cycle)  # items from results: once published or confirmed
    status = request.args.get("status", "")
    if status:
        query = query.where(RectificationItem.status == status)
    page = db.paginate(query, per_page=100, error_out=False)
    types = list(
        db.session.scalars(select(CycleScheme.unit_type).where(CycleScheme.cycle_id == cycle.id))
    )
    return render_template(
        "admin/ledger.html",
        cycle=cycle,
        page=page,
        status=status,
        today=_today(),
        overdue=ledger_domain.overdue,
        types=types,
        form=forms.ConfirmForm(),
        statuses=list(LABELS["ledger_status"]),
    )


@bp.post("/cycles/<int:cycle_id>/ledger/propose")
@reviewers
def propose_items(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    if forms.ConfirmForm().validate_on_submit():
        if request.form.get("source") == "review":
            done = run_action(ledger_domain.follow_up_bad_reviews, cycle)
        else:
            done = run_action(
                ledger_domain.propose_from_deductions, cycle, request.form.get("type", "")
            )
        if done:
            flash(_("已生成 {n} 个整改项。", n=done.value))
    return redirect(url_for("admin.ledger", cycle_id=cycle.id))


def _move(item: RectificationItem, form: forms.LedgerForm, reviewer: bool) -> None:
    """The evidence sent with a move, then the move: one action."""
    upload = form.evidence.data
    if upload is not None and getattr(upload, "filename", ""):
        store_evidence(evidence_folder(), item, upload.filename, upload.read())
    ledger_domain.move(
        item,
        form.status.data,
        current_user.username,
        reviewer,
        form.note.data,
        form.owner.data,
        form.due_on.data,
    )


@bp.route("/ledger/<int:item_id>", methods=["GET", "POST"])
@readers
def ledger_item(item_id: int):
    item = _item(item_id)
    reviewer = current_user.role in (Role.ADMIN, Role.INSPECTOR)
    unit_side = current_user.role == Role.UNIT_CONTACT
    moves = (ledger_domain.REVIEWER_MOVES if reviewer else ledger_domain.UNIT_MOVES).get(
        item.status, set()
    )
    form = forms.LedgerForm()
    form.status.choices = [(s, label("ledger_status", s)) for s in sorted(moves)]
    done = None
    if form.is_submitted():
        if not (reviewer or unit_side):
            abort(403)
        if form.validate():
            done = run_action(_move, item, form, reviewer, form=form)
            if done:
                flash(_("已保存。"))
                return redirect(url_for("admin.ledger_item", item_id=item.id))
    return render_template(
        "admin/ledger_item.html",
        item=item,
        form=form,
        moves=moves,
        reviewer=reviewer,
        late=ledger_domain.overdue(item, _today()),
        # a deduction's points (a penalty's value) are a result: not before publication
        figures=item.source not in RESULT_SOURCES or scope().may_see_results(item.cycle, item.unit),
        # confirming hands the item to the unit, which then sees it before publication
        early=(
            reviewer
            and item.status == "proposed"
            and item.source in RESULT_SOURCES
            and not scope().results_published(item.cycle, item.unit.type)
        ),
    ), form_status(form, done.error if done is not None else None)


@bp.get("/ledger/<int:item_id>/evidence")
@readers
def ledger_evidence(item_id: int):
    item = _item(item_id)
    return send_evidence(item, f"{item.unit.code}-{item.id}")
