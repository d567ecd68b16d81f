"""The cycle dashboard: every chart present with its data on a seeded cycle (the SVG parsed),
a table beside each, and in a real browser at 1280 and 360 px in both languages without
sideways scrolling (screenshots under tests/artifacts/)."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.extensions import db
from evalsurvey.models import Cycle
from tests.factories import browser_login, login
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

PASSWORD = "admin-demo-2026"
SVG = "{http://www.w3.org/2000/svg}"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def _charts(html: str) -> dict[str, list[str]]:
    """Each chart's title (its alt text) → the texts inside its SVG."""
    out = {}
    for data, alt in re.findall(
        r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]*)"', html
    ):
        root = ET.fromstring(base64.b64decode(data))
        out[alt] = [t.text for t in root.iter(f"{SVG}text") if t.text]
    return out


def test_every_chart_is_there_with_its_data(app, client):
    demo.load(n_responses=600, seed=4)
    cycle = db.session.scalar(select(Cycle))
    login(client, "admin", PASSWORD)
    html = client.get(f"/admin/cycles/{cycle.id}/dashboard?type=community").get_data(as_text=True)
    charts = _charts(html)
    titles = set(charts)
    for title in ("社区排名和等级", "社区得分分布", "各评价群体的平均满意度（95% 置信区间）",
                  "内部评价与外部评价", "可疑和提示标记（按原因）", "每日提交"):  # fmt: skip
        assert title in titles, (title, titles)
    ranking = charts["社区排名和等级"]
    assert "东华门街道北池子社区" in ranking and "得分（百分制）" in ranking
    assert any("★" in t for t in ranking)  # the grades' legend
    assert "群众" in charts["各评价群体的平均满意度（95% 置信区间）"]
    assert "外部（群众等）得分" in charts["内部评价与外部评价"]
    assert "答卷覆盖" in html  # the coverage table
    english = client.get(f"/admin/cycles/{cycle.id}/dashboard?type=community&lang=en")
    assert "Community: ranking and grades" in _charts(english.get_data(as_text=True))
    contact = app.test_client()
    login(contact, "c0101", PASSWORD)
    assert contact.get(f"/admin/cycles/{cycle.id}/dashboard").status_code == 403


@pytest.mark.browser
def test_the_dashboard_in_a_browser_at_both_widths(app, live_server, page):  # noqa: F811
    demo.load(n_responses=400, seed=4)
    cycle = db.session.scalar(select(Cycle))
    ARTIFACTS.mkdir(exist_ok=True)
    browser_login(page, live_server, "admin", PASSWORD)
    for width, height in ((1280, 800), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        for lang in ("zh", "en"):
            page.goto(f"{live_server}/admin/cycles/{cycle.id}/dashboard?type=community&lang={lang}")
            assert page.locator("figure img").count() >= 6
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}-{lang}.png"), full_page=True)
            # one unit's dashboard, reached from the ranking
            page.locator("table a[href*='/units/']").first.click()
            page.wait_for_url("**/dashboard**")
            assert page.locator("figure img").count() >= 2  # its groups and submissions per day
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(ARTIFACTS / f"unit-dashboard-{width}-{lang}.png"),
                            full_page=True)  # fmt: skip


def _unit(code: str):
    from evalsurvey.models import Unit

    return db.session.scalar(select(Unit).where(Unit.code == code))


def test_change_and_panel_charts_with_an_earlier_published_cycle(app, client):
    demo.load(n_responses=600, seed=4, history=True)
    first, cycle = db.session.scalars(select(Cycle).order_by(Cycle.id)).all()
    assert (first.code, first.status, cycle.code) == ("2026H1", "published", "2026H2")
    login(client, "admin", PASSWORD)
    html = client.get(f"/admin/cycles/{cycle.id}/dashboard?type=community").get_data(as_text=True)
    charts = _charts(html)
    change = charts["与上一周期相比的变化"]
    assert "东华门街道北池子社区" in change and "得分变化（分）" in change
    # every unit has a previous result, so each bar carries a signed label
    assert sum(1 for t in change if t[:1] in "+-" and t[1:2].isdigit()) == 12
    raters = charts["评审专家的宽严（与其他专家相比，95% 置信区间）"]
    assert {f"E{e:02d}" for e in range(1, 9)} <= set(raters)
    assert "组内相关系数 ICC2k" in html and "Krippendorff α" in html


def test_a_unit_dashboard_for_the_office_and_for_its_contact(app, client):
    demo.load(n_responses=600, seed=4, history=True)
    cycle = db.session.scalars(select(Cycle).order_by(Cycle.id)).all()[-1]
    unit, other = _unit("C0101"), _unit("C0102")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/dashboard"
    login(client, "admin", PASSWORD)
    html = client.get(url).get_data(as_text=True)
    charts = _charts(html)
    trend = charts["历次考评得分"]
    assert "2026H1" in trend and "2026H2" in trend
    assert "各评价群体满意度（95% 置信区间）" in charts and "每日提交" in charts
    assert "未公示" in html and "已公示" in html and "整改事项" in html
    # its contact: the published trend only, the open cycle's figures not before publication
    contact = app.test_client()
    login(contact, "c0101", PASSWORD)
    theirs = contact.get(url).get_data(as_text=True)
    assert "本单位的结果将在公示后显示。" in theirs
    assert "2026年上半年党建考评" in theirs and "未公示" not in theirs
    assert "各评价群体满意度（95% 置信区间）" not in _charts(theirs)
    assert contact.get(f"/admin/cycles/{cycle.id}/units/{other.id}/dashboard").status_code == 403
    assert "单位看板" in contact.get("/admin/").get_data(as_text=True)
