"""The rectification ledger: items per cycle, worked on by the unit, closed by a reviewer."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import (
    bp,
    confirm_page,
    readers,
    require_unit,
    reviewers,
    scope,
)
from evalsurvey.admin.findings import evidence_folder, form_status, send_evidence
from evalsurvey.domain.access import RESULT_SOURCES
from evalsurvey.domain.assessment import ledger as ledger_domain
from evalsurvey.domain.assessment.evidence import store_evidence
from evalsurvey.extensions import db
from evalsurvey.i18n import LABELS, N_, _, label
from evalsurvey.models import Cycle, CycleScheme, RectificationItem, Role, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.timezones import to_local
from evalsurvey.web import run_action

ORDER = list(LABELS["ledger_status"])  # the statuses in the order of the work


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


PER_PAGE = 50  # one screen to tick and act on; "select all on this page" takes them all
BULK = {
    "confirm": N_("已确认 {n} 个整改项。"),
    "assign": N_("已为 {n} 个整改项指派责任人和期限。"),
    "close": N_("已销号 {n} 个整改项。"),
}


def _bulk(action: str, items: list[RectificationItem], form: forms.LedgerBulkForm) -> int:
    """One bulk action of the ledger page: one domain function, all or nothing."""
    if action == "confirm":
        return ledger_domain.confirm_many(
            items, current_user.username, form.owner.data or "", form.due_on.data
        )
    if action == "assign":
        return ledger_domain.assign_many(items, form.owner.data or "", form.due_on.data)
    return ledger_domain.close_many(items, current_user.username, form.note.data or "")


@bp.route("/cycles/<int:cycle_id>/ledger", methods=["GET", "POST"])
@readers
def ledger(cycle_id: int):
    """The cycle's items, 50 a page; a reviewer ticks items and confirms them, assigns an
    owner and a deadline, or closes them, in one post (refusals shown by each item)."""
    cycle = db.get_or_404(Cycle, cycle_id)
    query = (
        select(RectificationItem)
        .join(Unit, Unit.id == RectificationItem.unit_id)
        .where(RectificationItem.cycle_id == cycle.id)
        .order_by(Unit.code, RectificationItem.id)
    )
    query = scope().items(query, cycle)  # items from results: once published or confirmed
    reviewer = current_user.role in (Role.ADMIN, Role.INSPECTOR)
    status = request.values.get("status", "")
    if status not in LABELS["ledger_status"]:
        status = ""
    page_no = request.values.get("page", 1, type=int)
    bulk = forms.LedgerBulkForm()
    selected: set[int] = set()
    item_errors: dict[int, str] = {}
    done = None
    if request.method == "POST":
        if not reviewer:
            abort(403)
        selected = bulk.ids()
        if bulk.validate():
            # only the items this person may see, whatever ids were posted
            chosen = list(db.session.scalars(query.where(RectificationItem.id.in_(selected))))
            done = run_action(_bulk, bulk.action.data, chosen, bulk, form=bulk)
            if done:
                flash(_(BULK[bulk.action.data], n=done.value))
                return redirect(
                    url_for("admin.ledger", cycle_id=cycle.id, status=status or None,
                            page=page_no if page_no > 1 else None)
                )  # fmt: skip
            if isinstance(done.error, ledger_domain.ItemErrors):
                item_errors = {i: e.text(_) for i, e in done.error.errors.items()}
    elif request.args.get("all") == "1":
        selected = None  # every item of the page, ticked (no JavaScript needed)
    if status:
        query = query.where(RectificationItem.status == status)
    page = db.paginate(query, page=page_no, per_page=PER_PAGE, error_out=False)
    if selected is None:
        selected = {item.id for item in page.items}
    # refusals of ticked items not on this page (a post from another page or filter)
    shown = {item.id for item in page.items}
    elsewhere = [
        (item, item_errors[item.id])
        for item in db.session.scalars(
            select(RectificationItem).where(RectificationItem.id.in_(set(item_errors) - shown))
        )
    ]
    types = list(
        db.session.scalars(select(CycleScheme.unit_type).where(CycleScheme.cycle_id == cycle.id))
    )
    # confirming a proposal drawn from unpublished results hands it to the unit early
    early = reviewer and any(
        item.status == "proposed"
        and item.source in RESULT_SOURCES
        and not scope().results_published(cycle, item.unit.type)
        for item in page.items
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
        bulk=bulk,
        reviewer=reviewer,
        selected=selected,
        item_errors=item_errors,
        elsewhere=elsewhere,
        early=early,
        statuses=list(LABELS["ledger_status"]),
    ), (400 if bulk.errors or item_errors else 200)


@bp.post("/cycles/<int:cycle_id>/ledger/propose")
@reviewers
def propose_items(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.ProposeItemsForm()
    if not form.validate_on_submit():
        flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
    else:
        if form.source.data == "review":
            done = run_action(ledger_domain.follow_up_bad_reviews, cycle)
        else:
            done = run_action(ledger_domain.propose_from_deductions, cycle, form.type.data or "")
        if done:
            flash(_("已生成 {n} 个整改项。", n=done.value))
    return redirect(url_for("admin.ledger", cycle_id=cycle.id))


def _move(item: RectificationItem, form: forms.LedgerForm, reviewer: bool) -> None:
    """The evidence sent with a move, then the move (or, with no new status, the changes
    saved as they are): one action."""
    upload = form.evidence.data
    added = upload is not None and bool(getattr(upload, "filename", ""))
    if added:
        store_evidence(evidence_folder(), item, upload.filename, upload.read())
    if not form.status.data:
        ledger_domain.update(
            item, reviewer, form.note.data, form.owner.data, form.due_on.data, added
        )
        return
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
    # the first choice, selected unless another is picked, changes nothing (QA: it was
    # "不予立项", so saving an owner and a deadline dropped the item)
    keep = _("不改变（现为“{status}”）", status=label("ledger_status", item.status))
    form.status.choices = [("", keep)] + [
        (s, label("ledger_status", s)) for s in ORDER if s in moves
    ]
    # a reviewer may change the owner and deadline of any item still being worked on
    assigning = reviewer and item.status not in ledger_domain.SETTLED
    if request.method == "GET" and assigning:
        form.owner.data, form.due_on.data = item.owner, item.due_on
    done = None
    if form.is_submitted():
        if not (reviewer or unit_side):
            abort(403)
        if form.validate():
            done = run_action(_move, item, form, reviewer, form=form)
            if done:
                if form.status.data:
                    flash(_("已保存。"))
                else:
                    flash(_("已保存，状态未变（{status}）。",
                            status=label("ledger_status", item.status)))  # fmt: skip
                return redirect(url_for("admin.ledger_item", item_id=item.id))
    return render_template(
        "admin/ledger_item.html",
        item=item,
        form=form,
        moves=moves,
        reviewer=reviewer,
        editable=bool(moves) or assigning,
        assigning=assigning,
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


@bp.route("/ledger/<int:item_id>/drop", methods=["GET", "POST"])
@reviewers
def drop_ledger_item(item_id: int):
    """Not taking up a proposed item (不予立项): its own page and reason, never a choice
    in the status list; a reviewer can restore it afterwards."""
    item = _item(item_id)
    back = url_for("admin.ledger_item", item_id=item.id)
    if item.status != "proposed":
        flash(_("只有待确认的整改项可以不予立项。"))
        return redirect(back)
    form = forms.ReasonForm()
    if form.validate_on_submit() and run_action(
        ledger_domain.drop, item, form.reason.data, form=form
    ):
        flash(_("已不予立项。如有需要，可在本页恢复。"))
        return redirect(back)
    return confirm_page(
        form,
        _("不予立项：{title}", title=item.title),
        _(
            "{unit}的这个整改项将不予立项，单位不会收到它。考核人员可以随后恢复。",
            unit=item.unit.name,
        ),  # fmt: skip
        _("确认不予立项"),
        back,
    )


@bp.post("/ledger/<int:item_id>/restore")
@reviewers
def restore_ledger_item(item_id: int):
    """Undo a drop: the item is proposed again (audited like every change)."""
    item = _item(item_id)
    if forms.ConfirmForm().validate_on_submit() and run_action(ledger_domain.restore, item):
        flash(_("已恢复为待确认。"))
    return redirect(url_for("admin.ledger_item", item_id=item.id))


@bp.get("/ledger/<int:item_id>/evidence")
@readers
def ledger_evidence(item_id: int):
    item = _item(item_id)
    return send_evidence(item, f"{item.unit.code}-{item.id}")
