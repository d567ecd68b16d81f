"""Cycles: create, edit, status changes (closing confirmed, reopening with a reason)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import (
    admin_only,
    base_url,
    bp,
    confirm_page,
    is_loopback,
    readers,
    scope,
)
from evalsurvey.admin.findings_bulk import cycle_progress
from evalsurvey.admin.links import link_form
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain import queries
from evalsurvey.domain.results.shortfalls import DEFAULT_MIN_N
from evalsurvey.extensions import db
from evalsurvey.i18n import _, label
from evalsurvey.models import Cycle, CycleStatus, RaterGroup, Role
from evalsurvey.timezones import from_local, to_local
from evalsurvey.web import run_action


@bp.route("/cycles", methods=["GET", "POST"])
@admin_only
def cycles():
    form = forms.CycleForm()
    if form.validate_on_submit():
        done = run_action(
            cycle_domain.create_cycle,
            form.code.data,
            form.name.data,
            form.period.data,
            from_local(form.opens_at.data),
            from_local(form.closes_at.data),
            form=form,
        )
        if done:
            return redirect(url_for("admin.cycle", cycle_id=done.value.id))
    rows = db.session.scalars(select(Cycle).order_by(Cycle.id.desc()))
    return render_template("admin/cycles.html", form=form, cycles=list(rows))


@bp.get("/cycles/<int:cycle_id>")
@readers
def cycle(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    url = base_url()
    return render_template(
        "admin/cycle.html",
        cycle=cycle,
        links=queries.cycle_links(cycle, scope()),
        link_form=link_form(),
        moves=cycle_domain.allowed_moves(cycle),
        base_url=url,
        loopback=is_loopback(url),
        # how far the findings are, unit by unit (the office's roles)
        progress=cycle_progress(cycle)
        if current_user.role in (Role.ADMIN, Role.INSPECTOR, Role.VIEWER)
        else [],
        can_record=current_user.role in (Role.ADMIN, Role.INSPECTOR),
    )


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_cycle(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.CycleEditForm(obj=cycle)
    if request.method == "GET":
        for field, value in ((form.opens_at, cycle.opens_at), (form.closes_at, cycle.closes_at)):
            field.data = to_local(value).replace(tzinfo=None) if value else None
    if form.validate_on_submit() and run_action(
        cycle_domain.update_cycle,
        cycle,
        form.name.data,
        from_local(form.opens_at.data),
        from_local(form.closes_at.data),
        form=form,
    ):
        flash(_("已保存。"))
        return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    return edit_page(cycle, form)


def edit_page(cycle: Cycle, form, minimums: forms.MinimumsForm | None = None):
    """The cycle's settings: name and times, and the minimum responses per rater group
    (``minimums``: a refused post's form, with what was typed and the problems by group)."""
    groups = list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))
    if minimums is None:
        stored = cycle.group_min_n or {}
        minimums = forms.minimums_form(groups, formdata=None)
        for g in groups:
            minimums[f"min_{g.code}"].data = str(stored[g.code]) if g.code in stored else ""
    status = 400 if minimums.errors else 200  # (the cycle form's own errors: 200, as before)
    return render_template(
        "admin/cycle_edit.html",
        form=form,
        cycle=cycle,
        groups=groups,
        minimums=minimums,
        default_min_n=DEFAULT_MIN_N,
    ), status


@bp.post("/cycles/<int:cycle_id>/minimums")
@admin_only
def cycle_minimums(cycle_id: int):
    """The minimum responses per rater group (empty: the default); applied by the next
    analysis. A problem is shown beside its group, what was typed kept."""
    cycle = db.get_or_404(Cycle, cycle_id)
    groups = list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))
    minimums = forms.minimums_form(groups)
    if not minimums.validate_on_submit():
        if "csrf_token" in minimums.errors:
            flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
            return redirect(url_for("admin.edit_cycle", cycle_id=cycle.id))
    elif run_action(cycle_domain.set_group_minimums, cycle, minimums.minimums(), form=minimums):
        flash(_("已保存。重新分析答卷并重新计算综合结果后，新的最少答卷数生效。"))
        return redirect(url_for("admin.edit_cycle", cycle_id=cycle.id) + "#minimums")
    form = forms.CycleEditForm(obj=cycle, formdata=None)
    for field, value in ((form.opens_at, cycle.opens_at), (form.closes_at, cycle.closes_at)):
        field.data = to_local(value).replace(tzinfo=None) if value else None
    return edit_page(cycle, form, minimums)


@bp.route("/cycles/<int:cycle_id>/status/<status>", methods=["GET", "POST"])
@admin_only
def cycle_status(cycle_id: int, status: str):
    """A confirmation page for every status change; reopening asks for the reason."""
    cycle = db.get_or_404(Cycle, cycle_id)
    if status not in cycle_domain.allowed_moves(cycle):
        abort(404)
    reopening = (cycle.status, status) == cycle_domain.REOPEN
    form = forms.ReasonForm() if reopening else forms.ConfirmForm()
    if form.validate_on_submit() and run_action(
        cycle_domain.transition,
        cycle,
        status,
        getattr(form, "reason", None) and form.reason.data,
        form=form,
    ):
        flash(_("周期状态已改为：{s}。", s=label("cycle_status", status)))
        return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    warnings = {
        CycleStatus.OPEN: _("开放后，二维码和邀请链接即可提交答卷。"),
        CycleStatus.CLOSED: _("关闭后不再接受答卷；如需重新开放，必须填写原因并记入操作日志。"),
        CycleStatus.PUBLISHED: _("公布后结果对外可见，此操作不能撤回。"),
    }
    return confirm_page(
        form,
        _("将周期“{name}”改为：{s}", name=cycle.name, s=label("cycle_status", status)),
        warnings.get(CycleStatus(status), ""),
        _("确认"),
        url_for("admin.cycle", cycle_id=cycle.id),
    )
