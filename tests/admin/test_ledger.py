"""The rectification ledger: items from deductions and bad reviews, working-day deadlines,
the unit answers, only a reviewer closes, with evidence and a note."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from evalsurvey.domain.assessment import ledger as ledger_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.extensions import db
from evalsurvey.models import RectificationItem, Role
from evalsurvey.models.types import utcnow
from evalsurvey.scoring.workdays import add_working_days
from tests import evidence_samples as samples
from tests.admin.test_assessment import _assessed_cycle
from tests.factories import hidden_fields, login, make_link, make_response, make_staff, make_unit

# deadlines a person may give: days to come, whenever the suite runs
DUE = (date.today() + timedelta(days=60)).isoformat()
DUE_EARLIER = (date.today() + timedelta(days=59)).isoformat()
DUE_LATER = (date.today() + timedelta(days=90)).isoformat()


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
    late = (utcnow() - timedelta(days=2)).date().isoformat()  # a deadline already past
    refused = client.post(
        url, data={**fields, "status": "open", "owner": "支部书记", "due_on": late}
    )
    assert "整改期限不能早于今天。" in refused.get_data(as_text=True)
    client.post(url, data={**fields, "status": "open", "owner": "支部书记", "due_on": DUE})
    db.session.refresh(item)
    assert item.status == "open" and item.owner == "支部书记"
    item.due_on = (utcnow() - timedelta(days=2)).date()  # time passes: now it is late
    db.session.commit()
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
    from evalsurvey.domain.assessment import publication as publication_domain
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
    client.post(url, data={**fields, "status": "open", "owner": "书记", "due_on": DUE})
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


def _many_items(n: int = 91):
    """``n`` proposed items from deductions over seven communities, as the office meets them."""
    from tests.factories import make_cycle

    cycle = make_cycle()
    units = [make_unit(f"C{k:02d}", type="community", name=f"第{k}社区") for k in range(1, 8)]
    for k in range(n):
        db.session.add(
            RectificationItem(
                cycle_id=cycle.id,
                unit_id=units[k % 7].id,
                source="deduction",
                reference=f"{k // 7 + 1}.1",
                title=f"第{k + 1}项问题",
                detail="1 / 2",
            )
        )
    db.session.commit()
    return cycle


def _boxes(html: str, checked: bool | None = None) -> list[int]:
    """The item ids of the page's boxes (only the ticked ones with ``checked``)."""
    found = re.findall(r'<input type="checkbox" name="items" value="(\d+)"[^>]*>', html)
    tags = re.findall(r'<input type="checkbox" name="items" value="\d+"[^>]*>', html)
    return [int(i) for i, t in zip(found, tags, strict=True) if checked is None or
            (" checked" in t) == checked]  # fmt: skip


def _items(ids) -> list[RectificationItem]:
    db.session.expire_all()
    return list(db.session.scalars(select(RectificationItem).where(RectificationItem.id.in_(ids))))


def test_many_items_confirmed_assigned_and_closed_in_one_post_each(app, client):
    """QA (issue 17): 91 items had to be confirmed one page at a time. Now a page of 50 with
    "select all on this page"; one post confirms, assigns or closes every ticked item, all
    or nothing, a refusal shown by its item."""
    cycle = _many_items()
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/ledger"
    first = client.get(url).get_data(as_text=True)
    assert len(_boxes(first)) == 50 and _boxes(first, checked=True) == []
    assert "第 1 / 2 页，共 91 条" in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert len(_boxes(second)) == 41
    # "select all on this page" without JavaScript: the same page, every box ticked
    ticked = _boxes(client.get(f"{url}?all=1").get_data(as_text=True), checked=True)
    assert ticked == _boxes(first)
    token = hidden_fields(first)["csrf_token"]

    def bulk(action, ids, **fields):
        return client.post(
            url, data={"csrf_token": token, "action": action, "items": [str(i) for i in ids],
                       **fields}
        )  # fmt: skip

    # a deadline already past (a typo in the year): refused, nothing confirmed (QA)
    past = bulk("confirm", ticked, owner="王主任", due_on="2020-01-01")
    assert "整改期限不能早于今天。" in past.get_data(as_text=True)
    assert {i.status for i in _items(ticked)} == {"proposed"}
    # confirm the whole first page at once
    done = bulk("confirm", ticked, owner="支部书记", due_on=DUE)
    assert done.status_code == 302
    assert "已确认 50 个整改项。" in client.get(url).get_data(as_text=True)
    items = _items(ticked)
    assert {(i.status, i.owner, str(i.due_on)) for i in items} == {("open", "支部书记", DUE)}
    # the second page: one already open among them -> refused by that item, nothing stored
    rest = _boxes(second)
    mixed = [*rest[:10], ticked[0]]
    refused = bulk("confirm", mixed, owner="主任", due_on=DUE_EARLIER, page="2")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "1 个整改项不能处理，所选各项均未保存" in html
    assert set(_boxes(html, checked=True)) == set(rest[:10])  # page 2 again, ticks kept
    # the refused item is on page 1: named with its reason above the table
    assert f'/admin/ledger/{ticked[0]}">第' in html and "只有待确认的整改项可以确认。" in html
    same_page = bulk("confirm", [rest[0], rest[1]], owner="主任", page="2")
    html = same_page.get_data(as_text=True)
    row = html[html.index(f'id="item-{rest[0]}"') :]
    assert "确认整改项需要指定责任人和期限。" in row[: row.index("</tr>")]
    assert {i.status for i in _items(rest[:10])} == {"proposed"}
    # no owner or deadline given, none assigned earlier: refused by each item
    missing = bulk("confirm", rest[:3])
    assert missing.status_code == 400
    assert missing.get_data(as_text=True).count("确认整改项需要指定责任人和期限。") == 3
    # nothing ticked: said once
    assert "请先勾选整改项。" in bulk("confirm", []).get_data(as_text=True)
    # assign: the owner only, on items open and proposed alike; deadlines and statuses kept
    assigned = bulk("assign", [*ticked[:5], *rest[:5]], owner="副书记")
    assert assigned.status_code == 302
    changed = _items([*ticked[:5], *rest[:5]])
    assert {i.owner for i in changed} == {"副书记"}
    assert {i.status for i in changed} == {"open", "proposed"}
    assert {str(i.due_on) for i in changed if i.status == "open"} == {DUE}
    # then confirming the proposed ones takes the owner assigned and the deadline given
    assert bulk("confirm", rest[:5], due_on=DUE_LATER).status_code == 302
    assert {(i.status, i.owner) for i in _items(rest[:5])} == {("open", "副书记")}
    # close: three submitted by the unit, one without evidence -> none closed
    three = _items(ticked[:3])
    for item in three:
        ledger_domain.move(item, "submitted", "contact", reviewer=False, note="已整改")
    three[0].evidence, three[1].evidence = "a.pdf", "b.pdf"
    db.session.commit()
    no_note = bulk("close", ticked[:2])
    assert no_note.status_code == 400 and "请填写情况说明。" in no_note.get_data(as_text=True)
    closing = bulk("close", ticked[:3], note="核实无误")
    html = closing.get_data(as_text=True)
    assert closing.status_code == 400
    row = html[html.index(f'id="item-{ticked[2]}"') :]
    assert "销号必须有佐证材料。" in row[: row.index("</tr>")]
    assert {i.status for i in _items(ticked[:3])} == {"submitted"}
    assert bulk("close", ticked[:2], note="核实无误").status_code == 302
    assert {(i.status, i.closed_by) for i in _items(ticked[:2])} == {("closed", "insp")}
    # a posted value no page sends: a message on the page, nothing changed, never a 500
    for action, ids in (("delete", ticked[2:3]), ("close", ["abc"]), ("close", ["9" * 30])):
        odd = bulk(action, ids, note="核实无误")
        assert odd.status_code == 400, (action, ids)
        text = odd.get_data(as_text=True)
        assert "请选择要执行的操作" in text or "所选整改项无效" in text
    assert _items(ticked[2:3])[0].status == "submitted"
    # the unit's contact has no boxes and may not post
    make_staff("viewer1", Role.VIEWER)
    other = app.test_client()
    login(other, "viewer1")
    assert 'name="items"' not in other.get(url).get_data(as_text=True)
    vtoken = hidden_fields(other.get(url).get_data(as_text=True))["csrf_token"]
    assert other.post(url, data={"csrf_token": vtoken, "action": "confirm",
                                 "items": [str(rest[6])]}).status_code == 403  # fmt: skip


def test_the_status_list_changes_nothing_unless_chosen_and_never_drops(app, client):
    """QA (issue 17): the list defaulted to "不予立项", so filling the owner and deadline and
    pressing 保存 dropped the item with no way back."""
    cycle = _many_items(1)
    item = db.session.scalar(select(RectificationItem))
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    url = f"/admin/ledger/{item.id}"
    html = client.get(url).get_data(as_text=True)
    select_box = html[html.index('<select id="status"') : html.index("</select>")]
    options = re.findall(r'<option([^>]*)value="([^"]*)"', select_box)
    assert [v for _, v in options] == ["", "open"]  # no change first; dropping is elsewhere
    assert "不改变（现为“待确认”）" in select_box and "不予立项" not in select_box
    token = hidden_fields(html)["csrf_token"]
    # the browser sends the first option: the owner and deadline saved, still proposed
    saved = client.post(url, data={"csrf_token": token, "status": "", "owner": "书记",
                                   "due_on": DUE})  # fmt: skip
    assert saved.status_code == 302
    db.session.refresh(item)
    assert (item.status, item.owner, str(item.due_on)) == ("proposed", "书记", DUE)
    assert "已保存，状态未变（待确认）。" in client.get(url).get_data(as_text=True)
    # nothing changed: said so
    same = client.post(url, data={"csrf_token": token, "status": "", "owner": "书记",
                                  "due_on": DUE})  # fmt: skip
    assert same.status_code == 400 and "没有要保存的修改" in same.get_data(as_text=True)
    # a posted "dropped" is not a choice
    dropped = client.post(url, data={"csrf_token": token, "status": "dropped"})
    assert dropped.status_code == 400
    db.session.refresh(item)
    assert item.status == "proposed"
    assert cycle.id


def test_dropping_asks_first_and_a_reviewer_can_restore_it(app, client):
    from evalsurvey.models import AuditLog

    _many_items(1)
    item = db.session.scalar(select(RectificationItem))
    unit = item.unit
    make_staff("insp", Role.INSPECTOR)
    make_staff("adm")
    make_staff("contact", Role.UNIT_CONTACT, unit=unit)
    login(client, "insp")
    url = f"/admin/ledger/{item.id}"
    assert f"/admin/ledger/{item.id}/drop" in client.get(url).get_data(as_text=True)
    ask = client.get(f"{url}/drop")
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "确认不予立项" in html and "可以随后恢复" in html
    db.session.refresh(item)
    assert item.status == "proposed"  # asking changed nothing
    token = hidden_fields(html)["csrf_token"]
    no_reason = client.post(f"{url}/drop", data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 400 and "请填写原因。" in no_reason.get_data(as_text=True)
    done = client.post(f"{url}/drop", data={"csrf_token": token, "reason": "与第2项重复"})
    assert done.status_code == 302
    db.session.refresh(item)
    assert (item.status, item.note) == ("dropped", "与第2项重复")
    page = client.get(url).get_data(as_text=True)
    assert "恢复为待确认" in page and 'id="status"' not in page
    # the unit cannot restore it; a reviewer (here the admin) can, and the log says who
    contact = app.test_client()
    login(contact, "contact")
    ctoken = hidden_fields(contact.get("/admin/").get_data(as_text=True)).get("csrf_token", token)
    assert contact.post(f"{url}/restore", data={"csrf_token": ctoken}).status_code == 403
    admin = app.test_client()
    login(admin, "adm")
    atoken = hidden_fields(admin.get(url).get_data(as_text=True))["csrf_token"]
    assert admin.post(f"{url}/restore", data={"csrf_token": atoken}).status_code == 302
    db.session.refresh(item)
    assert item.status == "proposed"
    assert "已恢复为待确认。" in admin.get(url).get_data(as_text=True)
    log = list(
        db.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == "RectificationItem", AuditLog.entity_id == item.id)
            .order_by(AuditLog.id)
        )
    )
    moves = [(r.actor, r.changes["status"]) for r in log if r.action == "update"]
    assert moves == [("insp", ["proposed", "dropped"]), ("adm", ["dropped", "proposed"])]
    assert any(r.action == "drop" and r.changes["reason"][1] == "与第2项重复" for r in log)
    # and the drop is in words on the audit page
    assert "不予立项" in admin.get("/admin/audit").get_data(as_text=True)
