"""API tokens on the staff pages: everyone who may hold one makes and revokes their own;
an admin also makes them for others and revokes any. A new token is shown once, on the
page that made it (never flashed: the session cookie would carry it)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField
from wtforms.validators import Optional

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import bp, confirm_page, readers
from evalsurvey.domain import api_tokens
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import _, _l, at_most, labels
from evalsurvey.models import ApiToken, Role, StaffUser
from evalsurvey.web import CheckedForm, run_action


class TokenForm(CheckedForm):
    name = StringField(_l("用途（例如对接的系统）"), validators=[Optional(), at_most(80)])
    scope = SelectField(_l("权限"), choices=[], default="read")
    owner = StringField(
        _l("用户名（管理员可为他人创建；留空为自己）"), validators=[Optional(), at_most(80)]
    )


def _form() -> TokenForm:
    form = TokenForm()
    choices = labels("token_scope")
    form.scope.choices = choices if current_user.role == Role.ADMIN else choices[:1]
    return form


def _visible() -> list[ApiToken]:
    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id.desc())
    if current_user.role != Role.ADMIN:
        query = query.where(ApiToken.user_id == current_user.id)
    return list(db.session.scalars(query))


def _create(form: TokenForm):
    owner = current_user
    username = (form.owner.data or "").strip()
    if username and username != current_user.username:
        if current_user.role != Role.ADMIN:
            abort(403)
        owner = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if owner is None:
            raise DomainError("找不到该用户。", "owner")
    return api_tokens.create_token(owner, form.scope.data, form.name.data, current_user.username)


@bp.route("/api-tokens", methods=["GET", "POST"])
@readers
def api_token_list():
    form = _form()
    secret = None
    if form.validate_on_submit():
        done = run_action(_create, form, form=form)
        if done:
            secret = done.value[1]
            form = _form()
            form.name.data = ""
    return render_template(
        "admin/api_tokens.html",
        form=form,
        tokens=_visible(),
        secret=secret,
        docs=url_for("api.docs"),
    ), (400 if form.errors else 200)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@readers
def api_token_revoke(token_id: int):
    """Revoking asks first: the other system stops at once and the token cannot come back."""
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id and current_user.role != Role.ADMIN:
        abort(403)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        if run_action(api_tokens.revoke_token, token):
            flash(_("已撤销令牌 {prefix}…", prefix=token.prefix))
        return redirect(url_for("admin.api_token_list"))
    return confirm_page(
        form,
        _("撤销令牌 {prefix}…", prefix=token.prefix),
        _(
            "撤销后，使用此令牌的系统立即无法再调用接口，令牌也不能恢复，只能另建新令牌。确定撤销吗？"
        ),
        _("确认撤销"),
        url_for("admin.api_token_list"),
    )
