"""Login and logout."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from evalsurvey import ratelimit
from evalsurvey.auth.forms import LoginForm, PasswordChangeForm
from evalsurvey.domain import signin, staff
from evalsurvey.extensions import db, login_manager
from evalsurvey.i18n import _
from evalsurvey.models import StaffUser
from evalsurvey.web import run_action

bp = Blueprint("auth", __name__, url_prefix="/auth")
# hashed like every password (same method and cost), matched by nothing anyone types
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


@login_manager.user_loader
def load_user(session_id: str) -> StaffUser | None:
    """The user of a session id ``"<id>:<token>"``; a revoked token finds nobody."""
    user_id, _sep, token = session_id.partition(":")
    if not user_id.isdigit() or len(user_id) > 12 or not token:
        return None
    user = db.session.get(StaffUser, int(user_id))
    if user is None or not hmac.compare_digest(user.session_token, token):
        return None
    return user


def safe_next(target: str) -> str:
    """Only a same-site relative path, with no control characters: no open redirect."""
    if (
        not target.startswith("/")
        or target.startswith("//")
        or target.startswith("/\\")
        or any(ord(c) < 32 or c == "\\" for c in target)
        or urlsplit(target).netloc
    ):
        return url_for("admin.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    error = ""
    if form.validate_on_submit():
        username = form.username.data
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        # a browser this account signed in from before skips the wait: an attack on the
        # account slows the attacker, never its owner (until that browser fails too often)
        device = ratelimit.known_device(user.id) if user is not None else None
        if device is None or not ratelimit.device_trusted(device):
            wait = ratelimit.signin_wait(username)
            if wait:
                # counted for the owner and the admin, alike for every name typed
                ratelimit.signin_refused(username)
                message = _("登录失败次数过多，请 {seconds} 秒后再试。", seconds=wait)
                resp = current_app.make_response(
                    (render_template("auth/login.html", form=form, error=message), 429)
                )
                resp.headers["Retry-After"] = str(wait)
                return resp
        # the same work for an unknown name as for a known one: no timing tells them apart
        hashed = user.password_hash if user is not None else _DUMMY_HASH
        matches = check_password_hash(hashed, form.password.data)
        # the attempts refused meanwhile, kept in the database with this one
        refused = ratelimit.take_refused(username)
        if user is None or not user.active or not matches:
            ratelimit.signin_failed(username, device)
            if user is not None:
                signin.record_refused(user, *refused)
                signin.record_failure(user, ratelimit.signin_network())
                db.session.commit()
            error = _("用户名或密码不正确。")
        else:
            ratelimit.signin_succeeded(device)
            signin.record_refused(user, *refused)
            failures = signin.take_unseen(user)
            db.session.commit()
            login_user(user)
            session.pop("csrf_token", None)  # a token seen before sign-in is not reused after
            if failures.refused:
                flash(
                    _(
                        "自您上次登录以来：密码错误 {count} 次；登录被放慢期间另有 {refused} 次"
                        "尝试被拒绝（未核对密码）。",
                        count=failures.failed,
                        refused=failures.refused,
                    )
                )
            elif failures:
                flash(_("自您上次登录以来，密码错误的登录：{count} 次。", count=failures.failed))
            resp = redirect(safe_next(request.args.get("next", "")))
            return ratelimit.remember_device(resp, user.id)
    return render_template("auth/login.html", form=form, error=error)


@bp.post("/logout")
def logout():
    """Sign out here and everywhere: the session token changes, so a copied cookie dies."""
    if current_user.is_authenticated:
        staff.sign_out_everywhere(current_user)
        db.session.commit()
    logout_user()
    flash(_("已退出登录。"))
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit() and run_action(
        staff.change_own_password,
        current_user,
        form.current.data,
        form.new.data,
        form.confirm.data,
        form=form,
    ):
        login_user(current_user)  # this session continues with the new token
        flash(_("密码已修改，其他设备上的登录已退出。"))
        return redirect(url_for("admin.dashboard"))
    return render_template("auth/password.html", form=form)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
