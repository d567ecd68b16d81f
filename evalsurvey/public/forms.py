"""The questionnaire form.

The fixed parts (CSRF token, signed ticket, comment) are WTForms fields; the items
are rendered from the questionnaire version and parsed by
:func:`evalsurvey.domain.responses.check_answers`, the same rule the CSV import uses.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Optional

from evalsurvey.domain.responses import COMMENT_MAX
from evalsurvey.i18n import at_most


class SurveyForm(FlaskForm):
    ticket = HiddenField()
    comment = TextAreaField(validators=[Optional(), at_most(COMMENT_MAX)])
