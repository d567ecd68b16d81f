"""The rectification ledger: items from deductions and bad reviews, working-day deadlines,
the unit answers, only a reviewer closes, with evidence and a note."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from evalsurvey.domain import ledger as ledger_domain
from evalsurvey.domain import schemes as scheme_domain
from evalsurvey.extensions import db
from evalsurvey.models import RectificationItem, Role
from evalsurvey.models.types import utcnow
from evalsurvey.scoring.workdays import add_working_days
from tests import evidence_samples as samples
from tests.admin.test_assessment import _assessed_cycle
from tests.factories import hidden_fields, login, make_link, make_response, make_staff, make_unit


def test_working_days_skip_weekends_and_holidays():
    friday = date(2026, 10, 2)
    assert add_working_days(friday, 1) == date(2026, 10, 5)  # over the weekend to Monday
    assert add_working_days(friday, 1, {date(2026, 10, 5)}) == date(2026, 10, 6)  # a holiday
    assert add_working_days(date(2026, 11, 23), 15) == date(2026, 12, 14)  # three weeks
    with pytest.raises(ValueError):
        add_working_days(friday, -1)


def test_the_propose_button_says_how_many_items_or_why_none(app, client):
    """The ledger page's button: one transaction, its count or the refusal flashed."""
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch", name="机关一支部")
    for element in scheme_domain.scheme_of(version).elements():
        value = "1" if element.rule.type == "tiers" else ("2" if element.code == "1.1" else "0")
        scheme_domain.record_finding(cycle, unit, element.code, value, "", "insp")
    db.session.commit()
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    page = f"/admin/cycles/{cycle.id}/ledger"
    token = hidden_fields(client.get(page).get_data(as_text=True))["csrf_token"]
    made = client.post(f"{page}/propose", data={"csrf_token": token, "type": "agency_branch"})
    assert made.status_code == 302
    assert "已生成 1 个整改项。" in client.get(page).get_data(as_text=True)
    refused = client.post(f"{page}/propose", data={"csrf_token": token, "type": "community"})
    assert refused.status_code == 302
    assert "本周期尚未为该类型单位指定考核方案。" in client.get(page).get_data(as_text=True)
    assert len(db.session.scalars(select(RectificationItem)).all()) == 1


def test_items_from_deductions_worked_by_the_unit_closed_by_a_reviewer(app, client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch", name="机关一支部")
    scheme = scheme_domain.scheme_of(version)
    for element in scheme.elements():
        value = "1" if element.rule.type == "tiers" else ("2" if element.code == "1.1" else "0")
        scheme_domain.record_finding(cycle, unit, element.code, value, "", "insp")
    db.session.commit()
    assert ledger_domain.propose_from_deductions(cycle, "agency_branch") == 1
    assert ledger_domain.propose_from_deductions(cycle, "agency_branch") == 0  # once
    item = db.session.scalar(select(RectificationItem))
    assert item.reference == "1.1" and item.status == "proposed"
    make_staff("insp", Role.INSPECTOR)
    make_staff("contact", Role.UNIT_CONTACT, unit=unit)
    login(client, "insp")
    url = f"/admin/ledger/{item.id}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    missing = client.post(url, data={**fields, "status": "open", "note": ""})
    assert missing.status_code == 400 and "责任人和期限" in missing.get_data(as_text=True)
    due = (utcnow() - timedelta(days=2)).date().isoformat()  # already late
    client.post(url, data={**fields, "status": "open", "owner": "支部书记", "due_on": due})
    db.session.refresh(item)
    assert item.status == "open" and item.owner == "支部书记"
    assert "已逾期" in client.get(f"/admin/cycles/{cycle.id}/ledger").get_data(as_text=True)
    # the unit answers and submits; it cannot close
    contact = app.test_client()
    login(contact, "contact")
    cfields = hidden_fields(contact.get(url).get_data(as_text=True))
    closing = contact.post(url, data={**cfields, "status": "closed", "note": "已整改"})
    assert closing.status_code == 400
    contact.post(
        url,
        data={**cfields, "status": "submitted", "note": "已补齐分工记录",
              "evidence": (io.BytesIO(samples.pdf()), "record.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    db.session.refresh(item)
    assert item.status == "submitted" and item.evidence
    # the reviewer closes it with a note; the evidence is there
    client.post(url, data={**fields, "status": "closed", "note": "核实无误，予以销号"})
    db.session.refresh(item)
    assert item.status == "closed" and item.closed_by == "insp"


def test_closing_needs_evidence_and_bad_reviews_get_follow_ups(app):
    app.config.update(REVIEW_VISIT_DAYS=2, REVIEW_FIX_DAYS=10, HOLIDAYS=["2026-11-23"])
    link = make_link(unit=make_unit("W1"))
    friday = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 on a Friday in Beijing
    bad = make_response(link, {"attitude": 1, "speed": 3}, when=friday)
    bad.comment = "等了两个小时没人管"
    make_response(link, {"attitude": 5, "speed": 5}).comment = "很好"
    make_response(link, {"attitude": 2, "speed": 2})  # no comment: nothing to follow up
    db.session.commit()
    assert ledger_domain.follow_up_bad_reviews(link.cycle) == 1
    item = db.session.scalar(select(RectificationItem))
    assert item.title == "等了两个小时没人管" and item.status == "open"
    # two working days after Friday, skipping the weekend and Monday's holiday: Wednesday;
    # ten: Monday, 7 December
    assert item.visit_due_on == date(2026, 11, 25) and item.due_on == date(2026, 12, 7)
    ledger_domain.move(item, "submitted", "contact", reviewer=False, note="已回访")
    with pytest.raises(Exception, match="佐证材料"):
        ledger_domain.move(item, "closed", "insp", reviewer=True, note="销号")


def test_items_from_results_reach_a_contact_once_published_or_confirmed(app, client):
    """QA defect 2 (issue 20): before publication a community's contact read which indicators
    its unit lost points on, as proposed "考核扣分" items on its dashboard and ledger. Such an
    item reaches the unit once the results are published, or once a reviewer confirms it
    (then the unit works on it, as above) — its points still only after publication."""
    from evalsurvey import demo
    from evalsurvey.domain import cycles as cycle_domain
    from evalsurvey.domain import publication as publication_domain
    from evalsurvey.models import Cycle, CycleStatus, Unit

    demo.load(n_responses=200, seed=5)
    cycle = db.session.scalar(select(Cycle))
    unit = db.session.scalar(select(Unit).where(Unit.code == "C0101"))
    mine = list(
        db.session.scalars(
            select(RectificationItem).where(
                RectificationItem.unit_id == unit.id, RectificationItem.source == "deduction"
            )
        )
    )
    assert len(mine) >= 2 and {i.status for i in mine} == {"proposed"}
    first, rest = mine[0], mine[1:]
    password = "admin-demo-2026"
    contact = app.test_client()
    login(contact, "c0101", password)
    ledger = f"/admin/cycles/{cycle.id}/ledger"
    dashboard = f"/admin/cycles/{cycle.id}/units/{unit.id}/dashboard"

    def shown(page: str) -> set[int]:
        return {i.id for i in mine if f'/admin/ledger/{i.id}"' in page}

    for url in (ledger, dashboard):
        page = contact.get(url).get_data(as_text=True)
        assert shown(page) == set() and "考核扣分" not in page, url
    assert contact.get(f"/admin/ledger/{first.id}").status_code == 404
    assert contact.get(f"/admin/ledger/{first.id}/evidence").status_code == 404
    # the office sees them all, and is told that confirming hands the item to the unit
    login(client, "admin", password)
    assert shown(client.get(ledger).get_data(as_text=True)) == {i.id for i in mine}
    url = f"/admin/ledger/{first.id}"
    office_page = client.get(url).get_data(as_text=True)
    assert "确认后，单位即可看到这个整改项" in office_page
    fields = hidden_fields(office_page)
    client.post(url, data={**fields, "status": "open", "owner": "书记", "due_on": "2026-12-31"})
    db.session.refresh(first)
    assert first.status == "open"
    # confirmed: the unit sees it and may work on it, without its points
    for page_url in (ledger, dashboard):
        assert shown(contact.get(page_url).get_data(as_text=True)) == {first.id}, page_url
    item_page = contact.get(url).get_data(as_text=True)
    assert first.title in item_page and first.detail not in item_page
    cfields = hidden_fields(item_page)
    moved = contact.post(url, data={**cfields, "status": "in_progress", "note": ""})
    assert moved.status_code == 302
    # published: every item, with its points
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    publication_domain.publish_results(cycle, "community", "admin")
    db.session.commit()
    assert shown(contact.get(ledger).get_data(as_text=True)) == {i.id for i in mine}
    assert first.detail in contact.get(url).get_data(as_text=True)
    assert contact.get(f"/admin/ledger/{rest[0].id}").status_code == 200
