"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from evalsurvey.extensions import db, login_manager
from evalsurvey.i18n import _
from evalsurvey.models import StaffUser

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。")])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。")])


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    try:
        return db.session.get(StaffUser, int(user_id))
    except ValueError:
        return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    error = ""
    if form.validate_on_submit():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == form.username.data))
        if user is None or not user.active or not user.check_password(form.password.data):
            error = _("用户名或密码不正确。")
        else:
            login_user(user)
            target = request.args.get("next", "")
            # only same-site relative targets: no open redirect
            if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
                target = url_for("admin.dashboard")
            return redirect(target)
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("已退出登录。"))
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
