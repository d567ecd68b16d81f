"""What people read about results: sentences from reason codes, charts (SVG), PDF reports.

Pages, the feedback report and its PDF share these, so a grade's reason reads the same
everywhere and in the reader's language.
"""

from __future__ import annotations

from flask import Flask

from evalsurvey.reports.charts import as_image
from evalsurvey.reports.words import grade_reason


def init_app(app: Flask) -> None:
    app.jinja_env.globals["grade_reason"] = grade_reason
    app.jinja_env.filters["as_image"] = as_image
