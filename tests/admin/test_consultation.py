"""Department consultation: a department proposes a penalty or a veto, only the office
decides, and an approved one changes the result with its explanation."""

from __future__ import annotations

import pytest

from evalsurvey.domain.assessment import consultation as consultation_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import Adjustment, RectificationItem, Role
from tests import evidence_samples as samples
from tests.admin.test_assessment import _assessed_cycle
from tests.factories import hidden_fields, login, make_staff, make_unit


def _complete(cycle, version, unit):
    for element in scheme_domain.scheme_of(version).elements():
        value = "1" if element.rule.type == "tiers" else "0"
        scheme_domain.record_finding(cycle, unit, element.code, value, "", "insp")
    db.session.commit()


def test_a_department_proposes_and_only_the_office_decides(app, client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    _complete(cycle, version, unit)
    make_staff("petitions", Role.DEPARTMENT)
    make_staff("adm")
    dept = app.test_client()
    login(dept, "petitions")
    url = f"/admin/cycles/{cycle.id}/consultation"
    fields = hidden_fields(dept.get(url).get_data(as_text=True))
    bad = dept.post(url, data={**fields, "action": "submit", "unit": "B1", "item": "1.1",
                               "value": "1", "reason": "x"}, follow_redirects=True)  # fmt: skip
    assert "只能提出加分项、减分项或否决项" in bad.get_data(as_text=True)
    dept.post(url, data={**fields, "action": "submit", "unit": "B1", "item": "P1",
                         "value": "criticised:1", "reason": "群众来信反映属实"})  # fmt: skip
    adjustment = db.session.scalar(db.select(Adjustment))
    assert adjustment.status == "pending"
    # the department cannot approve its own adjustment
    denied = dept.post(url, data={**fields, "action": "approve", "adjustment": adjustment.id,
                                  "decision": "同意"})  # fmt: skip
    assert denied.status_code == 403
    before = scheme_domain.unit_type_results(cycle, "agency_branch").units["B1"].total
    login(client, "adm")
    afields = hidden_fields(client.get(url).get_data(as_text=True))
    # approving is a confirmation step (it changes the unit's score): the list's button
    # only leads there, and nothing is decided by it
    confirm = f"{url}/{adjustment.id}/approve"
    sent = client.post(url, data={**afields, "action": "approve", "adjustment": adjustment.id,
                                  "decision": "经核实，同意扣分"})  # fmt: skip
    assert sent.status_code == 303 and sent.headers["Location"].endswith(confirm)
    db.session.refresh(adjustment)
    assert adjustment.status == "pending"
    page = client.get(confirm).get_data(as_text=True)
    # what will change: the unit, the item's record and its points, the department's reason
    assert "B1" in page and "criticised:1" in page and "-3" in page and "群众来信反映属实" in page
    assert "加分上限" not in page  # a penalty: the bonus cap says nothing about it (QA)
    cfields = hidden_fields(page)
    empty = client.post(confirm, data={**cfields, "decision": "  "})
    assert empty.status_code == 400 and "请填写原因" in empty.get_data(as_text=True)
    db.session.refresh(adjustment)
    assert adjustment.status == "pending"
    client.post(confirm, data={**cfields, "decision": "经核实，同意扣分"})
    db.session.refresh(adjustment)
    assert adjustment.status == "approved" and adjustment.decided_by == "adm"
    # decided once: its confirmation page sends the office back with a message
    again = client.get(confirm, follow_redirects=True)
    assert again.status_code == 200 and "该申请已处理" in again.get_data(as_text=True)
    # a decision without a proposal id is simply not found, nor a proposal of no row
    assert client.get(f"{url}/999999/reject").status_code == 404
    token = {"csrf_token": afields["csrf_token"]}
    nothing = client.post(url, data={**token, "action": "approve", "decision": "同意"})
    assert nothing.status_code == 404
    after = scheme_domain.unit_type_results(cycle, "agency_branch").units["B1"]
    assert after.total == before - 3 and after.penalties == -3
    finding = db.session.scalar(db.select(scheme_domain.Finding).where(
        scheme_domain.Finding.element == "P1"))  # fmt: skip
    assert "petitions: 群众来信反映属实" in finding.note
    # the problem becomes a ledger item to follow up
    item = db.session.scalar(db.select(RectificationItem))
    assert item.source == "consultation" and item.unit_id == unit.id and "P1" in item.title
    assert item.title == "P1 群众来信反映属实"  # the department's finding, not the decision


def test_rejections_change_nothing_and_occurrences_add_up(app):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    _complete(cycle, version, unit)
    first = consultation_domain.submit_adjustment(cycle, unit, "P1", "criticised:1", "一", "dept")
    second = consultation_domain.submit_adjustment(cycle, unit, "P1", "criticised:2", "二", "dept")
    veto = consultation_domain.submit_adjustment(cycle, unit, "V1", "1", "重大事故", "dept")
    consultation_domain.decide(first, True, "同意", "adm")
    consultation_domain.decide(second, True, "同意", "adm")
    consultation_domain.decide(veto, False, "未经核实", "adm")
    with pytest.raises(DomainError):
        consultation_domain.decide(veto, True, "改为同意", "adm")  # decided once
    db.session.commit()
    result = scheme_domain.unit_type_results(cycle, "agency_branch").units["B1"]
    assert result.penalties == -9 and result.vetoes == ()
    with pytest.raises(DomainError):
        own = consultation_domain.submit_adjustment(cycle, unit, "P1", "criticised:1", "三", "x")
        consultation_domain.decide(own, True, "同意", "x")
    items = db.session.scalars(db.select(RectificationItem)).all()
    assert [i.reference for i in items] == [f"A{first.id}", f"A{second.id}"]  # not the rejected


def test_a_department_attaches_evidence_only_the_office_and_it_can_open(app, client):
    import io

    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    _complete(cycle, version, unit)
    make_staff("petitions", Role.DEPARTMENT)
    make_staff("discipline", Role.DEPARTMENT)
    make_staff("adm")
    make_staff("contact", Role.UNIT_CONTACT, unit=unit)
    login(client, "petitions")
    url = f"/admin/cycles/{cycle.id}/consultation"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    pdf = samples.pdf()
    letter = (io.BytesIO(pdf), "letter.pdf")
    data = {**fields, "action": "submit", "unit": "B1", "item": "P1", "value": "criticised:1",
            "reason": "来信属实", "evidence": letter}  # fmt: skip
    client.post(url, data=data, content_type="multipart/form-data")
    renamed = {**data, "evidence": (io.BytesIO(b"MZ\x90\x00"), "letter.pdf")}
    refused = client.post(url, data=renamed, content_type="multipart/form-data",
                          follow_redirects=True)  # fmt: skip
    assert "文件内容与扩展名不符" in refused.get_data(as_text=True)
    adjustment = db.session.scalar(db.select(Adjustment))
    assert db.session.scalar(db.select(db.func.count()).select_from(Adjustment)) == 1
    evidence = f"/admin/adjustments/{adjustment.id}/evidence"
    with client.get(evidence) as got:
        assert got.data == pdf
    for who, status in (("discipline", 403), ("contact", 403), ("adm", 200)):
        other = app.test_client()
        login(other, who)
        with other.get(evidence) as got:
            assert got.status_code == status


def test_rejecting_asks_for_a_reason_on_its_own_page(app, client):
    cycle, version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    _complete(cycle, version, unit)
    adjustment = consultation_domain.submit_adjustment(
        cycle, unit, "V1", "1", "重大事故", "petitions"
    )
    db.session.commit()
    make_staff("adm")
    login(client, "adm")
    url = f"/admin/cycles/{cycle.id}/consultation"
    listing = client.get(url).get_data(as_text=True)
    confirm = f"{url}/{adjustment.id}/reject"
    assert confirm in listing  # the row leads to the confirmation page
    page = client.get(confirm + "?lang=en").get_data(as_text=True)
    assert "Reject" in page and "重大事故" in page  # the department's reason is data
    fields = hidden_fields(page)
    refused = client.post(confirm + "?lang=en", data={**fields, "decision": ""})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "reason for rejecting" in text.lower() and "请填写" not in text
    db.session.refresh(adjustment)
    assert adjustment.status == "pending"
    client.post(confirm, data={**fields, "decision": "未经核实"})
    db.session.refresh(adjustment)
    assert adjustment.status == "rejected" and adjustment.decision == "未经核实"
    result = scheme_domain.unit_type_results(cycle, "agency_branch").units["B1"]
    assert result.vetoes == ()
    # a bad value in the list's post is a message or not found, never a crash
    token = {"csrf_token": fields["csrf_token"]}
    for bad in ("abc", "-1", "99999999999999999999"):
        sent = client.post(url, data={**token, "action": "reject", "adjustment": bad})
        assert sent.status_code == 404
    odd = client.post(url, data={**token, "action": "delete"}, follow_redirects=True)
    assert odd.status_code == 200 and "That is not allowed." in odd.get_data(as_text=True)
