"""The staff's own forms: signing in and changing one's password."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo

from evalsurvey.i18n import _l, at_most
from evalsurvey.web import CheckedForm


class LoginForm(FlaskForm):
    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请输入用户名。")), at_most(80)]
    )
    password = PasswordField(
        _l("密码"), validators=[DataRequired(_l("请输入密码。")), at_most(200)]
    )


class PasswordChangeForm(CheckedForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入密码。"))])
    new = PasswordField(
        _l("新密码（至少 8 位）"), validators=[DataRequired(_l("请输入密码。")), at_most(200)]
    )
    confirm = PasswordField(
        _l("再次输入新密码"),
        validators=[
            DataRequired(_l("请输入密码。")),
            EqualTo("new", message=_l("两次输入的新密码不一致。")),
        ],
    )
