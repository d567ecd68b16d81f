"""A fresh database (SQLite, or a PostgreSQL one given) filled with citizen responses, for
the database benchmarks.

The rows go in through the domain's own row builder (:func:`response_row`), in one bulk
insert per unit, so filling a million takes about a minute.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta

import numpy as np


def citizen_cycle(
    units: int, per_unit: int, seed: int = 7, comment_share: float = 0.0, url: str | None = None
):
    """An app on a new database (upgraded), and the cycle it filled with ``units × per_unit``
    responses to the demo's citizen questionnaire. The database is a new SQLite file, or
    ``url`` (an empty one). Call inside nothing; returns ``(app, cycle_id)``."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from evalsurvey import create_app
    from evalsurvey.demo import CITIZEN_QUESTIONNAIRE
    from evalsurvey.domain import cycles
    from evalsurvey.domain import units as unit_domain
    from evalsurvey.domain.collecting import links, questionnaires
    from evalsurvey.domain.collecting.responses import response_row
    from evalsurvey.domain.units import ensure_rater_groups
    from evalsurvey.extensions import db
    from evalsurvey.models import Response
    from evalsurvey.models.types import utcnow

    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='evalsurvey-bench-')}/bench.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    rng = np.random.default_rng(seed)
    with app.app_context():
        upgrade()
        groups = ensure_rater_groups()
        q = questionnaires.create_draft(CITIZEN_QUESTIONNAIRE)
        questionnaires.freeze_version(q)
        cycle = cycles.create_cycle("BENCH", "基准周期")
        codes = [i["code"] for i in CITIZEN_QUESTIONNAIRE["items"]]
        now = utcnow()
        for u in range(units):
            unit = unit_domain.create_unit(f"W{u:04d}", f"窗口{u}", "service_window")
            link, _ = links.create_link(
                cycle=cycle, questionnaire=q, unit=unit, rater_group=groups["citizen"]
            )
            quality = rng.normal(4.0, 0.4)
            rows = []
            for _i in range(per_unit):
                answers = {
                    c: int(np.clip(round(quality + rng.normal(0, 0.7)), 1, 5)) for c in codes
                }
                when = now - timedelta(minutes=float(rng.uniform(0, 60 * 24 * 90)))
                rows.append(
                    response_row(
                        link=link,
                        channel="qr",
                        started_at=when - timedelta(seconds=float(rng.lognormal(4.2, 0.4))),
                        submitted_at=when,
                        answers=answers,
                        comment="服务很好" if rng.random() < comment_share else "",
                        device=f"d{rng.integers(1 << 40)}",
                    )
                )
            db.session.execute(insert(Response), rows)
            db.session.commit()
        cycle_id = cycle.id
        db.session.remove()
    return app, cycle_id
