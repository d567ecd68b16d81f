"""Units and rater groups."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp
from evalsurvey.domain import units as unit_domain
from evalsurvey.domain.checks import db_int
from evalsurvey.domain.files.tables import UNIT_HEADERS, read_table
from evalsurvey.domain.units import ImportError_, import_units
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import RaterGroup, Unit
from evalsurvey.web import run_action


@bp.route("/units", methods=["GET", "POST"])
@admin_only
def units():
    form = forms.UnitForm()
    if form.validate_on_submit():
        done = run_action(
            unit_domain.create_unit,
            form.code.data,
            form.name.data,
            form.type.data,
            form.parent.data,
            form.active.data,
            form=form,
        )
        if done:
            flash(_("已创建单位 {code}。", code=done.value.code))
            return redirect(url_for("admin.units"))
    page = db.paginate(
        select(Unit).options(selectinload(Unit.parent)).order_by(Unit.code),
        page=request.args.get("page", 1, type=db_int),
        per_page=100,
        error_out=False,
    )
    return render_template(
        "admin/units.html", form=form, page=page, import_form=forms.FileForm(prefix="imp")
    ), (400 if form.errors else 200)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_unit(unit_id: int):
    unit = db.get_or_404(Unit, unit_id)
    form = forms.UnitForm(obj=unit)
    if not form.parent.raw_data:  # a GET, or a post without the field
        # the form holds the parent's code, never the unit object the model has under that
        # name (a post without the field keeps the parent it had)
        form.parent.data = unit.parent.code if unit.parent else ""
    if form.validate_on_submit() and run_action(
        unit_domain.update_unit,
        unit,
        form.code.data,
        form.name.data,
        form.type.data,
        form.parent.data,
        form.active.data,
        form=form,
    ):
        flash(_("已保存。"))
        return redirect(url_for("admin.units"))
    return render_template("admin/unit_edit.html", form=form, unit=unit)


@bp.post("/units/import")
@admin_only
def import_units_view():
    form = forms.FileForm(prefix="imp")
    if not form.validate_on_submit():
        flash(_("请选择 CSV 或 Excel 文件。"))
        return redirect(url_for("admin.units"))
    upload = form.file.data
    try:  # an unreadable file or a refused unit is flashed; rows in error are listed
        done = run_action(
            lambda: import_units(read_table(upload.filename, upload.read(), UNIT_HEADERS))
        )
    except ImportError_ as exc:
        return render_template(
            "admin/import_errors.html", errors=exc.errors, back=url_for("admin.units")
        ), 400
    if not done:
        return redirect(url_for("admin.units"))
    created, updated = done.value
    flash(_("导入完成：新增 {c} 个，更新 {u} 个。", c=created, u=updated))
    return redirect(url_for("admin.units"))


@bp.route("/rater-groups", methods=["GET", "POST"])
@admin_only
def rater_groups():
    form = forms.RaterGroupForm()
    if form.validate_on_submit() and run_action(
        unit_domain.create_rater_group,
        form.code.data,
        form.name.data,
        form.name_en.data,
        form.internal.data,
        form.visible_to_unit.data,
        form=form,
    ):
        flash(_("已保存。"))
        return redirect(url_for("admin.rater_groups"))
    groups = db.session.scalars(select(RaterGroup).order_by(RaterGroup.id))
    return render_template("admin/rater_groups.html", form=form, groups=list(groups))


@bp.post("/rater-groups/<int:group_id>/visibility")
@admin_only
def rater_group_visibility(group_id: int):
    group = db.get_or_404(RaterGroup, group_id)
    unit_domain.set_group_visibility(group, not group.visible_to_unit)
    db.session.commit()
    flash(_("已保存。"))
    return redirect(url_for("admin.rater_groups"))
