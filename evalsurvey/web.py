"""What the views of every staff area (admin, auth) share: the form base whose text and date
fields are checked by the field, and a :class:`DomainError` shown by its field.

It imports no area, so each area imports it and none imports another.
"""

from __future__ import annotations

import flask_wtf
from wtforms import DateField, DateTimeField, StringField, TextAreaField

from evalsurvey.domain.checks import FIRST_YEAR, LAST_YEAR, YEAR_MESSAGE, text_problem
from evalsurvey.domain.errors import DomainError
from evalsurvey.i18n import _


class CheckedForm(flask_wtf.FlaskForm):
    """A staff form whose text fields refuse control characters (line breaks too, outside
    a text area) and whose dates stay inside the years an assessment can be about: the
    checks of :mod:`evalsurvey.domain.checks`, by the field, before any view reads them."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            message = None
            if isinstance(field, StringField) and isinstance(field.data, str):
                problem = text_problem(field.data, multiline=isinstance(field, TextAreaField))
                if problem is not None:
                    message = _(problem[0], **problem[1])
            elif isinstance(field, DateTimeField | DateField) and field.data is not None:
                if not FIRST_YEAR <= field.data.year <= LAST_YEAR:
                    message = _(YEAR_MESSAGE, first=FIRST_YEAR, last=LAST_YEAR)
            if message is not None:
                field.errors = [*field.errors, message]
                valid = False
        return valid


def show_error(form, error: DomainError) -> None:
    """Put a domain error next to its field (or on the form when it names none)."""
    target = getattr(form, error.field, None) if error.field else None
    text = error.text(_)
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, text]
    else:
        form.form_errors.append(text)
