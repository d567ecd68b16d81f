"""Consultation with pickers (issue 17): a department picks the unit (those it may propose
for) and the bonus, penalty or veto item of that unit type's scheme; the page states each
item's rule in words and how its value is written, and the example it shows is one the
item accepts — for every item of both shipped schemes, posted through the page."""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from pathlib import Path

from sqlalchemy import func, select

from evalsurvey.domain.assessment import grades
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.extensions import db
from evalsurvey.models import Adjustment, Finding, RectificationItem, Role
from tests import evidence_samples as samples
from tests.factories import hidden_fields, login, make_cycle, make_staff, make_unit

SCHEMES = Path(__file__).resolve().parents[2] / "evalsurvey" / "data" / "schemes"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def _seeded_cycle():
    """A cycle assessing communities and agency branches with the two shipped schemes."""
    cycle = make_cycle()
    for name, unit_type in (("community_002", "community"), ("agency_branch_004", "agency_branch")):
        version = scheme_domain.import_scheme(
            json.loads((SCHEMES / f"{name}.json").read_text(encoding="utf-8"))
        )
        scheme_domain.freeze_scheme_version(version)
        scheme_domain.assign_scheme(cycle, unit_type, version)
    grades.set_rules(cycle, "community", grades.DEFAULT_STARS)
    db.session.commit()
    return cycle


def _options(page: str, select_id: str) -> list[dict[str, str]]:
    """The options of a select, each as its attributes plus its text."""
    body = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S).group(1)
    out = []
    for attrs, text in re.findall(r"<option([^>]*)>([^<]*)</option>", body):
        found = {k: html_lib.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', attrs)}
        found["text"] = html_lib.unescape(text)
        if re.search(r"\sselected(\s|$)", attrs):
            found["selected"] = "selected"
        out.append(found)
    return out


def _setup(client):
    cycle = _seeded_cycle()
    community = make_unit("C1", type="community", name="幸福社区")
    branch = make_unit("B1", type="agency_branch", name="机关一支部")
    make_unit("W1", type="service_window", name="政务窗口")  # no scheme in this cycle
    make_unit("C9", type="community", name="撤并社区", active=False)
    make_staff("petitions", Role.DEPARTMENT)
    login(client, "petitions")
    return cycle, community, branch, f"/admin/cycles/{cycle.id}/consultation"


def test_every_items_example_is_accepted_through_the_pickers(app, client):
    cycle, community, branch, url = _setup(client)
    page = client.get(url).get_data(as_text=True)
    units = _options(page, "unit")
    assert [(u["value"], u.get("data-type")) for u in units] == [
        ("", None), ("B1", "agency_branch"), ("C1", "community")]  # fmt: skip
    items = [o for o in _options(page, "item") if o["value"]]
    codes = {o["value"] for o in items}
    assert codes == {"community/B1", "community/P1", "community/V1", "agency_branch/B1",
                     "agency_branch/B2", "agency_branch/B3", "agency_branch/P1",
                     "agency_branch/P2", "agency_branch/P3", "agency_branch/P4",
                     "agency_branch/V1"}  # fmt: skip
    penalty = next(o for o in items if o["value"] == "agency_branch/P2")
    assert penalty["text"].startswith("减分 P2 ")
    # categories by name (issue 17: no scheme code on the page), and a value written with them
    assert (
        penalty["data-rule"]
        == "每次计分：警告或记过 -5，撤职或降级 -10，留党（用）察看 -15，开除 -20"
    )
    assert "类别:次数" in penalty["data-hint"] and "警告或记过" in penalty["data-hint"]
    assert "warning" not in penalty["data-hint"] and penalty["data-example"] == "警告或记过:1"
    veto = next(o for o in items if o["value"] == "community/V1")
    # the grades it bars by the labels of the cycle's rules (the shipped scheme's star5, star4)
    assert veto["data-rule"] == "否决：扣 20 分，且不得评为★★★★★，★★★★"
    assert veto["data-example"] == "1"
    fields = hidden_fields(page)
    for n, option in enumerate(items, start=1):
        unit_type = option["data-type"]
        unit = community if unit_type == "community" else branch
        posted = client.post(url, data={**fields, "action": "submit", "unit": unit.code,
                                        "item": option["value"], "value": option["data-example"],
                                        "reason": f"核实属实 {n}"})  # fmt: skip
        assert posted.status_code == 302, (option, posted.get_data(as_text=True)[:3000])
        found = db.session.scalar(select(Adjustment).order_by(Adjustment.id.desc()))
        assert (found.unit_id, found.item, found.value) == (
            unit.id, option["value"].split("/")[1], option["data-example"])  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(Adjustment)) == len(items)
    # the examples the issue named: the hint's own and the agency scheme's (by name now)
    assert next(o for o in items if o["value"] == "agency_branch/P1")["data-example"] == (
        "通报批评或约谈:1"
    )
    # a value written with the code, the Chinese or the English name is the same value
    from evalsurvey.scoring.findings import parse_value
    from evalsurvey.scoring.schemes import Rule

    rule = Rule("per_occurrence", {"points": {"criticised": -3, "warning": -5}})
    for written in ("criticised:2", "通报批评或约谈：2", "Criticised or summoned:1;criticised:1"):
        assert parse_value(rule, written, None) == {"criticised": 2}, written


def test_a_refused_proposal_comes_back_with_the_pick_and_the_text(app, client):
    cycle, community, branch, url = _setup(client)
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    typed = {"action": "submit", "unit": "C1", "item": "community/P1", "value": "criticised:1",
             "reason": "群众来信反映属实"}  # fmt: skip
    refused = client.post(url, data={**fields, **typed})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "取值不符合该要素的计分规则。" in page
    assert "群众来信反映属实" in page and 'value="criticised:1"' in page
    # the picked item stays picked, and its rule and value's writing are shown
    picked = [o for o in _options(page, "item") if "selected" in o]
    assert [o["value"] for o in picked] == ["community/P1"]
    assert "取值填 类别:次数（类别为 案例）" in page and "<code>案例:1</code>" in page
    # an item of another type's scheme is named as such
    mismatch = client.post(url, data={**fields, **typed, "item": "agency_branch/P1"})
    assert mismatch.status_code == 400
    assert "所选项目属于“机关支部”的考核方案，所选单位是“社区”" in mismatch.get_data(as_text=True)
    for unit in ("", "W1", "C9"):  # none picked; no scheme; no longer active
        other = client.post(url, data={**fields, **typed, "unit": unit, "value": "case:1"})
        assert other.status_code == 400
        assert ("请选择单位。" if not unit else "找不到该单位。") in other.get_data(as_text=True)
    empty = client.post(url, data={**fields, **typed, "value": " "})
    assert "请填写取值。" in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Adjustment)) == 0


def test_an_approved_bonus_counts_and_makes_no_ledger_item(app, client):
    cycle, community, _branch, url = _setup(client)
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    posted = client.post(
        url,
        data={**fields, "action": "submit", "unit": "C1", "item": "community/B1",
              "value": "recognised:1", "reason": "议事会做法被区里推广",
              "evidence": (io.BytesIO(samples.png()), "photo.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert posted.status_code == 302
    make_staff("adm")
    office = app.test_client()
    login(office, "adm")
    adjustment = db.session.scalar(select(Adjustment))
    listing = office.get(url).get_data(as_text=True)
    assert "具有社区特色的活动或制度" in listing  # the item by its title, not its code alone
    confirm = f"{url}/{adjustment.id}/approve"
    assert confirm in listing
    page = office.get(confirm).get_data(as_text=True)
    assert "recognised:1" in page
    office.post(confirm, data={**hidden_fields(page), "decision": "经核实，同意加分"})
    finding = db.session.scalar(select(Finding).where(Finding.element == "B1"))
    assert finding.value == "recognised:1"
    assert db.session.scalar(select(func.count()).select_from(RectificationItem)) == 0


def test_the_english_page_has_no_chinese_but_the_data(app, client):
    _cycle, _community, _branch, url = _setup(client)
    page = client.get(url + "?lang=en").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    data = json.loads((SCHEMES / "community_002.json").read_text(encoding="utf-8"))
    other = json.loads((SCHEMES / "agency_branch_004.json").read_text(encoding="utf-8"))
    titles = [i["title"] for d in (data, other) for k in ("bonus", "penalties", "vetoes")
              for i in d[k]]  # fmt: skip
    # the data: item titles, unit names, and the language switch
    for known in sorted([*titles, "幸福社区", "机关一支部", "中文"], key=len,
                        reverse=True):  # fmt: skip
        text = text.replace(known, "").replace(html_lib.escape(known), "")
    text = re.sub(r"\S*周期\S*", "", text)  # the cycle's name (data)
    assert CJK.findall(text) == [], text
    assert "Propose a bonus, penalty or veto" in page
    assert "Veto: 20 points deducted" in page
    assert "Enter category:count (categories: case)" in page
    assert "Evidence (optional: PDF, image, DOCX, XLSX, up to 10 MB)" in page
