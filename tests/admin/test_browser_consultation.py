"""A department proposes in a real browser (Chromium through the real server), with and
without JavaScript: the pickers, the hint that follows the picked item, and an evidence file
past the limit that brings the form back with what was typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import Adjustment
from tests import evidence_samples as samples
from tests.admin.test_browser_cycle import _signed_in
from tests.admin.test_consultation_pickers import _setup
from tests.public.test_browser import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed: run `make browser`")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_pickers_and_a_file_too_large_in_a_browser(app, client, live_server, browser,  # noqa: F811
                                                       tmp_path):  # fmt: skip
    cycle, _community, _branch, url = _setup(client)
    desk = _signed_in(browser, live_server, "petitions", "secret-pass-1")
    desk.goto(live_server + url)
    desk.select_option("#unit", "C1")
    # only the community scheme's items are offered
    shown = desk.eval_on_selector_all(
        "#item option",
        "os => os.filter(o => o.value && !o.parentElement.disabled).map(o => o.value)",
    )
    assert shown == ["community/B1", "community/P1", "community/V1"]
    desk.select_option("#item", "community/P1")
    assert "案例 -3" in desk.inner_text("#item-rule")
    assert "类别为 案例" in desk.inner_text("#value-hint")
    assert desk.get_attribute("#value", "placeholder") == "案例:1"
    desk.fill("#value", "case:1")
    desk.fill("#reason", "群众来信反映属实，已核实")
    big = tmp_path / "scan.pdf"
    big.write_bytes(samples.pdf(11 * samples.MB))
    desk.set_input_files("input[name=evidence]", str(big))
    with desk.expect_navigation():
        desk.click("form[data-adjustment] button")
    assert "文件超过 10 MB 的上限" in desk.inner_text("form[data-adjustment]")
    assert desk.input_value("#reason") == "群众来信反映属实，已核实"
    assert desk.input_value("#value") == "case:1"
    assert desk.input_value("#unit") == "C1" and desk.input_value("#item") == "community/P1"
    assert db.session.scalar(select(Adjustment)) is None
    small = tmp_path / "letter.pdf"
    small.write_bytes(samples.pdf(300_000))
    desk.set_input_files("input[name=evidence]", str(small))
    with desk.expect_navigation():
        desk.click("form[data-adjustment] button")
    assert "已提交，待考核办审批。" in desk.content()
    found = db.session.scalar(select(Adjustment))
    assert (found.item, found.value) == ("P1", "case:1") and found.evidence


def test_the_pickers_work_without_javascript(app, client, live_server, browser):  # noqa: F811
    _cycle, _community, branch, url = _setup(client)
    context = browser.new_context(java_script_enabled=False)
    desk = context.new_page()
    desk.goto(f"{live_server}/auth/login")
    desk.fill("#username", "petitions")
    desk.fill("#password", "secret-pass-1")
    with desk.expect_navigation():
        desk.click("button[type=submit]")
    desk.goto(live_server + url)
    # every type's items, grouped by type; the table states each one's rule
    groups = desk.eval_on_selector_all("#item optgroup", "gs => gs.map(g => g.label)")
    assert groups == ["机关支部", "社区"]
    assert "各项目的计分规则和取值写法" in desk.content()
    desk.select_option("#unit", "B1")
    desk.select_option("#item", "agency_branch/P2")
    desk.fill("#value", "warning:1")
    desk.fill("#reason", "受到警告处分")
    with desk.expect_navigation():
        desk.click("form[data-adjustment] button")
    assert "已提交，待考核办审批。" in desk.content()
    found = db.session.scalar(select(Adjustment))
    assert (found.unit_id, found.item, found.value) == (branch.id, "P2", "warning:1")
    context.close()
