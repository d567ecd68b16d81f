"""A real browser walks one cycle from open to published, as its people do: a citizen rates
a window on a phone, the office recomputes, a street proposes grades, the district draws its
sample and re-reviews, the admin closes the cycle and publishes after confirming, a citizen
objects on the public page and the office answers, and the community reads its feedback
report and downloads the PDF."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evalsurvey import demo
from evalsurvey.extensions import db
from evalsurvey.models import (
    Cycle,
    CycleStatus,
    GradeProposal,
    Link,
    Objection,
    Publication,
    Response,
    Unit,
)
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
PASSWORD = "admin-demo-2026"


def _signed_in(browser, base: str, user: str, password: str = PASSWORD):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    desk = context.new_page()
    desk.goto(f"{base}/auth/login")
    desk.fill("#username", user)
    desk.fill("#password", password)
    with desk.expect_navigation():
        desk.click("button[type=submit]")
    return desk


def _submit(tab, button) -> None:
    """Click a button or link and wait for the page it leads to."""
    with tab.expect_navigation():
        button.click()


def test_one_cycle_from_open_to_published(app, live_server, page, tmp_path):  # noqa: F811
    demo.load(n_responses=300, seed=11)
    cycle = db.session.scalar(select(Cycle))
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    window = db.session.scalar(select(Link).where(Link.unit_id == units["W01011"].id))
    before = db.session.scalar(select(func.count()).select_from(Response))

    # a citizen rates a window on the phone
    page.goto(f"{live_server}/s/{window.code}")
    for group in page.locator("fieldset").all():
        options = group.locator(".opt")
        if options.count():
            options.first.tap()
    page.get_by_role("button", name="提交").tap()
    page.wait_for_url("**/thanks**")
    assert db.session.scalar(select(func.count()).select_from(Response)) == before + 1

    browser = page.context.browser
    admin = _signed_in(browser, live_server, "admin")
    admin.goto(f"{live_server}/admin/cycles/{cycle.id}/analysis?type=community")
    _submit(admin, admin.get_by_role("button", name="重新计算").first)
    admin.goto(f"{live_server}/admin/cycles/{cycle.id}/composite?type=community")
    _submit(admin, admin.get_by_role("button", name="重新计算并保存"))
    assert "已重新计算综合结果" in admin.content()

    # the street confirms its communities' scores, proposing one too high (its grade, ★★★★★,
    # follows from the score: nobody types it)
    street = _signed_in(browser, live_server, "s01")
    street.goto(f"{live_server}/admin/cycles/{cycle.id}/review?type=community")
    row = street.locator("tr", has_text="C0101")
    assert row.locator("select[name=grade]").count() == 0
    row.locator("input[name=score]").fill("93")
    _submit(street, row.get_by_role("button", name="确认申报"))
    assert "已申报" in street.content()
    for code in ("C0102", "C0103", "C0104"):
        _submit(street, street.locator("tr", has_text=code).get_by_role("button", name="确认申报"))
    assert db.session.scalar(select(func.count()).select_from(GradeProposal)) == 4
    street.screenshot(path=str(tmp_path / "review-street.png"), full_page=True)

    # the district draws its sample from a seed and re-reviews what it must
    district = _signed_in(browser, live_server, "inspector")
    district.goto(f"{live_server}/admin/cycles/{cycle.id}/review?type=community")
    district.fill("input[name=seed]", "20261201")
    _submit(district, district.get_by_role("button", name="抽取"))
    assert "随机种子 20261201" in district.content()
    row = district.locator("tr", has_text="C0101")
    assert "须复核" in row.inner_text()
    row.locator("input[name=score]").nth(-1).fill("84")
    row.locator("input[name=note]").nth(-1).fill("台账不全")
    _submit(district, row.get_by_role("button", name="保存复核"))
    assert "已保存复核得分" in district.content()
    # every other proposal the scores put in the mandatory set is re-reviewed too (at the
    # proposed score), or publication is refused
    for code in ("C0102", "C0103", "C0104"):
        row = district.locator("tr", has_text=code)
        if "待复核" in row.inner_text():
            proposed = db.session.scalar(
                select(GradeProposal.score)
                .join(Unit, GradeProposal.unit_id == Unit.id)
                .where(Unit.code == code)
            )
            row.locator("input[name=score]").nth(-1).fill(f"{proposed:g}")
            _submit(district, row.get_by_role("button", name="保存复核"))
            assert "已保存复核得分" in district.content()
    district.goto(f"{live_server}/admin/cycles/{cycle.id}/review/inflation?type=community")
    assert "申报得分平均高出" in district.content() and district.locator("figure img").count() == 1
    district.screenshot(path=str(tmp_path / "inflation.png"), full_page=True)

    # the admin closes the cycle and publishes, each after a confirmation page
    admin.goto(f"{live_server}/admin/cycles/{cycle.id}")
    _submit(admin, admin.get_by_role("link", name="已关闭"))
    assert "关闭后不再接受答卷" in admin.content()
    _submit(admin, admin.get_by_role("button", name="确认"))
    assert "周期状态已改为：已关闭" in admin.content()
    admin.goto(f"{live_server}/admin/cycles/{cycle.id}/composite?type=community")
    _submit(admin, admin.get_by_role("link", name="公示结果"))
    _submit(admin, admin.get_by_role("button", name="确认公示"))
    assert "结果已公示" in admin.content()
    public_url = admin.locator("main a").first.get_attribute("href")

    # anyone with the page sees the results and may object, on a phone
    page.goto(f"{live_server}{public_url}")
    assert "结果公示" in page.content() and "84" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.select_option("select[name=unit]", "C0101")
    page.fill("textarea[name=text]", "复核得分偏低，请说明")
    page.fill("input[name=contact]", "13900000000")
    with page.expect_navigation():
        page.get_by_role("button", name="提交").tap()
    assert "您的异议已收到" in page.content()
    page.screenshot(path=str(tmp_path / "disclosure.png"), full_page=True)
    objection = db.session.scalar(select(Objection))
    admin.goto(f"{live_server}/admin/cycles/{cycle.id}/objections?type=community")
    admin.locator("textarea[name=answer]").first.fill("复核发现台账不全，扣分有据。")
    _submit(admin, admin.get_by_role("button", name="答复").first)
    page.reload()
    assert "复核发现台账不全" in page.content() and "13900000000" not in page.content()

    # the community reads its report and downloads the PDF
    community = _signed_in(browser, live_server, "c0101")
    community.goto(f"{live_server}/admin/cycles/{cycle.id}/reports?type=community")
    _submit(community, community.get_by_role("link", name="查看"))
    assert "一对一反馈报告" in community.content() and "84" in community.content()
    assert "上级复核" in community.content()
    community.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    with community.expect_download() as got:
        community.get_by_role("link", name="下载 PDF").click()
    assert got.value.suggested_filename.endswith("-C0101-feedback.pdf")

    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).status == CycleStatus.CLOSED
    published = db.session.scalar(select(Publication))
    row = next(r for r in published.rows if r["unit"] == "C0101")
    assert row["score"] == 84 and row["source"] == "reviewed" and row["grade"] == "star4"
    assert db.session.get(Objection, objection.id).answer.startswith("复核发现")
