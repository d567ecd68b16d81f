"""Schemes and findings through the staff pages: import, publish, assign, record, read."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.extensions import db
from evalsurvey.models import CycleStatus, Finding, Role, SchemeVersion
from evalsurvey.scoring import parse_scheme
from evalsurvey.scoring.workbook import write_workbook
from tests import evidence_samples as samples
from tests.factories import hidden_fields, login, make_cycle, make_staff, make_unit

RUBRIC = Path(__file__).resolve().parents[2] / "evalsurvey/data/schemes/agency_branch_004.json"


def _csrf(client, url):
    return hidden_fields(client.get(url).get_data(as_text=True))


def test_import_publish_and_assign_through_the_pages(app, client):
    make_staff("adm")
    login(client, "adm")
    fields = _csrf(client, "/admin/schemes")
    resp = client.post(
        "/admin/schemes",
        data={**fields, "file": (io.BytesIO(RUBRIC.read_bytes()), "rubric.json")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    version = db.session.scalar(select(SchemeVersion))
    page = client.get(f"/admin/schemes/{version.id}").get_data(as_text=True)
    assert "组织建设" in page and "每缺一项扣 1 分，扣完为止" in page and "查阅资料" in page
    # the workbook imports too, as the next version
    xlsx = write_workbook(parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8"))))
    client.post(
        "/admin/schemes",
        data={**fields, "file": (io.BytesIO(xlsx), "rubric.xlsx")},
        content_type="multipart/form-data",
    )
    assert [v.label for v in db.session.scalars(select(SchemeVersion))] == [
        "AGENCY-BRANCH@1",
        "AGENCY-BRANCH@2",
    ]
    bad = json.loads(RUBRIC.read_text(encoding="utf-8"))
    bad["indicators"][0]["points"] = 18
    resp = client.post(
        "/admin/schemes",
        data={**fields, "file": (io.BytesIO(json.dumps(bad).encode()), "bad.json")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "方案有误（1）：下级指标分值合计" in html
    assert "children_sum" not in html  # the problem in words, not its code
    confirm = client.get(f"/admin/schemes/{version.id}/publish").get_data(as_text=True)
    client.post(f"/admin/schemes/{version.id}/publish", data=hidden_fields(confirm))
    db.session.refresh(version)
    assert version.published
    cycle = make_cycle()
    fields = _csrf(client, f"/admin/cycles/{cycle.id}/schemes")
    client.post(
        f"/admin/cycles/{cycle.id}/schemes",
        data={**fields, "unit_type": "agency_branch", "scheme": version.id},
    )
    assert scheme_domain.cycle_scheme(cycle, "agency_branch").id == version.id
    xlsx_download = client.get(f"/admin/schemes/{version.id}.xlsx")
    assert xlsx_download.data[:2] == b"PK"  # a real .xlsx (zip) file


def _assessed_cycle():
    version = scheme_domain.import_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    scheme_domain.freeze_scheme_version(version)
    cycle = make_cycle()
    scheme_domain.assign_scheme(cycle, "agency_branch", version)
    db.session.commit()
    return cycle, version


def test_an_inspector_records_findings_and_the_terms_add_up(app, client):
    cycle, version = _assessed_cycle()
    mine = make_unit("B1", type="agency_branch", name="机关一支部")
    other = make_unit("B2", type="agency_branch", name="机关二支部")
    make_staff("insp", Role.INSPECTOR)
    make_staff("contact", Role.UNIT_CONTACT, unit=mine)
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{mine.id}"
    page = client.get(url).get_data(as_text=True)
    assert "考核未完成：22 项未考核" in page
    fields = hidden_fields(page)
    scheme = scheme_domain.scheme_of(version)
    for element in scheme.elements():
        value = "1" if element.rule.type == "tiers" else "0"
        value = "2" if element.code == "1.1" else value
        resp = client.post(
            url, data={**fields, "element": element.code, "value": value, "note": ""}
        )
        assert resp.status_code == 302, element.code
    client.post(url, data={**fields, "element": "B1", "value": "province:1", "note": "省级采用"})
    client.post(url, data={**fields, "element": "P1", "value": "criticised:1", "note": ""})
    bad = client.post(url, data={**fields, "element": "1.2", "value": "lots", "note": ""})
    assert bad.status_code == 400 and "请填写缺少的项数" in bad.get_data(as_text=True)
    change = client.post(url, data={**fields, "element": "1.1", "value": "0", "note": ""})
    assert change.status_code == 400 and "必须填写原因" in change.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    # 100 − 2 (1.1) + 4 (B1, under the cap of 5) − 3 (P1) = 99
    assert "考评标准得分 99 分" in page and "要素得分合计 98" in page and "加分 4" in page
    assert "减分 3" in page and "减分 -3" not in page  # deducted 3, no double negative
    assert db.session.scalar(select(db.func.count()).select_from(Finding)) == 24
    # the unit's contact reads no result of the open cycle (only once published), never
    # another unit's page, and cannot record
    contact = app.test_client()
    login(contact, "contact")
    theirs = contact.get(url).get_data(as_text=True)
    assert "本单位的结果将在公示后显示。" in theirs and "要素得分合计" not in theirs
    assert contact.get(f"/admin/cycles/{cycle.id}/units/{other.id}").status_code == 403
    contact_fields = hidden_fields(contact.get(url).get_data(as_text=True))
    posted = contact.post(url, data={**contact_fields, "element": "1.1", "value": "3"})
    assert posted.status_code == 403
    overview = contact.get(f"/admin/cycles/{cycle.id}/assessment").get_data(as_text=True)
    assert "机关一支部" in overview and "机关二支部" not in overview


def test_a_published_cycle_takes_no_findings(app, client):
    cycle, _version = _assessed_cycle()
    unit = make_unit("B1", type="agency_branch")
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    cycle_domain.transition(cycle, CycleStatus.PUBLISHED)
    db.session.commit()
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}"
    page = client.get(url).get_data(as_text=True)
    assert "记录考核情况" not in page  # no form on a published cycle
    resp = client.post(url, data={**hidden_fields(page), "element": "1.1", "value": "1"})
    assert resp.status_code == 400 and "已公布的周期不能修改考核记录" in resp.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Finding)) == 0
    overview = client.get(f"/admin/cycles/{cycle.id}/assessment").get_data(as_text=True)
    assert re.search(r"未完成：22 项未考核", overview)  # never counted as 0 or full marks


def test_a_panel_sheet_from_the_scheme_and_no_one_rates_their_own_unit(app, client):
    from evalsurvey.domain.collecting import links as link_domain
    from evalsurvey.domain.errors import DomainError
    from evalsurvey.models import Questionnaire
    from tests.factories import make_link

    _cycle, version = _assessed_cycle()
    make_staff("adm")
    login(client, "adm")
    fields = _csrf(client, f"/admin/schemes/{version.id}")
    resp = client.post(
        f"/admin/schemes/{version.id}/panel-sheet", data={**fields, "per": "indicator"}
    )
    assert resp.status_code == 302
    sheet = db.session.scalar(
        select(Questionnaire).where(Questionnaire.code == "PANEL-AGENCY-BRANCH")
    )
    assert [(i.code, i.max_points) for i in sheet.items][:3] == [("p1", 17), ("p2", 5), ("p3", 15)]
    assert sum(i.max_points for i in sheet.items) == 100
    link = make_link(
        unit=make_unit("B7", type="agency_branch"), group="panel", mode="invite", record_rater=True
    )
    with pytest.raises(DomainError):
        link_domain.create_invitations(
            link, [{"name": "专家甲", "rater_code": "E1", "rater_unit": "B7"}]
        )
    page = _csrf(client, f"/admin/links/{link.id}/invitations")
    refused = client.post(
        f"/admin/links/{link.id}/invitations", data={**page, "people": "专家甲,a@x.org,E1,B7"}
    )
    assert refused.status_code == 200 and "不能为本单位评分" in refused.get_data(as_text=True)


def test_a_panel_sheet_asked_for_by_a_choice_the_page_does_not_offer_is_a_message(app, client):
    """Issue 16: the panel sheet's form reads ``per``; anything else is said, not guessed."""
    from evalsurvey.models import Questionnaire

    _cycle, version = _assessed_cycle()
    make_staff("adm")
    login(client, "adm")
    fields = _csrf(client, f"/admin/schemes/{version.id}")
    assert fields.get("per") is None  # a select: its choices are the page's
    resp = client.post(f"/admin/schemes/{version.id}/panel-sheet", data={**fields, "per": "x"})
    assert resp.status_code == 302 and resp.location.endswith(f"/admin/schemes/{version.id}")
    page = client.get(resp.location).get_data(as_text=True)
    assert "请选择按一级指标或按考核要素。" in page
    assert db.session.scalar(select(Questionnaire)) is None
    per_element = client.post(
        f"/admin/schemes/{version.id}/panel-sheet", data={**fields, "per": "element"}
    )
    assert per_element.status_code == 302
    sheet = db.session.scalar(select(Questionnaire))
    assert len(sheet.items) > 10  # an item per element, not per indicator


def test_evidence_is_checked_stored_and_served_only_within_scope(app, client):
    cycle, _version = _assessed_cycle()
    mine = make_unit("B1", type="agency_branch")
    other = make_unit("B2", type="agency_branch")
    make_staff("insp", Role.INSPECTOR)
    make_staff("contact", Role.UNIT_CONTACT, unit=other)
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{mine.id}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    pdf = samples.pdf(200_000)  # larger than the 64 KiB other bodies may be

    def post(data: bytes, name: str):
        return client.post(
            url,
            data={
                **fields,
                "element": "1.1",
                "value": "1",
                "note": "",
                "evidence": (io.BytesIO(data), name),
            },
            content_type="multipart/form-data",
        )

    assert post(b"MZ\x90\x00 not a pdf", "plan.pdf").status_code == 400  # renamed program
    assert post(b"hello", "notes.exe").status_code == 400
    assert post(pdf, "plan.pdf").status_code == 302
    found = db.session.scalar(select(Finding))
    assert found.evidence.endswith(".pdf") and "plan" not in found.evidence
    with client.get(f"/admin/findings/{found.id}/evidence") as got:
        assert got.status_code == 200 and got.data == pdf and got.mimetype == "application/pdf"
    contact = app.test_client()
    login(contact, "contact")
    assert contact.get(f"/admin/findings/{found.id}/evidence").status_code == 403
    assert client.post(url, data={"x": "y" * 100_000}).status_code == 400  # CSRF, not 413
