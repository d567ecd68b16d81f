"""The findings grid's form (admin/findings_bulk.py): a unit's whole scheme saved at once.

The form class is built at run time from the scheme's items (:func:`grid_form`): a subform
per item (value, note, reason), posted as ``el-<code>-value`` and so on. The evidence files
keep one name, ``evidence`` (the only name a file may be posted under, errors.FILE_FIELDS),
each paired with its item by the hidden ``evidence_for`` before it. The save button clicked
posts ``at``, the section the page comes back to. The rules of a finding (values, reasons
for changes, files) are the domain's: its problems are put by their item and field.
"""

from __future__ import annotations

import re
from typing import ClassVar

from werkzeug.datastructures import FileStorage
from wtforms import (
    FormField,
    MultipleFileField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)

from evalsurvey.i18n import _l, at_most
from evalsurvey.web import CheckedForm

ROW = "el-"  # a row's name: the item code after it (a code may be any text; no clash)
SECTION = re.compile(r"sec-(\d{1,3}|extras)")
FIELDS = ("value", "note", "reason", "evidence")


def section(text: object) -> str:
    """A section's anchor as the pages name it (``sec-2``, ``sec-extras``), else ""."""
    return text if isinstance(text, str) and SECTION.fullmatch(text) else ""


def _posted(value):
    """What was typed, unchanged (the domain compares it with what is stored); "" when the
    field was not posted."""
    return "" if value is None else value


class FindingRowForm(CheckedForm):
    """One item's row of the grid."""

    class Meta:
        csrf = False  # the grid's own token covers its rows

    value = StringField(_l("取值"), validators=[at_most(200)], filters=[_posted])
    note = TextAreaField(_l("情况说明"), validators=[at_most(2000)], filters=[_posted])
    reason = StringField(_l("修改原因（修改时必填）"), validators=[at_most(500)], filters=[_posted])


class FindingsGridForm(CheckedForm):
    """The grid of a scheme's items (``CODES``, a row each: see :func:`grid_form`)."""

    CODES: ClassVar[tuple[str, ...]] = ()
    at = StringField(filters=[section])
    evidence = MultipleFileField()  # every file part, the empty ones too: they pair by place
    evidence_for = SelectMultipleField(choices=[], validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.file_errors: dict[str, list[str]] = {}

    def row(self, code: str) -> FindingRowForm:
        return self[ROW + code].form

    def validate_evidence_for(self, field) -> None:
        files = self.evidence.data or []
        if len(files) != len(field.data) or any(c not in self.CODES for c in field.data):
            raise ValidationError(_l("上传的文件与要素对不上，请重新选择文件后保存。"))

    def unread(self) -> list[str]:
        """The items whose value was not received: past the body's cap reading stopped
        (files of several times the limit together)."""
        return [code for code in self.CODES if not self.row(code).value.raw_data]

    def uploads(self) -> dict[str, FileStorage]:
        """The files chosen, by item (after :meth:`validate`)."""
        pairs = zip(self.evidence_for.data, self.evidence.data or [], strict=False)
        return {code: f for code, f in pairs if isinstance(f, FileStorage) and f.filename}

    def add_problem(self, code: str, field: str | None, message: str) -> None:
        """A problem by its item and field (an unknown field: the value's)."""
        if field == "evidence":
            self.file_errors.setdefault(code, []).append(message)
            return
        target = getattr(self.row(code), field if field in FIELDS else "value")
        target.errors = [*target.errors, message]

    def problems(self) -> dict[str, dict[str, list[str]]]:
        """Every item's problems by field, in the scheme's order."""
        out: dict[str, dict[str, list[str]]] = {}
        for code in self.CODES:
            row = self.row(code)
            fields = {name: list(getattr(row, name).errors) for name in FIELDS[:3]}
            fields["evidence"] = self.file_errors.get(code, [])
            fields = {name: messages for name, messages in fields.items() if messages}
            if fields:
                out[code] = fields
        return out


def grid_form(codes: list[str], stored: dict) -> FindingsGridForm:
    """The grid's form for these item codes, showing the findings ``stored`` (by code) until
    something is posted."""
    rows = {ROW + code: FormField(FindingRowForm) for code in codes}
    form_class = type("UnitFindingsForm", (FindingsGridForm,), {**rows, "CODES": tuple(codes)})
    data = {
        ROW + code: {"value": f.value or "", "note": f.note or ""}
        for code, f in stored.items()
        if code in form_class.CODES
    }
    return form_class(data=data)
