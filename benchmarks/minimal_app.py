"""The yardstick for respondent throughput: the least a Flask app must do for the same job.

It renders a page with the same 8 five-level radio groups and, per POST, inserts one row
with SQLAlchemy into the same database, then redirects to a thank-you page (Post/Redirect/
Get), as evalsurvey does. No CSRF, no validation, no ticket, no device cookie: the
difference is what evalsurvey's care costs. ``MINIMAL_DATABASE_URL`` names the database.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from flask import Flask, redirect, render_template_string, request
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, create_engine

ITEMS = [f"q{i}" for i in range(1, 9)]
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>评价</title></head><body>
<form method="post">{% for item in items %}<fieldset>
<legend>{{ loop.index }}. 题目{{ item }}</legend>
{% for v in [5, 4, 3, 2, 1] %}
<label><input type="radio" name="{{ item }}" value="{{ v }}"> {{ v }}</label>
{% endfor %}</fieldset>{% endfor %}<button>提交</button></form></body></html>"""

metadata = MetaData()
responses = Table(
    "minimal_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), unique=True),
    Column("answers", JSON),
    Column("submitted_at", DateTime(timezone=True)),
)


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["MINIMAL_DATABASE_URL"]
    engine = create_engine(url, connect_args={"timeout": 15} if url.startswith("sqlite") else {})
    metadata.create_all(engine)

    @app.get("/s/<code>")
    def page(code: str):
        return render_template_string(PAGE, items=ITEMS)

    @app.post("/s/<code>")
    def submit(code: str):
        answers = {k: int(request.form[k]) for k in ITEMS if k in request.form}
        with engine.begin() as conn:
            conn.execute(
                responses.insert().values(
                    key=uuid.uuid4().hex, answers=answers, submitted_at=datetime.now(UTC)
                )
            )
        return redirect(f"/s/{code}/thanks", 303)

    @app.get("/s/<code>/thanks")
    def thanks(code: str):
        return "<!doctype html><p>感谢您的评价</p>"

    return app
