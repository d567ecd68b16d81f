"""The cycle analysis page: the statistics on stored responses, and marking suspects."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from evalsurvey.domain.collecting import responses as response_domain
from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, AuditLog, Response, Role
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


def recompute(client, cycle_id: int, **fields):
    page = client.get(f"/admin/cycles/{cycle_id}/analysis").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    return client.post(
        f"/admin/cycles/{cycle_id}/analysis", data={"csrf_token": token, **fields}
    ), token


def test_page_and_marking_suspects_keeps_reviews(app, client):
    link = make_link()
    speeder, unhappy = seed(link)
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    before = client.get(f"/admin/cycles/{link.cycle_id}/analysis").get_data(as_text=True)
    assert "还没有计算结果" in before  # a page view computes nothing
    resp, token = recompute(client, link.cycle_id)
    assert resp.status_code == 302
    page = client.get(f"/admin/cycles/{link.cycle_id}/analysis")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and link.unit.code in html and speeder.public_id in html
    assert link.unit.name in html  # units by name and code
    mark = f"/admin/cycles/{link.cycle_id}/analysis/mark"
    resp = client.post(mark, data={"csrf_token": token, "type": "service_window"})
    assert resp.status_code == 302
    db.session.refresh(speeder)
    db.session.refresh(unhappy)
    assert speeder.status == "suspect"  # how it was submitted
    assert unhappy.status == "valid"  # an honest bad review is never silenced
    # a reviewer restores the speeder; marking again must not overturn that decision
    client.post(
        f"/admin/responses/{speeder.public_id}/status",
        data={"csrf_token": token, "status": "valid"},
    )
    db.session.refresh(speeder)
    assert speeder.status == "valid" and speeder.reviewed
    recompute(client, link.cycle_id)
    client.post(mark, data={"csrf_token": token, "type": "service_window"})
    db.session.refresh(speeder)
    assert speeder.status == "valid"
    changes = db.session.scalars(select(AuditLog).where(AuditLog.entity == "Response")).all()
    assert [c.changes["status"] for c in changes] == [["valid", "suspect"], ["suspect", "valid"]]


def test_analysis_roles_and_empty_cycle(app, client):
    link = make_link()
    make_staff("viewer", Role.VIEWER)
    make_staff("insp", Role.INSPECTOR)
    make_staff("contact", Role.UNIT_CONTACT, unit=link.unit)
    login(client, "viewer")
    empty = client.get(f"/admin/cycles/{link.cycle_id}/analysis")
    assert empty.status_code == 200 and "还没有计算结果" in empty.get_data(as_text=True)
    seed(link)
    token = hidden_fields(empty.get_data(as_text=True))["csrf_token"]
    # a viewer reads results but neither recomputes nor marks
    for url in ("analysis", "analysis/mark"):
        resp = client.post(f"/admin/cycles/{link.cycle_id}/{url}", data={"csrf_token": token})
        assert resp.status_code == 403
    client.post("/auth/logout", data={"csrf_token": token})
    login(client, "insp")
    resp, _token = recompute(client, link.cycle_id, w_citizen="-1")
    # the page again, the message by the weight and what was typed kept; nothing stored
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "权重不能为负数" in page and 'name="w_citizen"' in page and 'value="-1"' in page
    assert db.session.scalar(select(func.count()).select_from(AnalysisRun)) == 0
    # not a number, not finite, or a method the page never offers: a message, not a 500
    for bad in ({"w_citizen": "abc"}, {"w_citizen": "inf"}, {"method": "x" * 50}):
        resp, _token = recompute(client, link.cycle_id, **bad)
        assert resp.status_code == 400
        text = resp.get_data(as_text=True)
        assert "请填写数字。" in text or "未知的计分方法" in text
    assert db.session.scalar(select(func.count()).select_from(AnalysisRun)) == 0
    # a weight typed as a percentage is that share, as on the composite page
    resp, _token = recompute(client, link.cycle_id, w_citizen="60%", w_member="４０％")
    # no member answered: said by the group's name beside its field, never its code
    refused = re.findall(r'class="err[^"]*">([^<]*)', resp.get_data(as_text=True))
    assert resp.status_code == 400 and refused == ["这些评价群体在数据中没有答卷：党员"]
    resp, _token = recompute(client, link.cycle_id, w_citizen="60%")
    assert resp.status_code in (302, 303)
    run = db.session.scalar(select(AnalysisRun))
    assert run.options["weights"] == {"citizen": 0.6}
    # the satisfied rate of each group, named (QA: two rates ran together as "95.0%83.3%")
    page = client.get(f"/admin/cycles/{link.cycle_id}/analysis").get_data(as_text=True)
    assert re.search(r'<div class="nowrap">群众 \d+(\.\d)?%</div>', page)
    assert not re.search(r"%\d", page.split("满意率", 1)[1])
    # in the reader's language
    resp = client.post(f"/admin/cycles/{link.cycle_id}/analysis?lang=en",
                       data={"csrf_token": _token, "w_citizen": "abc"})  # fmt: skip
    assert resp.status_code == 400 and "权重" not in resp.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": _token})
    login(client, "contact")
    assert client.get(f"/admin/cycles/{link.cycle_id}/analysis").status_code == 403
    assert {r.status for r in db.session.scalars(select(Response))} == {"valid"}


def test_review_decisions_change_the_scores(app):
    """excluded never counts; suspect counts only once a person makes it valid."""
    link = make_link()
    seed(link, honest=20)
    low = [
        make_response(
            link, {"attitude": 1, "speed": 1}, seconds=90, when=utcnow() - timedelta(days=2)
        )
        for _ in range(5)
    ]
    db.session.commit()

    def score() -> float:
        return analysis.analyze_cycle(link.cycle)["units"][0]["score"]

    base = score()
    for r in low:
        r.status = "excluded"
    db.session.commit()
    without = score()
    assert without > base
    for r in low:
        r.status = "suspect"  # marked by the rules, not yet reviewed
    db.session.commit()
    assert score() == without
    for r in low:
        response_domain.set_status(r, "valid")
    db.session.commit()
    assert score() == base


def test_person_beats_the_rules(app):
    link = make_link()
    speeder, _unhappy = seed(link)
    report = analysis.analyze_cycle(link.cycle)
    assert speeder.public_id in {r["response_id"] for r in report["responses"] if r["suspect"]}
    response_domain.set_status(speeder, "valid")
    db.session.commit()
    report = analysis.analyze_cycle(link.cycle)
    flagged = {r["response_id"]: r for r in report["responses"]}
    assert "speeder" in flagged[speeder.public_id]["reasons"]  # still shown as flagged
    assert not flagged[speeder.public_id]["suspect"]  # but counted
    assert report["summary"]["reviewed_valid"] == 1


def test_runs_are_stored_per_unit_type(app, runner):
    from tests.factories import make_unit

    window = make_link()
    community = make_link(
        unit=make_unit(type="community"), cycle=window.cycle, questionnaire=window.questionnaire
    )
    seed(window)
    seed(community)
    result = runner.invoke(args=["analyze", "--cycle", window.cycle.code])
    assert result.exit_code == 0, result.output
    runs = analysis.latest_runs(window.cycle)
    assert set(runs) == {"community", "service_window"}
    assert runs["community"].created_by == "cli"
    assert [u["unit"] for u in runs["community"].result["units"]] == [community.unit.code]
    assert runs["service_window"].n_responses == 42


def test_flags_become_sentences_in_the_readers_language(app):
    from evalsurvey.admin.analysis import flag_sentence
    from evalsurvey.i18n import in_language

    with in_language("zh"):
        assert flag_sentence("lenient", {"points": 14.26, "severity": 12.0, "robust_z": 5.1}) == (
            "比其他评委平均高 14.3 分"
        )
        assert flag_sentence("collusion", {"rater": "E05", "partners": ["E06", "E07"]}) == (
            "评委 E05：与评委 E06，E07 的评分偏差高度一致"
        )
    with in_language("en"):
        assert (
            flag_sentence("severe", {"points": 15.0}) == "scores 15.0 points below the other raters"
        )
