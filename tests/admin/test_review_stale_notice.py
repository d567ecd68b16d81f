"""A street contact proposing on the review page is told when the computed scores are about
to move (QA: s01 confirmed 98.28 after a finding had changed, with no sign of it)."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Unit
from tests.factories import login


def test_contact_sees_that_computed_scores_will_move(app, client):
    demo.load(n_responses=300, seed=7)
    cycle = db.session.scalar(select(Cycle).where(Cycle.status == CycleStatus.OPEN))
    url = f"/admin/cycles/{cycle.id}/review?type=community"
    login(client, "s01", "admin-demo-2026")
    assert "计算得分待更新" not in client.get(url).get_data(as_text=True)

    unit = db.session.scalar(select(Unit).where(Unit.code == "C0102"))
    scheme = scheme_domain.scheme_of(scheme_domain.cycle_scheme(cycle, "community"))
    manual = next(e for e in scheme.elements() if e.rule.type == "manual")
    scheme_domain.record_finding(cycle, unit, manual.code, "0", "复查", "inspector", reason="复查")
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "计算得分待更新" in page
    assert "现场考核记录" not in page  # which input changed stays with the office
    english = client.get(url + "&lang=en").get_data(as_text=True)
    assert "Computed scores to be updated" in english

    composite_domain.run_composite(cycle, "community", "inspector")
    db.session.commit()
    assert "计算得分待更新" not in client.get(url + "&lang=zh").get_data(as_text=True)
