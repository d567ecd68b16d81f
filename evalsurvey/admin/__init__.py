"""Staff pages, one module per area. Views stay thin: the rules live in :mod:`evalsurvey.domain`."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # importing the areas registers their views on the blueprint
    from evalsurvey.admin import (  # noqa: F401
        analysis,
        api_tokens,
        audit,
        composite,
        consultation,
        cycle_dashboard,
        cycles,
        dashboard,
        feedback,
        findings,
        findings_bulk,
        ledger,
        links,
        publication,
        questionnaires,
        responses,
        review,
        schemes,
        staff,
        units,
    )
    from evalsurvey.admin.blueprint import bp
    from evalsurvey.scoring.result import shown

    app.register_blueprint(bp)
    app.jinja_env.filters["mark_values"] = schemes.mark_values
    # points as people write them: at most two decimals, no trailing zeros
    # (a blank stays blank: a form field with nothing in it yet)
    app.jinja_env.filters["pts"] = lambda x: "" if x in (None, "") else f"{shown(x):g}"
