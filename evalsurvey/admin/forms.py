"""Staff forms; each owns the checks a person should see by the field.

The rules themselves (codes, uniqueness, parents, passwords) live in
:mod:`evalsurvey.domain`; a :class:`~evalsurvey.domain.errors.DomainError` is shown by
its field through :func:`evalsurvey.web.show_error`; the form base, :class:`CheckedForm`,
is :mod:`evalsurvey.web`'s, shared with the staff's own forms in :mod:`evalsurvey.auth.forms`.
"""

from __future__ import annotations

import math
import unicodedata

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, NumberRange, Optional

from evalsurvey.domain.assessment.evidence import max_bytes
from evalsurvey.domain.checks import DB_INT_MAX
from evalsurvey.domain.cycles import MIN_N_LIMIT
from evalsurvey.i18n import LABELS, N_, _, _l, at_most, label, pick
from evalsurvey.models import ResponseStatus, Role
from evalsurvey.models.cycles import PERIODS
from evalsurvey.models.units import UNIT_TYPES
from evalsurvey.uploads import megabytes
from evalsurvey.web import CheckedForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _choices(kind: str, codes=None) -> list[SelectChoice]:
    codes = list(codes) if codes is not None else list(LABELS[kind])
    return [SelectChoice(code, _l(LABELS[kind][code])) for code in codes]


class UnitForm(CheckedForm):
    code = StringField(_l("编码"), validators=[DataRequired(_l("请填写编码。")), at_most(40)])
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), at_most(200)])
    type = SelectField(_l("类型"), choices=_choices("unit_type", UNIT_TYPES))
    parent = StringField(_l("上级单位编码"), validators=[Optional(), at_most(40)])
    active = BooleanField(_l("启用"), default=True)


class FileForm(CheckedForm):
    file = FileField(_l("文件"), validators=[FileRequired(_l("请选择文件。"))])


class QuestionnaireJSONForm(CheckedForm):
    definition = TextAreaField(
        _l("问卷定义（JSON）"),
        validators=[DataRequired(_l("请填写问卷定义。")), at_most(60_000)],
    )


class CycleForm(CheckedForm):
    code = StringField(_l("编码"), validators=[DataRequired(_l("请填写编码。")), at_most(40)])
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), at_most(200)])
    period = SelectField(_l("周期类型"), choices=_choices("period", PERIODS))
    opens_at = DateTimeLocalField(_l("开始时间"), validators=[Optional()])
    closes_at = DateTimeLocalField(_l("截止时间"), validators=[Optional()])


class CycleEditForm(CheckedForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), at_most(200)])
    opens_at = DateTimeLocalField(_l("开始时间"), validators=[Optional()])
    closes_at = DateTimeLocalField(_l("截止时间"), validators=[Optional()])


class ConfirmForm(CheckedForm):
    """A confirmation step: the page itself is the "are you sure"."""


class UnitTypeForm(CheckedForm):
    """A post about one unit type of a cycle's result (weights, recompute, grade rules): the
    type it is about and, in the grade rules editor, the button pressed. The weights and the
    rules' rows are read by their own editors (:class:`~evalsurvey.admin.composite.WeightsForm`,
    :mod:`evalsurvey.admin.grade_rules`), whose rows come and go on the page."""

    type = SelectField(choices=_choices("unit_type", UNIT_TYPES), validate_choice=False)
    action = StringField(default="save", filters=[_strip], validators=[Optional(), at_most(40)])

    def validate_type(self, field):
        if field.data not in UNIT_TYPES:
            raise ValidationError(_("未知的单位类型。"))


class ReasonForm(CheckedForm):
    reason = TextAreaField(
        _l("原因（记入操作日志）"),
        validators=[DataRequired(_l("请填写原因。")), at_most(500)],
    )


class RaterGroupForm(CheckedForm):
    code = StringField(_l("编码"), validators=[DataRequired(_l("请填写编码。")), at_most(40)])
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), at_most(100)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), at_most(100)])
    internal = BooleanField(_l("内部评价"))
    visible_to_unit = BooleanField(_l("被评单位可查看该群体的答卷和意见"))


class LinkForm(CheckedForm):
    questionnaire = SelectField(_l("问卷（已发布版本）"), coerce=int, choices=[])
    rater_group = SelectField(_l("评价群体"), coerce=int, choices=[])
    # no Optional(): a blank (or all-space) unit must still meet validate_unit
    unit = StringField(_l("单位编码"), validators=[at_most(40)], filters=[_strip])
    unit_type = SelectField(
        _l("或：该类型的全部单位"),
        choices=[SelectChoice("", "—"), *_choices("unit_type", UNIT_TYPES)],
    )
    mode = SelectField(_l("方式"), choices=_choices("link_mode"))
    record_rater = BooleanField(_l("记录评委代号（专家评审，非匿名）"))

    def validate_unit(self, field) -> None:
        from evalsurvey.domain.queries import get_by_code
        from evalsurvey.models import Unit

        if not field.data and not self.unit_type.data:
            raise ValidationError(_l("请填写单位编码或选择单位类型。"))
        if field.data and get_by_code(Unit, field.data) is None:
            raise ValidationError(_l("找不到该单位。"))


class InvitationForm(CheckedForm):
    count = IntegerField(
        _l("数量（不填名单时）"),
        validators=[Optional(), NumberRange(1, 5000, message=_l("数量应在 1 到 5000 之间。"))],
    )
    people = TextAreaField(
        _l("名单：每行 姓名,联系方式,评委代号,所在单位编码"),
        validators=[Optional(), at_most(60_000)],
    )
    people_file = FileField(
        _l("或上传名单（Excel 或 CSV，表头：姓名、联系方式、评委代号、所在单位编码）")
    )

    def validate_count(self, field) -> None:
        has_file = self.people_file.data is not None and getattr(
            self.people_file.data, "filename", ""
        )
        if not field.data and not (self.people.data or "").strip() and not has_file:
            raise ValidationError(_l("请填写数量或名单。"))


class StaffForm(CheckedForm):
    username = StringField(
        _l("用户名"), validators=[DataRequired(_l("请输入用户名。")), at_most(80)]
    )
    name = StringField(_l("姓名"), validators=[Optional(), at_most(120)])
    role = SelectField(_l("角色"), choices=_choices("role"), default=Role.VIEWER.value)
    unit = StringField(_l("所属单位编码（单位联络员必填）"), validators=[Optional(), at_most(40)])
    password = PasswordField(
        _l("初始密码（至少 8 位）"),
        validators=[DataRequired(_l("请输入密码。")), at_most(200)],
    )


class StaffRoleForm(CheckedForm):
    role = SelectField(_l("角色"), choices=_choices("role"))
    unit = StringField(_l("所属单位编码（单位联络员必填）"), validators=[Optional(), at_most(40)])
    submit = SubmitField(_l("保存角色"))


class PasswordResetForm(CheckedForm):
    password = PasswordField(
        _l("新密码（至少 8 位）"),
        validators=[DataRequired(_l("请输入密码。")), at_most(200)],
    )
    submit = SubmitField(_l("重设密码"))


class ResponseStatusForm(CheckedForm):
    status = SelectField(_l("状态"), choices=_choices("response_status", list(ResponseStatus)))


class CycleSchemeForm(CheckedForm):
    unit_type = SelectField(_l("单位类型"), choices=[])
    scheme = SelectField(_l("考核方案（已发布版本）"), coerce=int, choices=[])


EVIDENCE_LABEL = N_("佐证材料（可选：PDF、图片、DOCX、XLSX，{mb} MB 以内）")


class EvidenceForm(CheckedForm):
    """A form with an optional ``evidence`` file, labelled with the configured limit
    (``EVIDENCE_MAX_BYTES``). Templates put the file field last: the text comes first in
    the body, so it is kept even when a file is far too large (evalsurvey/uploads.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence.label.text = _(EVIDENCE_LABEL, mb=megabytes(max_bytes()))


class FindingForm(EvidenceForm):
    element = SelectField(_l("考核要素"), choices=[])
    value = StringField(_l("取值"), validators=[at_most(200)])
    note = TextAreaField(_l("情况说明"), validators=[Optional(), at_most(2000)])
    reason = StringField(
        _l("修改原因（修改已有记录时必填）"), validators=[Optional(), at_most(500)]
    )
    evidence = FileField()


class AdjustmentForm(EvidenceForm):
    """A department's bonus, penalty or veto for a unit. The choices are set by the view
    (the units it may propose for; the items of each unit type's scheme) and checked there
    and by the domain, so a refusal is a sentence by its field."""

    unit = SelectField(_l("单位"), choices=[], validate_choice=False)
    item = SelectField(_l("加分、减分或否决项"), choices=[], validate_choice=False)
    value = StringField(_l("取值"), validators=[at_most(200)])
    reason = TextAreaField(_l("原因"), validators=[at_most(2000)])
    evidence = FileField()


class LedgerForm(EvidenceForm):
    status = SelectField(_l("状态改为"), choices=[])
    note = TextAreaField(_l("情况说明"), validators=[Optional(), at_most(2000)])
    owner = StringField(_l("责任人"), validators=[Optional(), at_most(120)])
    due_on = DateField(_l("整改期限"), validators=[Optional()])
    evidence = FileField()


class LedgerBulkForm(CheckedForm):
    """The ledger page's action on the ticked items (the button says which)."""

    action = StringField(validators=[at_most(20)])
    items = SelectMultipleField(validate_choice=False)

    owner = StringField(_l("责任人"), validators=[Optional(), at_most(120)])
    due_on = DateField(_l("整改期限"), validators=[Optional()])
    note = TextAreaField(_l("情况说明（销号时填写）"), validators=[Optional(), at_most(2000)])

    def validate_action(self, field) -> None:
        if field.data not in ("confirm", "assign", "close"):
            raise ValidationError(_l("请选择要执行的操作。"))

    def validate_items(self, field) -> None:
        if any(not (v.isdigit() and 1 <= int(v) <= DB_INT_MAX) for v in field.data or []):
            raise ValidationError(_l("所选整改项无效，请刷新页面后重新勾选。"))

    def ids(self) -> set[int]:
        return {int(v) for v in self.items.data or [] if v.isdigit()}


# The two-level review page's three posts (admin/review.py): one form each. The fields stay
# text here (control characters refused by CheckedForm): the domain says why a score or a
# note is refused, in the words the page shows beside it.
class ProposalForm(CheckedForm):
    """A lower-level body proposes a unit's score (the grade follows from the rules)."""

    unit = StringField()
    score = StringField()
    grade = StringField()
    note = StringField()


class DrawForm(CheckedForm):
    """The upper level draws the sample it re-reviews (rate, and a seed to repeat it)."""

    rate = StringField()
    seed = StringField()


class ReviewScoreForm(CheckedForm):
    """The upper level enters its reviewed score for a proposal."""

    unit = StringField()
    score = StringField()
    note = StringField()


class PublishForm(CheckedForm):
    """Publishing results (公示): the reason an admin gives to publish past what is stale or
    missing (the domain decides whether one is needed)."""

    reason = TextAreaField()


class ObjectionAnswerForm(CheckedForm):
    """The office's answer to one objection, published on the 公示 page."""

    objection = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=DB_INT_MAX)])
    answer = TextAreaField()


# The remaining button posts of the staff pages (issue 16): one form per action, read by the
# view; what only the domain can decide is still refused there, shown by the field.
class AdjustmentDecisionForm(CheckedForm):
    """The office's decision on a department's adjustment, on its confirmation page."""

    decision = TextAreaField(
        _l("审批意见（记入操作日志，提出部门可见）"),
        validators=[DataRequired(_l("请填写原因。")), at_most(2000)],
    )


class ApproveAdjustmentForm(AdjustmentDecisionForm):
    """Approving: the adjustment enters the unit's result."""


class RejectAdjustmentForm(AdjustmentDecisionForm):
    """Rejecting: the reason the department is told."""

    decision = TextAreaField(
        _l("驳回原因（记入操作日志，提出部门可见）"),
        validators=[DataRequired(_l("请填写驳回原因。")), at_most(2000)],
    )


class AdjustmentPickForm(CheckedForm):
    """A row's button naming an adjustment (from a page older than the confirmation step):
    the office is sent to that adjustment's confirmation page."""

    adjustment = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=DB_INT_MAX)])


def typed_weight(raw: str | None) -> float | None:
    """A weight as people type it: ``0.6``, ``60%`` or ``６０％`` (0.6: weights are
    normalised, so 60 and 0.6 alike weigh the same share); None when empty; NaN when it is
    no number."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        return None
    percent = text.endswith("%")
    try:
        value = float(text.removesuffix("%").strip()) / (100 if percent else 1)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def _finite_weight(form, field) -> None:
    """A rater group's weight: empty (equal weights), or a number not below 0."""
    value = typed_weight(field.data)
    if value is None:
        return
    if math.isnan(value):
        raise ValidationError(_("请填写数字。"))
    if value < 0:
        raise ValidationError(_("权重不能为负数。"))


class RecomputeForm(CheckedForm):
    """Recomputing a cycle's analysis: the method and one weight per rater group
    (``w_<code>``, added by :func:`recompute_form`); the unit type shown is kept."""

    type = StringField(validators=[Optional(), at_most(40)])
    method = SelectField(
        _l("计分方法（专家评审组）"), choices=[], default="adjusted", validate_choice=False
    )

    def weight_fields(self) -> list:
        return [f for f in self if f.name.startswith("w_")]

    def weights(self) -> dict[str, float] | None:
        """The typed weights by group code; None when all are empty (equal weights)."""
        out = {f.name.removeprefix("w_"): typed_weight(f.data) for f in self.weight_fields()}
        return {k: v for k, v in out.items() if v is not None} or None

    def validate_method(self, field) -> None:
        if field.data not in {c.value for c in field.choices}:
            raise ValidationError(_l("未知的计分方法。"))


def recompute_form(groups, methods, weights=None, **kwargs) -> RecomputeForm:
    """A :class:`RecomputeForm` with one weight field per rater group, labelled by its
    name (``weights``: the values shown on a fresh page)."""

    class Form(RecomputeForm):
        pass

    for g in groups:
        setattr(
            Form,
            f"w_{g.code}",
            StringField(
                pick(g.name, g.name_en),
                validators=[Optional(), at_most(40), _finite_weight],
                default=("" if (weights or {}).get(g.code) is None else f"{weights[g.code]:g}"),
            ),
        )
    form = Form(**kwargs)
    form.method.choices = [SelectChoice(m, label("method", m)) for m in methods]
    return form


class MarkSuspectsForm(CheckedForm):
    """Marking the latest run's suspect responses (of the unit type shown)."""

    type = StringField(validators=[Optional(), at_most(40)])


class ProposeItemsForm(CheckedForm):
    """Generating ledger items: from one unit type's deductions, or (``source=review``)
    from the public's bad reviews."""

    source = StringField(validators=[Optional(), at_most(20)])
    type = StringField(validators=[Optional(), at_most(40)])


class ResponseStatusBackForm(ResponseStatusForm):
    """A response's status from the list, and the list page to go back to."""

    back = StringField(validators=[Optional(), at_most(2000)])


class SuspectDecisionForm(CheckedForm):
    """The review queue: a decision and its reason, on the ticked responses (``ids``) or a
    whole group (the button ``group``)."""

    group = StringField(validators=[Optional(), at_most(200)])
    ids = SelectMultipleField(validate_choice=False)
    decision = SelectField(
        _l("复核结论"),
        choices=[
            SelectChoice("confirm", _l("确认可疑，剔除")),
            SelectChoice("clear", _l("恢复有效")),
        ],
        validate_choice=False,  # the domain says which are known, by the field
    )
    reason = StringField(_l("复核理由"), validators=[at_most(500)])


def _min_n(form, field) -> None:
    text = unicodedata.normalize("NFKC", field.data or "").strip()
    if text and not text.isdigit():
        raise ValidationError(_("请填写 1 到 {limit} 之间的整数。", limit=MIN_N_LIMIT))


class MinimumsForm(CheckedForm):
    """The cycle's minimum responses per rater group (``min_<code>``, added by
    :func:`minimums_form`; empty: the default)."""

    def minimums(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for f in self:
            if f.name.startswith("min_"):
                text = unicodedata.normalize("NFKC", f.data or "").strip()
                out[f.name.removeprefix("min_")] = int(text) if text else None
        return out


def minimums_form(groups, **kwargs) -> MinimumsForm:
    class Form(MinimumsForm):
        pass

    for g in groups:
        setattr(
            Form,
            f"min_{g.code}",
            StringField(pick(g.name, g.name_en), validators=[Optional(), at_most(20), _min_n]),
        )
    return Form(**kwargs)
