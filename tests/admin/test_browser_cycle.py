"""A real browser walks one cycle from open to published: an admin closes the cycle after
confirming, publishes the communities' results, and the public disclosure page shows them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from evalsurvey.domain import demo
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Publication
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_an_admin_closes_and_publishes_a_cycle(app, live_server, page, tmp_path):  # noqa: F811
    demo.load(n_responses=300, seed=11)
    cycle = db.session.scalar(select(Cycle))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "admin")
    page.fill("#password", "admin-demo-2026")
    page.click("button[type=submit]")
    page.goto(f"{live_server}/admin/cycles/{cycle.id}")
    page.get_by_role("link", name="已关闭").click()  # the status change asks first
    assert "关闭后不再接受答卷" in page.content()
    page.get_by_role("button", name="确认").click()
    assert "周期状态已改为：已关闭" in page.content()
    page.goto(f"{live_server}/admin/cycles/{cycle.id}/composite?type=community")
    assert "综合得分" in page.content() and "★" in page.content()
    page.get_by_role("link", name="公示结果").click()
    page.get_by_role("button", name="确认公示").click()
    assert "结果已公示" in page.content()
    public_url = page.locator("main a").first.get_attribute("href")
    page.screenshot(path=str(tmp_path / "objections.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server}{public_url}")
    assert "结果公示" in page.content() and "★" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).status == CycleStatus.CLOSED
    assert db.session.scalar(select(Publication)).unit_type == "community"
