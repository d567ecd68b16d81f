"""The questionnaire form.

The fixed parts (signed ticket, comment) are WTForms fields; the items are rendered from
the questionnaire version and parsed by :func:`evalsurvey.domain.responses.check_answers`,
the same rule the CSV import uses. The CSRF token is checked once, by ``CSRFProtect``
before the view runs (a failure re-renders the page with the answers kept), so the form
does not check it again; the template writes it with ``csrf_token()``.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Optional

from evalsurvey.domain.responses import COMMENT_MAX
from evalsurvey.i18n import at_most


class SurveyForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has checked it (see the module's docstring)

    ticket = HiddenField()
    comment = TextAreaField(validators=[Optional(), at_most(COMMENT_MAX)])
