"""Staff pages, one module per area. Views stay thin: the rules live in :mod:`evalsurvey.domain`."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # importing the areas registers their views on the blueprint
    from evalsurvey.admin import (  # noqa: F401
        analysis,
        audit,
        cycles,
        dashboard,
        findings,
        links,
        questionnaires,
        responses,
        schemes,
        staff,
        units,
    )
    from evalsurvey.admin.blueprint import bp

    app.register_blueprint(bp)
    app.jinja_env.filters["mark_values"] = schemes.mark_values
