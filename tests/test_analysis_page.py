"""The cycle analysis page: the statistics on stored responses, and marking suspects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from evalsurvey.domain import analysis
from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, Response, Role
from evalsurvey.models.types import utcnow
from tests.factories import hidden_fields, login, make_link, make_response, make_staff


def seed(link, honest: int = 40):
    now = utcnow()
    for i in range(honest):
        level = 3 + i % 3
        make_response(
            link,
            {"attitude": level, "speed": level, "nps": 7, "chan": "a"},
            seconds=80 + i,
            when=now - timedelta(hours=i),
        )
    speeder = make_response(
        link, {"attitude": 5, "speed": 5}, seconds=3, when=now - timedelta(minutes=30)
    )
    unhappy = make_response(
        link, {"attitude": 1, "speed": 1}, seconds=95, when=now - timedelta(minutes=50)
    )
    db.session.commit()
    return speeder, unhappy


def test_scales_come_from_the_questionnaire(app):
    link = make_link()
    seed(link)
    scales = analysis.item_scales(link.cycle)
    assert scales == {"attitude": (1, 5), "speed": (1, 5), "nps": (0, 10), "pts": (0, 10)}
    report = analysis.analyze_cycle(link.cycle)
    assert report["input"]["items"] == ["attitude", "speed", "nps"]
    assert "chan" in report["input"]["text_items"]  # option codes are never scored


def test_rank_within_one_unit_type(app):
    from tests.factories import make_unit

    window = make_link()
    community = make_link(
        unit=make_unit(type="community"), cycle=window.cycle, questionnaire=window.questionnaire
    )
    seed(window)
    seed(community)
    both = analysis.analyze_cycle(window.cycle)
    assert {u["unit"] for u in both["units"]} == {window.unit.code, community.unit.code}
    only = analysis.analyze_cycle(window.cycle, unit_type="community")
    assert [u["unit"] for u in only["units"]] == [community.unit.code]
    assert only["units"][0]["rank"] == 1


def test_page_and_marking_suspects_keeps_reviews(app, client):
    link = make_link()
    speeder, unhappy = seed(link)
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    page = client.get(f"/admin/cycles/{link.cycle_id}/analysis")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and link.unit.code in html and speeder.public_id in html
    token = hidden_fields(html)["csrf_token"]
    resp = client.post(f"/admin/cycles/{link.cycle_id}/analysis/mark", data={"csrf_token": token})
    assert resp.status_code == 302
    db.session.refresh(speeder)
    db.session.refresh(unhappy)
    assert speeder.status == "suspect"  # how it was submitted
    assert unhappy.status == "valid"  # an honest bad review is never silenced
    # a reviewer restores the speeder; marking again must not overturn that decision
    speeder.status = "valid"
    db.session.commit()
    client.post(f"/admin/cycles/{link.cycle_id}/analysis/mark", data={"csrf_token": token})
    db.session.refresh(speeder)
    assert speeder.status == "valid"
    changes = db.session.scalars(select(AuditLog).where(AuditLog.entity == "Response")).all()
    assert [c.changes["status"] for c in changes] == [["valid", "suspect"], ["suspect", "valid"]]


def test_analysis_roles_and_empty_cycle(app, client):
    link = make_link()
    make_staff("viewer", Role.VIEWER)
    make_staff("contact", Role.UNIT_CONTACT, unit=link.unit)
    login(client, "viewer")
    empty = client.get(f"/admin/cycles/{link.cycle_id}/analysis")
    assert empty.status_code == 200 and "还没有可分析的答卷" in empty.get_data(as_text=True)
    seed(link)
    bad = client.get(f"/admin/cycles/{link.cycle_id}/analysis?weights=aliens=1")
    assert bad.status_code == 400 and "aliens" in bad.get_data(as_text=True)
    token = hidden_fields(empty.get_data(as_text=True))["csrf_token"]
    assert (
        client.post(
            f"/admin/cycles/{link.cycle_id}/analysis/mark", data={"csrf_token": token}
        ).status_code
        == 403
    )
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, "contact")
    assert client.get(f"/admin/cycles/{link.cycle_id}/analysis").status_code == 403
    assert {r.status for r in db.session.scalars(select(Response))} == {"valid"}
