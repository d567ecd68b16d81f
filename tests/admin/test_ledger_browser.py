"""The ledger in a real browser: a whole page of items ticked and confirmed in one click at
1280 px; at 360 px the items read as cards and a refusal stands by its item (screenshots in
/tmp/shots-ledger/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import RectificationItem, Role
from tests.admin.test_ledger import _many_items
from tests.factories import make_staff
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


SHOTS = Path("/tmp/shots-ledger")
RAW = re.compile(
    r"\b(proposed|open|in_progress|submitted|closed|reopened|dropped|deduction|review)\b"
)


def _sign_in(tab, base: str, user: str) -> None:
    tab.goto(f"{base}/auth/login")
    tab.fill("#username", user)
    tab.fill("#password", "secret-pass-1")
    with tab.expect_navigation():
        tab.click("button[type=submit]")


def _fits(tab, width: int) -> str:
    """The page's visible text, after checking nothing is wider than the screen, no status
    or source shows as its code and no English word is left."""
    assert tab.evaluate("document.documentElement.scrollWidth") <= width
    text = tab.locator("main").inner_text()
    assert not RAW.search(text), RAW.search(text)
    english = set(re.findall(r"[A-Za-z]{2,}", text)) - {"PDF", "DOCX", "XLSX", "MB"}
    assert not english, english
    return text


def test_bulk_ledger_work_in_a_real_browser(app, live_server, page):  # noqa: F811
    """The office at 1280 px ticks a whole page with "全选本页" and confirms it in one
    click; on a 360 px phone the page reads as cards, and a refusal stands by its item."""
    SHOTS.mkdir(exist_ok=True)
    cycle = _many_items()
    make_staff("insp", Role.INSPECTOR)
    url = f"{live_server}/admin/cycles/{cycle.id}/ledger"
    # Chromium draws its own controls (date, file) in its UI language; Debian's package ships
    # only en-US, so those two read in English whatever the page's language
    browser = page.context.browser
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    _sign_in(desk, live_server, "insp")
    desk.goto(url)
    _fits(desk, 1280)
    desk.screenshot(path=str(SHOTS / "ledger-1280.png"), full_page=True)
    desk.get_by_role("link", name="全选本页").click()  # in place, by ledger.js
    assert desk.locator('input[name="items"]:checked').count() == 50
    desk.get_by_label("责任人").fill("支部书记")
    desk.get_by_label("整改期限").fill("2026-12-31")
    with desk.expect_navigation():
        desk.get_by_role("button", name="确认立项").click()
    assert "已确认 50 个整改项。" in desk.content()
    db.session.expire_all()
    statuses = [i.status for i in db.session.scalars(select(RectificationItem))]
    assert statuses.count("open") == 50 and statuses.count("proposed") == 41
    desk.screenshot(path=str(SHOTS / "ledger-1280-confirmed.png"), full_page=True)

    page = browser.new_context(  # noqa: F811 (the phone, in Chinese)
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
        device_scale_factor=2, locale="zh-CN",
    ).new_page()  # fmt: skip
    _sign_in(page, live_server, "insp")
    page.goto(f"{url}?status=proposed")
    _fits(page, 360)
    page.screenshot(path=str(SHOTS / "ledger-360.png"), full_page=False)
    boxes = page.locator('input[name="items"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    with page.expect_navigation():
        page.get_by_role("button", name="确认立项").click()  # no owner, no deadline
    text = _fits(page, 360)
    assert text.count("确认整改项需要指定责任人和期限。") == 2
    page.locator("tr.refused").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "ledger-360-refused.png"), full_page=False)
    page.screenshot(path=str(SHOTS / "ledger-360-full.png"), full_page=True)
    # the item page at 360: no change by default, dropping asked on its own page
    page.locator("tr.refused a").first.click()
    page.wait_for_load_state()
    _fits(page, 360)
    assert page.locator("#status").input_value() == ""
    page.screenshot(path=str(SHOTS / "item-360.png"), full_page=True)
    page.get_by_role("link", name="不予立项…").click()
    page.wait_for_load_state()
    _fits(page, 360)
    page.screenshot(path=str(SHOTS / "drop-360.png"), full_page=True)
