"""A real browser (Debian's Chromium driven by Playwright) rates a window on a phone-sized page."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from evalsurvey.extensions import db
from evalsurvey.models import Response
from tests.factories import make_link

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app, backend):
    if backend != "sqlite":
        pytest.skip("the browser path is backend-independent; run once on SQLite")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (make browser installs it)")
        pytest.skip("chromium is not installed: run `make browser`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
        yield context.new_page()
        context.close()
        browser.close()


def test_rate_a_window_on_a_phone(app, live_server, page, tmp_path):
    link = make_link()
    unit_name = link.unit.name
    page.goto(f"{live_server}/s/{link.code}")
    assert page.locator(".unit").inner_text() == unit_name
    # nothing is wider than the phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("#q-attitude").get_by_text("非常满意").tap()
    page.locator("#q-speed").get_by_text("满意", exact=True).tap()
    page.locator("#q-nps").get_by_text("8", exact=True).tap()
    page.locator("#q-topics").get_by_text("效率").tap()
    page.locator("textarea[name=comment]").fill("手机上评价很方便")
    box = page.locator("#q-attitude .opt").first.bounding_box()
    assert box["height"] >= 44  # touch target
    page.screenshot(path=str(tmp_path / "survey.png"), full_page=True)
    page.get_by_role("button", name="提交").tap()
    page.wait_for_url("**/thanks**")
    assert "感谢您的评价" in page.content()
    row = db.session.scalar(select(Response))
    assert row.answers["attitude"] == 5 and row.answers["speed"] == 4
    assert row.answers["nps"] == 8 and row.answers["topics"] == ["x"]
    assert row.comment == "手机上评价很方便"
    # back and reload does not resubmit (Post/Redirect/Get)
    page.reload()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
