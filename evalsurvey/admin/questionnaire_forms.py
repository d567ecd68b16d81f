"""The questionnaire pages' posts, one form class each: a new questionnaire, and the
builder's titles, item, move, remove and copy (admin/questionnaires.py); and the panel
scoring sheet made from a scheme (admin/schemes.py).

An action is the clicked button's own name and value (``action``), never a hidden field,
which would be posted with every button and win (remove, move and preview once saved).
:class:`ClickedButton` reads it; :func:`builder_form` picks the form of the action clicked.
The rules of a questionnaire itself (codes, options, points) are the domain's
(:mod:`evalsurvey.domain.collecting.questionnaires`); the forms check what a person should
see by the field.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional
from wtforms.widgets import HiddenInput

from evalsurvey.csvformat import RESERVED
from evalsurvey.domain.checks import DB_INT_MAX
from evalsurvey.domain.collecting import questionnaires as qdomain
from evalsurvey.domain.units import CODE_RE
from evalsurvey.extensions import db
from evalsurvey.i18n import LABELS, _, _l, at_most
from evalsurvey.models import ItemType, Questionnaire
from evalsurvey.web import CheckedForm


def _strip(value):
    """Text as typed without the spaces around it; a field not posted is empty."""
    return "" if value is None else value.strip() if isinstance(value, str) else value


STALE = _l("页面已过期，请刷新后重试。")
NO_ITEM = _l("没有这道题。")
NO_CODE = _l("请填写编码。")
NO_TITLE = _l("请填写标题。")
OTHER = _l("请选择另一份问卷或另一个版本。")


class ClickedButton(Field):
    """The value of the submit button clicked (the buttons share the name). A browser posts
    the clicked one only; several different values (a page that posted a hidden action as
    well) leave no action rather than a guess."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0] if len(set(valuelist)) == 1 else None


class IdField(IntegerField):
    """A number the page posts in a hidden field (an item's place, a questionnaire's id):
    what is no number is None, refused in words by the field's validators."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


class ActionForm(CheckedForm):
    """A post made by one of the buttons named ``action``; ``ACTIONS`` are this form's."""

    ACTIONS: ClassVar[tuple[str, ...]] = ()
    action = ClickedButton()

    def validate_action(self, field) -> None:
        if field.data not in self.ACTIONS:
            raise ValidationError(STALE)

    def messages(self) -> list[str]:
        """Every problem of the post in the reader's language (the form's, then the fields')."""
        return [*self.form_errors, *(str(e) for f in self for e in f.errors)]


class NewQuestionnaireForm(ActionForm):
    """The questionnaire list's "new": a draft with one item to start from."""

    ACTIONS = ("new",)
    code = StringField(
        _l("问卷编码"), validators=[DataRequired(NO_CODE), at_most(40)], filters=[_strip]
    )
    title = StringField(
        _l("标题"), validators=[DataRequired(NO_TITLE), at_most(200)], filters=[_strip]
    )


# -- the builder -----------------------------------------------------------------------------


class TextsForm(ActionForm):
    ACTIONS = ("texts",)
    title = StringField(
        _l("标题"), validators=[DataRequired(NO_TITLE), at_most(200)], filters=[_strip]
    )
    title_en = StringField(_l("英文标题"), validators=[at_most(200)], filters=[_strip])
    intro = TextAreaField(_l("说明"), filters=[_strip])
    intro_en = TextAreaField(_l("英文说明"), filters=[_strip])


def _type_choices() -> list[SelectChoice]:
    return [SelectChoice(code, _l(text)) for code, text in LABELS["item_type"].items()]


class ItemForm(ActionForm):
    """One item's form: saved, or previewed as the phone shows it without saving. No
    ``index``: a new item, added at the end."""

    ACTIONS = ("save", "preview")
    index = IdField(validators=[Optional(), NumberRange(0, DB_INT_MAX, message=NO_ITEM)])
    code = StringField(
        _l("题目编码"),
        validators=[DataRequired(_l("请填写题目编码。")), at_most(40)],
        filters=[_strip],
    )
    type = SelectField(_l("题型"), choices=_type_choices(), validate_choice=False)
    text = TextAreaField(
        _l("题目（中文）"), validators=[DataRequired(_l("请填写题目。"))], filters=[_strip]
    )
    text_en = TextAreaField(_l("题目（英文）"), filters=[_strip])
    required = BooleanField(_l("必答"))
    max_points = StringField(_l("满分（评分题）"), validators=[at_most(20)], filters=[_strip])
    options = TextAreaField(_l("选项（单选、多选题；每行 编码|中文|英文）"), filters=[_strip])

    def validate_type(self, field) -> None:
        if field.data not in LABELS["item_type"]:
            raise ValidationError(_l("请选择题型。"))

    # The item's rules by the field, in the field's own words, before the domain (whose
    # import messages name the JSON keys, "max_points") sees the item.

    def validate_code(self, field) -> None:
        if field.data and not CODE_RE.match(field.data):
            raise ValidationError(_l("题目编码只能包含字母、数字、点、下划线和连字符。"))
        if field.data in RESERVED:
            raise ValidationError(_("编码 {code} 是保留的列名，请换一个。", code=field.data))

    def validate_max_points(self, field) -> None:
        if self.type.data != ItemType.POINTS:
            return
        if not field.data:
            raise ValidationError(_l("请填写评分题的满分。"))
        try:
            top = float(field.data)
        except ValueError:
            top = math.nan
        if not math.isfinite(top):
            raise ValidationError(_l("满分必须是数字，例如 10。"))
        if top <= 0:
            raise ValidationError(_l("请填写大于 0 的满分。"))

    def validate_options(self, field) -> None:
        if self.type.data not in (ItemType.SINGLE, ItemType.MULTIPLE):
            return
        options = qdomain.parse_options(field.data or "")
        if len(options) < 2:
            raise ValidationError(_l("选项至少需要两项，每行一项：编码|中文|英文。"))
        codes = [o["code"] for o in options]
        for n, o in enumerate(options, start=1):
            if not o["code"] or not o["text"]:
                raise ValidationError(_("第 {n} 个选项要有编码和中文：编码|中文|英文。", n=n))
            if ";" in o["code"]:
                raise ValidationError(_l("选项编码不能包含“;”。"))
            if codes.count(o["code"]) > 1:
                raise ValidationError(_("选项编码“{code}”重复。", code=o["code"]))

    def item(self) -> dict[str, Any]:
        """The item in the questionnaire JSON's terms (the domain checks the rest)."""
        item = {
            "code": self.code.data,
            "text": self.text.data,
            "text_en": self.text_en.data or "",
            "type": self.type.data,
            "required": self.required.data,
        }
        if self.type.data == ItemType.POINTS:
            item["max_points"] = self.max_points.data
        if self.type.data in (ItemType.SINGLE, ItemType.MULTIPLE):
            item["options"] = qdomain.parse_options(self.options.data or "")
        return item

    @classmethod
    def of(cls, item=None, number: int = 1) -> ItemForm:
        """The form showing a stored item, or (None) the blank one for item ``number``."""
        if item is None:
            data = {"code": f"q{number}", "type": ItemType.SATISFACTION5, "required": True}
        else:
            data = {
                "index": number - 1,
                "code": item.code,
                "type": item.type,
                "text": item.text,
                "text_en": item.text_en,
                "required": item.required,
                "max_points": "" if item.max_points is None else f"{item.max_points:g}",
                "options": qdomain.options_text(item.options),
            }
        return cls(formdata=None, data=data)


class MoveForm(ActionForm):
    ACTIONS = ("up", "down")
    index = IdField(
        validators=[InputRequired(NO_ITEM), NumberRange(0, DB_INT_MAX, message=NO_ITEM)]
    )

    @property
    def step(self) -> int:
        return -1 if self.action.data == "up" else 1


class RemoveForm(MoveForm):
    ACTIONS = ("remove",)
    sure = BooleanField(_l("确认删除"))

    def validate_sure(self, field) -> None:
        if not field.data:  # removing is not one click
            raise ValidationError(_l("删除前请勾选“确认删除”。"))


class CopyForm(ActionForm):
    """Items copied from another questionnaire or version (``source``), by their codes."""

    ACTIONS = ("copy",)
    source = IdField(
        _l("来源"), validators=[InputRequired(OTHER), NumberRange(1, DB_INT_MAX, OTHER)]
    )
    codes = SelectMultipleField(choices=[], validate_choice=False)
    found: Questionnaire | None = None

    def validate_source(self, field) -> None:
        if field.errors:  # no number, or past any id: looked up, it would stop the page
            return
        self.found = db.session.get(Questionnaire, field.data)
        if self.found is None:
            raise ValidationError(OTHER)


BUILDER_FORMS: tuple[type[ActionForm], ...] = (TextsForm, ItemForm, MoveForm, RemoveForm, CopyForm)


def builder_form() -> ActionForm:
    """The posted builder form of the button clicked (an :class:`ActionForm` that refuses
    the post as stale when the button is none of the builder's, or several)."""
    action = ActionForm().action.data
    for form_class in BUILDER_FORMS:
        if action in form_class.ACTIONS:
            return form_class()
    return ActionForm()


# -- a scheme's panel scoring sheet ---------------------------------------------------------


class PanelSheetForm(CheckedForm):
    """A draft panel scoring questionnaire made from a scheme: an item per first-level
    indicator or per element."""

    per = SelectField(
        _l("专家评分表的题目"),
        choices=[
            SelectChoice("indicator", _l("按一级指标")),
            SelectChoice("element", _l("按考核要素")),
        ],
        validate_choice=False,
    )

    def validate_per(self, field) -> None:
        if field.data not in ("indicator", "element"):
            raise ValidationError(_l("请选择按一级指标或按考核要素。"))
