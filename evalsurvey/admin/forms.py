"""Staff forms; each owns the checks that need the database."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from evalsurvey.extensions import db
from evalsurvey.models import Channel, Cycle, RaterGroup, ResponseStatus, Role, StaffUser, Unit
from evalsurvey.models.cycles import PERIODS
from evalsurvey.models.units import UNIT_TYPES

CODE = Regexp(r"^[A-Za-z0-9_.-]+$", message="编码只能包含字母、数字、点、下划线和连字符。")


class UnitForm(FlaskForm):
    code = StringField("编码", validators=[DataRequired("请填写编码。"), Length(max=40), CODE])
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=200)])
    type = SelectField("类型", choices=[SelectChoice(k, v[0]) for k, v in UNIT_TYPES.items()])
    parent = StringField("上级单位编码", validators=[Optional(), Length(max=40)])
    active = BooleanField("启用", default=True)

    def __init__(self, *args, unit: Unit | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._unit = unit

    def validate_code(self, field) -> None:
        other = db.session.scalar(select(Unit).where(Unit.code == field.data))
        if other is not None and other is not self._unit:
            raise ValidationError("该编码已被使用。")

    def validate_parent(self, field) -> None:
        if not field.data:
            return
        parent = db.session.scalar(select(Unit).where(Unit.code == field.data))
        if parent is None:
            raise ValidationError("找不到该上级单位。")
        if self._unit is not None and parent.id in self._unit.subtree_ids():
            raise ValidationError("上级单位不能是本单位或其下级。")


class FileForm(FlaskForm):
    file = FileField("文件", validators=[FileRequired("请选择文件。")])


class QuestionnaireJSONForm(FlaskForm):
    definition = TextAreaField("问卷定义（JSON）", validators=[DataRequired("请填写问卷定义。")])


class CycleForm(FlaskForm):
    code = StringField("编码", validators=[DataRequired("请填写编码。"), Length(max=40), CODE])
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=200)])
    period = SelectField("周期类型", choices=[SelectChoice(p, p) for p in PERIODS])
    opens_at = DateTimeLocalField("开始时间", validators=[Optional()])
    closes_at = DateTimeLocalField("截止时间", validators=[Optional()])

    def validate_code(self, field) -> None:
        if db.session.scalar(select(Cycle).where(Cycle.code == field.data)) is not None:
            raise ValidationError("该编码已被使用。")

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError("截止时间必须晚于开始时间。")


class CycleEditForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=200)])
    opens_at = DateTimeLocalField("开始时间", validators=[Optional()])
    closes_at = DateTimeLocalField("截止时间", validators=[Optional()])

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError("截止时间必须晚于开始时间。")


class CycleStatusForm(FlaskForm):
    status = SelectField("状态", choices=[])


class RaterGroupForm(FlaskForm):
    code = StringField("编码", validators=[DataRequired("请填写编码。"), Length(max=40), CODE])
    name = StringField("名称", validators=[DataRequired("请填写名称。"), Length(max=100)])
    name_en = StringField("英文名称", validators=[Optional(), Length(max=100)])
    internal = BooleanField("内部评价")

    def validate_code(self, field) -> None:
        if db.session.scalar(select(RaterGroup).where(RaterGroup.code == field.data)):
            raise ValidationError("该编码已被使用。")


class LinkForm(FlaskForm):
    questionnaire = SelectField("问卷（已发布版本）", coerce=int, choices=[])
    rater_group = SelectField("评价群体", coerce=int, choices=[])
    unit = StringField("单位编码", validators=[Optional()])
    unit_type = SelectField(
        "或：该类型的全部单位",
        choices=[SelectChoice("", "—")] + [SelectChoice(k, v[0]) for k, v in UNIT_TYPES.items()],
    )
    mode = SelectField(
        "方式", choices=[SelectChoice("public", "公开二维码"), SelectChoice("invite", "邀请制")]
    )
    record_rater = BooleanField("记录评委代号（专家评审，非匿名）")

    def validate_unit(self, field) -> None:
        if not field.data and not self.unit_type.data:
            raise ValidationError("请填写单位编码或选择单位类型。")
        if field.data and db.session.scalar(select(Unit).where(Unit.code == field.data)) is None:
            raise ValidationError("找不到该单位。")


class InvitationForm(FlaskForm):
    count = IntegerField("数量（不填名单时）", validators=[Optional(), NumberRange(1, 5000)])
    people = TextAreaField(
        "名单：每行 姓名,联系方式,评委代号,所在单位编码",
        validators=[Optional(), Length(max=200_000)],
    )

    def validate_count(self, field) -> None:
        if not field.data and not (self.people.data or "").strip():
            raise ValidationError("请填写数量或名单。")


class StaffForm(FlaskForm):
    username = StringField(
        "用户名", validators=[DataRequired("请输入用户名。"), Length(max=80), CODE]
    )
    name = StringField("姓名", validators=[Optional(), Length(max=120)])
    role = SelectField("角色", choices=[SelectChoice(r.value, r.value) for r in Role])
    unit = StringField("所属单位编码（单位联络员必填）", validators=[Optional(), Length(max=40)])
    password = PasswordField(
        "初始密码（至少 8 位）",
        validators=[
            DataRequired("请输入密码。"),
            Length(min=8, max=200, message="密码至少 8 位。"),
        ],
    )

    def validate_username(self, field) -> None:
        if db.session.scalar(select(StaffUser).where(StaffUser.username == field.data)):
            raise ValidationError("该用户名已被使用。")

    def validate_unit(self, field) -> None:
        if db.session.scalar(select(Unit).where(Unit.code == field.data)) is None:
            raise ValidationError("找不到该单位。")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # Optional() ends the unit field's own checks when it is empty, so say it here
        if self.role.data == Role.UNIT_CONTACT and not self.unit.data:
            self.unit.errors = [*self.unit.errors, "单位联络员必须指定所属单位。"]
            ok = False
        return ok


class ResponseStatusForm(FlaskForm):
    status = SelectField("状态", choices=[SelectChoice(s.value, s.value) for s in ResponseStatus])


CHANNELS = [c.value for c in Channel]
