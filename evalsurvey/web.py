"""What the views of every staff area (admin, auth) share: the form base whose text and date
fields are checked by the field, a :class:`DomainError` shown by its field, and
:func:`run_action`, the one way a view runs a domain action in a transaction.

It imports no area, so each area imports it and none imports another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask_wtf
from flask import flash
from wtforms import DateField, DateTimeField, StringField, TextAreaField

from evalsurvey.domain.checks import FIRST_YEAR, LAST_YEAR, YEAR_MESSAGE, text_problem
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
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


@dataclass(frozen=True)
class Outcome:
    """What :func:`run_action` did: true when the action's writes were committed."""

    value: Any = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is None

    @property
    def message(self) -> str:
        """The refusal in the reader's language ("" after success)."""
        return self.error.text(_) if self.error is not None else ""


def run_action(
    action: Callable[..., Any], /, *args: Any, form=None, show: bool = True, **kwargs: Any
) -> Outcome:
    """Run one domain action as one transaction: commit when it returns, roll back when
    it raises.

    A :class:`DomainError` (the action refused, or a value no column can hold, found at
    the commit) is shown by its field on ``form``, or flashed when there is no form (a
    button's post answered with a redirect); ``show=False`` leaves the showing to the
    caller (``outcome.message``). Any other exception is raised again after the rollback
    (``abort()`` inside the action included), for the caller or the error pages.
    Several domain calls that must stand or fall together go in one function (a lambda).
    """
    try:
        value = action(*args, **kwargs)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if show and form is not None:
            show_error(form, exc)
        elif show:
            flash(exc.text(_))
        return Outcome(error=exc)
    except Exception:
        db.session.rollback()
        raise
    return Outcome(value)
