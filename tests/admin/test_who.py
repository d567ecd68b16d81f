"""Pages name who did something as people know them: the account's name beside its user name,
a command by its words, never a bare "s01"."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain.assessment import grade_review
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Unit
from tests.factories import login


def test_review_and_composite_pages_name_people(app, client):
    demo.load(n_responses=300, seed=7)
    cycle = db.session.scalar(select(Cycle).where(Cycle.status == CycleStatus.OPEN))
    unit = db.session.scalar(select(Unit).where(Unit.code == "C0101"))
    grade_review.propose(cycle, unit, 93, None, "自评优秀", "s01")
    db.session.commit()
    login(client, "admin", "admin-demo-2026")
    page = client.get(f"/admin/cycles/{cycle.id}/review?type=community").get_data(as_text=True)
    assert "东华门街道联络员（s01）" in page
    english = client.get(f"/admin/cycles/{cycle.id}/review?type=community&lang=en")
    english = english.get_data(as_text=True)
    assert "东华门街道联络员 (s01)" in english
    page = client.get(f"/admin/cycles/{cycle.id}/composite?type=community&lang=zh")
    page = page.get_data(as_text=True)
    assert "操作人 演示数据（命令行）" in page  # the demo loader, by its words
