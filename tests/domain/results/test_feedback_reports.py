"""Feedback reports are built for every unit at once (one query for comments, one for
adjustments) and each unit's report is the one it would get alone."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain.results.cycle import cycle_result
from evalsurvey.domain.results.feedback import unit_reports
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, RaterGroup, Response, ResponseStatus, Unit


def test_every_units_report_is_the_one_it_gets_alone(app):
    demo.load(n_responses=600, seed=9)
    cycle = db.session.scalar(select(Cycle))
    result = cycle_result(cycle, "service_window")
    reports = unit_reports(cycle, "service_window", result)
    with_comments = [code for code, r in sorted(reports.items()) if r["comments"]]
    assert with_comments
    for code in with_comments[:3] + sorted(reports)[:2]:
        said = reports[code]
        assert unit_reports(cycle, "service_window", result, only=code)[code] == said
        # exactly the comments of the groups the report shows and a unit may read
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        shown = {g["group"] for g in said["groups"]}
        readable = [g.id for g in db.session.scalars(select(RaterGroup))
                    if g.visible_to_unit and g.code in shown]  # fmt: skip
        texts = db.session.scalars(
            select(Response.comment).where(
                Response.cycle_id == cycle.id,
                Response.unit_id == unit.id,
                Response.rater_group_id.in_(readable or [-1]),
                Response.status != ResponseStatus.EXCLUDED,
            )
        )
        assert said["comments"] == sorted({t.strip() for t in texts if t.strip()})
