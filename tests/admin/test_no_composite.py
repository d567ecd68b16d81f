"""A unit added after the composite was computed (issue 16, defect 1): the two-level review
page once answered 500 (``could not convert string to float: ''``) as soon as one unit of
the type had no composite. Every page about the type's results answers, and names such a
unit as having no composite instead of showing a blank or a score."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Unit
from tests.factories import hidden_fields, login

NO_COMPOSITE = "尚无综合结果"


def _row(html: str, code: str) -> str:
    """The table row of the unit ``code``."""
    rows = [r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if f">{code}<" in r]
    assert len(rows) == 1, rows
    return rows[0]


def _add_community(client) -> Unit:
    """A community of street S01, added through the units page as the office does."""
    token = hidden_fields(client.get("/admin/units").get_data(as_text=True))["csrf_token"]
    added = client.post(
        "/admin/units",
        data={"csrf_token": token, "code": "C0105", "name": "东华门街道新建社区",
              "type": "community", "parent": "S01", "active": "y"},
    )  # fmt: skip
    assert added.status_code == 302
    return db.session.scalar(select(Unit).where(Unit.code == "C0105"))


def test_a_unit_added_after_the_composite(app, client):
    demo.load(n_responses=300, seed=7)
    cycle = db.session.scalar(select(Cycle))
    login(client, "admin", "admin-demo-2026")
    unit = _add_community(client)
    review = f"/admin/cycles/{cycle.id}/review?type=community"
    inspector = app.test_client()
    login(inspector, "inspector", "admin-demo-2026")  # the district's reviewer
    street = app.test_client()
    login(street, "s01", "admin-demo-2026")  # proposes for its communities, C0105 too
    for who in (client, inspector, street):
        page = who.get(review)
        assert page.status_code == 200
        row = _row(page.get_data(as_text=True), "C0105")
        assert NO_COMPOSITE in row
        # no form for a proposal the domain refuses: it says when one can be made
        assert 'value="propose"' not in row
    assert "重新计算综合结果后才能申报" in _row(street.get(review).get_data(as_text=True), "C0105")
    # the units that have one are proposed for as before
    assert 'value="propose"' in _row(street.get(review).get_data(as_text=True), "C0101")

    composite = client.get(f"/admin/cycles/{cycle.id}/composite?type=community")
    assert composite.status_code == 200
    assert "C0105" in composite.get_data(as_text=True)  # among the units it does not hold
    own = client.get(f"/admin/cycles/{cycle.id}/units/{unit.id}")
    assert own.status_code == 200 and NO_COMPOSITE in own.get_data(as_text=True)
    assessed = db.session.scalar(select(Unit.id).where(Unit.code == "C0101"))
    assessed_page = client.get(f"/admin/cycles/{cycle.id}/units/{assessed}")
    assert NO_COMPOSITE not in assessed_page.get_data(as_text=True)

    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    publish = f"/admin/cycles/{cycle.id}/publish?type=community"
    page = client.get(publish)
    assert page.status_code == 200
    assert "有 1 个单位不在综合结果中（C0105）" in page.get_data(as_text=True)
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    published = client.post(
        publish, data={"csrf_token": token, "type": "community", "reason": "新社区下期参加考核"}
    )
    assert published.status_code == 302  # published over the missing unit, with a reason
    for who in (client, inspector, street):
        page = who.get(review)
        assert page.status_code == 200
        assert NO_COMPOSITE in _row(page.get_data(as_text=True), "C0105")
    assert client.get(publish).status_code == 200
    assert NO_COMPOSITE in client.get(f"/admin/cycles/{cycle.id}/units/{unit.id}").get_data(
        as_text=True
    )


def test_the_publish_preview_names_the_units_left_out_for_want_of_a_score(app, client):
    # QA: windows without enough responses were silently missing from the 公示 preview
    demo.load(n_responses=40, seed=7)
    cycle = db.session.scalar(select(Cycle))
    from evalsurvey.domain.results.cycle import cycle_result

    left = [u.unit for u in cycle_result(cycle, "service_window").units if u.standing is None]
    assert left  # 40 responses leave some windows below the minimum
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    login(client, "admin", "admin-demo-2026")
    html = client.get(f"/admin/cycles/{cycle.id}/publish?type=service_window").get_data(
        as_text=True
    )
    notice = html[html.index('id="unscored"') :].split("</p>", 1)[0]
    assert f"以下 {len(left)} 个单位没有得分，不列入公示" in notice
    assert all(f"（{code}）" in notice for code in left)
    community = client.get(f"/admin/cycles/{cycle.id}/publish?type=community")
    assert 'id="unscored"' not in community.get_data(as_text=True)  # every community scored
