"""Staff accounts: create (viewer by default), role, reset password, deactivate."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evalsurvey import ratelimit
from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp
from evalsurvey.domain import signin
from evalsurvey.domain import staff as staff_domain
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import StaffUser
from evalsurvey.web import run_action


def _users() -> list[StaffUser]:
    return list(
        db.session.scalars(
            select(StaffUser).options(selectinload(StaffUser.unit)).order_by(StaffUser.username)
        )
    )


def _take_refused(users: list[StaffUser]) -> None:
    """Sign-in attempts refused while slowed, counted by the throttle, into the database
    before the failures are shown (the owner's sign-in takes them too)."""
    for user in users:
        signin.record_refused(user, *ratelimit.take_refused(user.username))
    db.session.commit()


@bp.route("/staff", methods=["GET", "POST"])
@admin_only
def staff():
    form = forms.StaffForm()
    if form.validate_on_submit():
        done = run_action(
            staff_domain.create_staff,
            form.username.data,
            form.password.data,
            form.role.data,
            form.unit.data,
            form.name.data,
            form=form,
        )
        if done:
            flash(_("已创建用户 {u}。", u=done.value.username))
            return redirect(url_for("admin.staff"))
    users = _users()
    _take_refused(users)
    failures = signin.recent_failures()
    return render_template("admin/staff.html", form=form, users=users, failures=failures), (
        400 if form.errors else 200
    )


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@admin_only
def staff_user(user_id: int):
    """Change a person's role and unit, or reset their password."""
    user = db.get_or_404(StaffUser, user_id)
    role_form = forms.StaffRoleForm(prefix="role", obj=user)
    reset_form = forms.PasswordResetForm(prefix="reset")
    if role_form.submit.data and role_form.validate_on_submit():
        if run_action(
            staff_domain.change_role, user, role_form.role.data, role_form.unit.data, form=role_form
        ):
            flash(_("已更新用户 {u}。", u=user.username))
            return redirect(url_for("admin.staff_user", user_id=user.id))
    elif reset_form.submit.data and reset_form.validate_on_submit():
        if run_action(staff_domain.set_password, user, reset_form.password.data, form=reset_form):
            flash(_("已为 {u} 设置新密码，其原有登录已全部退出。", u=user.username))
            return redirect(url_for("admin.staff_user", user_id=user.id))
    elif not role_form.is_submitted():
        role_form.unit.data = user.unit.code if user.unit else ""
    _take_refused([user])
    return render_template(
        "admin/staff_user.html",
        user=user,
        role_form=role_form,
        reset_form=reset_form,
        failures=signin.recent_failures().get(user.id),
        days=signin.RECENT_DAYS,
    )


@bp.post("/staff/<int:user_id>/active")
@admin_only
def toggle_staff(user_id: int):
    user = db.get_or_404(StaffUser, user_id)
    if run_action(staff_domain.set_active, user, not user.active, current_user):
        flash(_("已更新用户 {u}。", u=user.username))
    return redirect(url_for("admin.staff"))
