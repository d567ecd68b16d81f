"""Findings in bulk through the staff pages: a unit's whole scheme as one grid saved at once,
the findings spreadsheet (download, fill in, upload) all or nothing, and each unit's progress
on the cycle page."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Finding, Role
from evalsurvey.scoring.schemes import Veto
from tests.factories import hidden_fields, login, make_cycle, make_staff, make_unit
from tests.public.test_browser import live_server, page  # noqa: F401 (fixtures)

DATA = Path(__file__).resolve().parents[2] / "evalsurvey/data/schemes"


class FormFields(HTMLParser):
    """The named inputs and text areas of a html, as a browser would post them."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._area: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("file", "hidden"):
            self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self._area = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "textarea" and self._area:
            # a newline right after <textarea> is no part of its text (HTML parsing rules)
            text = self.fields[self._area]
            self.fields[self._area] = (
                text[2:] if text.startswith("\r\n") else text[text[:1] == "\n" :]
            )
            self._area = None

    def handle_data(self, data):
        if self._area:
            self.fields[self._area] += data


def form_fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    return {**parser.fields, **{k: v for k, v in hidden_fields(html).items() if k == "csrf_token"}}


def community_cycle():
    """A cycle assessing communities by the seed-002 scheme, two communities, an inspector."""
    data = json.loads((DATA / "community_002.json").read_text(encoding="utf-8"))
    version = scheme_domain.import_scheme(data)
    scheme_domain.freeze_scheme_version(version)
    cycle = make_cycle()
    scheme_domain.assign_scheme(cycle, "community", version)
    db.session.commit()
    units = [
        make_unit("C0101", type="community", name="北池子社区"),
        make_unit("C0102", type="community", name="南池子社区"),
    ]
    make_staff("insp", Role.INSPECTOR)
    return cycle, version, scheme_domain.scheme_of(version), units


def photo() -> bytes:
    """A real PNG (evidence is checked by its content)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def good_value(item) -> tuple[str, str]:
    """A value (and note) that fits the item's rule."""
    if isinstance(item, Veto):
        return "0", ""
    rule = item.rule
    if rule.type == "checklist":
        return "1", ""
    if rule.type == "tiers":
        return f"{rule.params['tiers'][-1][0]:g}", ""
    if rule.type == "rank_tiers":
        return "88.5", ""
    if rule.type == "per_occurrence":
        return next(iter(rule.params["points"])) + ":1", ""
    return f"{item.points / 2:g}", "现场查看，情况较好"  # manual: a note is required


def entry_items(scheme):
    elements = [e for e in scheme.elements() if e.rule.type != "survey"]
    return [*elements, *scheme.bonus, *scheme.penalties, *scheme.vetoes]


def element_box(html: str, code: str) -> str:
    """The HTML of one element's box on the grid (up to the next element's)."""
    start = html.index(f'id="el-{code}"')
    end = html.find('<div class="grid-el', start)
    return html[start : end if end > 0 else len(html)]


def stored(cycle) -> dict[tuple[str, str], tuple[str, str]]:
    db.session.expire_all()
    return {
        (f.unit.code, f.element): (f.value, f.note)
        for f in db.session.scalars(select(Finding).where(Finding.cycle_id == cycle.id))
    }


def test_the_grid_saves_a_whole_unit_in_one_post(app, client):
    cycle, _version, scheme, (unit, _other) = community_cycle()
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/findings"
    html = client.get(url).get_data(as_text=True)
    assert "每缺一项扣" in html  # rules in words
    assert "由满意度测评自动计算" in html  # survey elements read only, without an input
    survey = [e.code for e in scheme.elements() if e.rule.type == "survey"]
    assert survey and all(f'name="el-{code}-value"' not in html for code in survey)
    fields = form_fields(html)
    typed = {}
    for item in entry_items(scheme):
        value, note = good_value(item)
        fields[f"el-{item.code}-value"], fields[f"el-{item.code}-note"] = value, note
        typed[(unit.code, item.code)] = (value, note)
    # one file, beside the first element
    first = scheme.elements()[0].code
    fields["evidence_for"] = first
    fields["evidence"] = (io.BytesIO(photo()), "record.png")
    resp = client.post(url, data={**fields, "at": "sec-3"}, content_type="multipart/form-data")
    assert resp.status_code == 302
    assert resp.location.endswith("#save-3")  # back where the save button was
    assert stored(cycle) == typed
    assert db.session.scalar(select(Finding.evidence).where(Finding.element == first))
    back = client.get(resp.location.split("#")[0]).get_data(as_text=True)
    n = len(scheme.elements())
    assert f"已考核 {n - len(survey)}/{n} 项" in back
    assert f"已保存 {len(typed)} 项考核记录" in back
    # saved again unchanged: nothing to change, no reason asked
    again = client.post(url, data={**form_fields(back), "at": "sec-1"})
    assert again.status_code == 302


def test_an_invalid_value_keeps_what_was_typed_shows_the_error_by_its_element_and_stores_nothing(
    app, client
):
    cycle, _version, scheme, (unit, _other) = community_cycle()
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/findings"
    fields = form_fields(client.get(url).get_data(as_text=True))
    items = entry_items(scheme)
    for n, item in enumerate(items):
        value, note = good_value(item)
        fields[f"el-{item.code}-value"] = value
        fields[f"el-{item.code}-note"] = note or f"说明{n}"
    bad = next(e for e in items if getattr(e, "rule", None) and e.rule.type == "checklist")
    fields[f"el-{bad.code}-value"] = "很多"
    resp = client.post(url, data={**fields, "at": "sec-2"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    again = form_fields(html)
    for item in items:  # every typed value and note is still there
        for key in (f"el-{item.code}-value", f"el-{item.code}-note"):
            assert again[key] == fields[key], key
    # the error is inside that element's box, and only there
    assert "请填写缺少的项数" in element_box(html, bad.code)
    assert f'<div class="grid-el bad" id="el-{bad.code}">' in html
    assert html.count('class="grid-el bad"') == 1
    # the summary is where the save button was pressed, with a link to the element
    assert f'href="#el-{bad.code}"' in html
    assert "有 1 处需要修改，没有保存任何考核记录" in html


def test_bad_posted_values_are_messages_by_their_element_never_an_error(app, client):
    """Issue 16: the grid reads a form built from the scheme; a value too long or holding a
    control character, a file paired with no element, an unknown section: each a sentence
    (by its element where it has one), nothing stored, never a 500."""
    cycle, _version, scheme, (unit, _other) = community_cycle()
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/findings"
    fields = form_fields(client.get(url).get_data(as_text=True))
    first, second = (e.code for e in entry_items(scheme)[:2])
    long = {**fields, f"el-{first}-value": "1" * 201, f"el-{second}-note": "a\x01b"}
    resp = client.post(url, data={**long, "at": "sec-99999"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "有 2 处需要修改，没有保存任何考核记录" in html
    assert "最多 200 个字符。" in element_box(html, first)
    assert "不能包含" in element_box(html, second)
    stray = {**fields, "evidence_for": "no-such-element", "evidence": (io.BytesIO(b""), "")}
    resp = client.post(url, data=stray, content_type="multipart/form-data")
    assert resp.status_code == 400 and "上传的文件与要素对不上" in resp.get_data(as_text=True)
    english = client.post(url + "?lang=en", data=long)
    assert english.status_code == 400 and "at most 200 characters." in english.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0


def test_a_change_needs_its_reason_by_the_element(app, client):
    cycle, _version, scheme, (unit, _other) = community_cycle()
    element = scheme.elements()[0]
    scheme_domain.record_finding(cycle, unit, element.code, "1", "", "insp")
    db.session.commit()
    login(client, "insp")
    url = f"/admin/cycles/{cycle.id}/units/{unit.id}/findings"
    fields = form_fields(client.get(url).get_data(as_text=True))
    fields[f"el-{element.code}-value"] = "0"
    resp = client.post(url, data=fields)
    assert resp.status_code == 400 and "修改已有的考核记录必须填写原因" in resp.get_data(
        as_text=True
    )
    # with a problem the form finds in another element, one save names both (QA: the
    # reason was asked for only once the other problem was fixed)
    other = scheme.elements()[1]
    both = client.post(url, data={**fields, f"el-{other.code}-value": "1" * 201})
    html = both.get_data(as_text=True)
    assert both.status_code == 400 and "有 2 处需要修改，没有保存任何考核记录" in html
    assert "修改已有的考核记录必须填写原因" in element_box(html, element.code)
    assert "最多 200 个字符" in element_box(html, other.code)
    assert stored(cycle)[(unit.code, element.code)] == ("1", "")
    fields[f"el-{element.code}-reason"] = "复查时补齐"
    assert client.post(url, data=fields).status_code == 302
    assert stored(cycle)[(unit.code, element.code)] == ("0", "")


def test_the_spreadsheet_round_trip(app, client):
    cycle, _version, scheme, units = community_cycle()
    items = entry_items(scheme)
    scheme_domain.record_finding(cycle, units[0], items[0].code, "2", "旧记录", "insp")
    db.session.commit()
    login(client, "insp")
    sheet_page = client.get(f"/admin/cycles/{cycle.id}/findings?type=community")
    assert sheet_page.status_code == 200
    resp = client.get(f"/admin/cycles/{cycle.id}/findings-community.xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames[0] == "填写说明"
    ws = book[book.sheetnames[1]]
    assert [c.value for c in ws[1]][:2] == ["单位编码", "C0101"]
    head = [c.value for c in ws[3]]
    assert head == ["一级指标", "二级指标", "三级指标", "编码", "分值", "计分规则", "取值",
                    "情况说明", "修改原因"]  # fmt: skip
    expected = {}
    for name, unit in zip(book.sheetnames[1:], units, strict=True):
        ws = book[name]
        for row in ws.iter_rows(min_row=4):
            code = row[3].value
            item = scheme.item(code) if code else None
            if item is None or getattr(item, "children", ()) or code not in {i.code for i in items}:
                continue
            if unit is units[0] and code == items[0].code:
                assert (row[6].value, row[7].value) == ("2", "旧记录")  # the current finding
                row[6].value, row[8].value = 3, "复查"  # a change, with its reason
                expected[(unit.code, code)] = ("3", "旧记录")
                continue
            value, note = good_value(item)
            row[6].value = int(value) if value.isdigit() else value  # typed as Excel keeps it
            row[7].value = note or None
            expected[(unit.code, code)] = (value, note)
    out = io.BytesIO()
    book.save(out)
    fields = hidden_fields(sheet_page.get_data(as_text=True))
    resp = client.post(
        f"/admin/cycles/{cycle.id}/findings?type=community",
        data={**fields, "file": (io.BytesIO(out.getvalue()), "filled.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert stored(cycle) == expected
    # downloaded again, it holds the same findings, and uploaded unchanged it changes nothing
    again = client.get(f"/admin/cycles/{cycle.id}/findings-community.xlsx").data
    book = load_workbook(io.BytesIO(again))
    found = {}
    for name in book.sheetnames[1:]:
        ws = book[name]
        for row in ws.iter_rows(min_row=4):
            if row[6].value is not None:
                found[(ws["B1"].value, row[3].value)] = (row[6].value, row[7].value or "")
    assert found == expected
    resp = client.post(
        f"/admin/cycles/{cycle.id}/findings?type=community",
        data={**fields, "file": (io.BytesIO(again), "again.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    assert "0 项考核记录有变化" in client.get(resp.location).get_data(as_text=True)


def test_a_spreadsheet_error_names_sheet_row_and_column_and_nothing_is_stored(app, client):
    cycle, _version, scheme, units = community_cycle()
    login(client, "insp")
    resp = client.get(f"/admin/cycles/{cycle.id}/findings-community.xlsx")
    book = load_workbook(io.BytesIO(resp.data))
    checklist = next(e for e in scheme.elements() if e.rule.type == "checklist")
    second = book[book.sheetnames[2]]
    bad_row = None
    for name in book.sheetnames[1:]:
        for row in book[name].iter_rows(min_row=4):
            if row[3].value == checklist.code:
                row[6].value = 1  # fine everywhere ...
                if book[name] is second:
                    row[6].value, bad_row = "很多", row[0].row  # ... except here
    out = io.BytesIO()
    book.save(out)
    html = client.get(f"/admin/cycles/{cycle.id}/findings?type=community").get_data(as_text=True)
    resp = client.post(
        f"/admin/cycles/{cycle.id}/findings?type=community",
        data={**hidden_fields(html), "file": (io.BytesIO(out.getvalue()), "filled.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    row = re.search(r"<tr><td>([^<]*)</td><td class=\"num\">(\d+)</td><td>([^<]*)</td>"
                    r"<td class=\"err\">([^<]*)</td></tr>", html)  # fmt: skip
    assert row is not None, html
    assert row.groups() == (
        second.title,
        str(bad_row),
        "G（取值）",
        "请填写缺少的项数（0 或正整数）。",
    )
    # in English, the same place in the reader's language
    english = client.post(
        f"/admin/cycles/{cycle.id}/findings?type=community&lang=en",
        data={**hidden_fields(html), "file": (io.BytesIO(out.getvalue()), "filled.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "Sheet" in english and "G (取值)" in english


def test_progress_per_unit_on_the_cycle_page(app, client):
    cycle, _version, scheme, (first, second) = community_cycle()
    items = entry_items(scheme)
    for item in items[:5]:
        value, note = good_value(item)
        scheme_domain.record_finding(cycle, first, item.code, value, note, "insp")
    db.session.commit()
    login(client, "insp")
    html = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    n = len(scheme.elements())
    assert re.search(rf">C0101</a> <span[^>]*>5/{n}</span>", html)
    assert re.search(rf">C0102</a> <span[^>]*>0/{n}</span>", html)
    assert f"/admin/cycles/{cycle.id}/units/{first.id}/findings" in html
    # and the unit's assessment html leads to its grid
    unit_page = client.get(f"/admin/cycles/{cycle.id}/units/{second.id}").get_data(as_text=True)
    assert f"/admin/cycles/{cycle.id}/units/{second.id}/findings" in unit_page


# -- the demo's findings as a filled spreadsheet ------------------------------------------------

DEMO_SHEET = (
    Path(__file__).resolve().parents[2] / "docs/examples/findings-demo-2026H2-community.xlsx"
)


def sheet_findings(data: bytes) -> dict[tuple[str, str], tuple[str, str]]:
    """What a findings spreadsheet holds: (unit, element) → (value, note), filled rows only."""
    book = load_workbook(io.BytesIO(data))
    found = {}
    for name in book.sheetnames[1:]:
        ws = book[name]
        for row in ws.iter_rows(min_row=4, values_only=True):
            if row[3] is not None and (row[6] is not None or row[7] is not None):
                found[(ws["B1"].value, row[3])] = (str(row[6] or ""), row[7] or "")
    return found


def test_the_shipped_demo_spreadsheet_reproduces_the_demos_findings(app, client, backend):
    """docs/examples/ holds the findings of `evalsurvey demo` (its defaults) as the office's
    spreadsheet: made by `evalsurvey findings-sheet --cycle 2026H2 --unit-type community`.
    Imported into the demo with its findings removed, it gives them back exactly."""
    if backend != "sqlite":
        pytest.skip("the demo's data does not depend on the database; run once on SQLite")
    from evalsurvey import demo

    demo.load(history=True)  # as `evalsurvey demo` loads it
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == "2026H2"))
    original = {key: value for key, value in stored(cycle).items() if key[0].startswith("C")}
    assert len(original) > 500
    shipped = DEMO_SHEET.read_bytes()
    assert sheet_findings(shipped) == original  # the file is the demo's findings
    # the command writes the same findings
    runner = app.test_cli_runner()
    out = Path(app.instance_path) / "made.xlsx"
    result = runner.invoke(
        args=["findings-sheet", "--cycle", "2026H2", "--unit-type", "community", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sheet_findings(out.read_bytes()) == original
    # imported through the html into the demo without its findings: the same findings
    db.session.execute(delete(Finding).where(Finding.cycle_id == cycle.id))
    db.session.commit()
    login(client, "admin", "admin-demo-2026")
    url = f"/admin/cycles/{cycle.id}/findings?type=community"
    resp = client.post(
        url,
        data={**hidden_fields(client.get(url).get_data(as_text=True)),
              "file": (io.BytesIO(shipped), DEMO_SHEET.name)},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    assert stored(cycle) == original


# -- in a real browser --------------------------------------------------------------------------

SHOTS = Path("/tmp/shots-findings")


def _fill_grid(tab, scheme, values: dict[str, tuple[str, str]]) -> None:
    for item in entry_items(scheme):
        value, note = values[item.code]
        tab.fill(f'input[name="el-{item.code}-value"]', value)
        if note:
            tab.fill(f'textarea[name="el-{item.code}-note"]', note)


@pytest.mark.browser
def test_a_unit_entered_by_grid_in_a_browser_at_1280_and_360(app, live_server, page):  # noqa: F811
    cycle, _version, scheme, (first, second) = community_cycle()
    third = make_unit("C0103", type="community", name="灯市口社区")
    SHOTS.mkdir(exist_ok=True)
    values = {item.code: good_value(item) for item in entry_items(scheme)}
    expected = {(u, c): v for u in ("C0101", "C0102") for c, v in values.items()}

    # on a desk: the inspector opens the cycle, follows the first unit's progress to its grid
    browser = page.context.browser
    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    desk.goto(f"{live_server}/auth/login")
    desk.fill("#username", "insp")
    desk.fill("#password", "secret-pass-1")
    with desk.expect_navigation():
        desk.click("button[type=submit]")
    desk.goto(f"{live_server}/admin/cycles/{cycle.id}")
    assert "考核记录进度" in desk.content()
    desk.screenshot(path=str(SHOTS / "cycle-progress-1280.png"), full_page=True)
    with desk.expect_navigation():
        desk.locator("#findings ~ p a", has_text="C0101").click()
    assert desk.url.endswith(f"/units/{first.id}/findings")
    assert desk.evaluate("document.documentElement.scrollWidth") <= 1280
    _fill_grid(desk, scheme, values)
    # one mistake: nothing is stored, it is shown by its element, everything typed is kept
    checklist = next(e for e in scheme.elements() if e.rule.type == "checklist")
    desk.fill(f'input[name="el-{checklist.code}-value"]', "很多")
    with desk.expect_navigation():
        desk.locator('button[value="sec-3"]').click()
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    box = desk.locator(f'[id="el-{checklist.code}"]')
    assert "请填写缺少的项数" in box.inner_text()
    assert desk.input_value(f'input[name="el-{checklist.code}-value"]') == "很多"
    last = entry_items(scheme)[-1].code
    assert desk.input_value(f'input[name="el-{last}-value"]') == values[last][0]
    desk.screenshot(path=str(SHOTS / "grid-1280-error.png"))
    desk.screenshot(path=str(SHOTS / "grid-1280-error-full.png"), full_page=True)
    desk.locator(f'[id="el-{checklist.code}"] input[name$="-value"]').fill(
        values[checklist.code][0]
    )
    with desk.expect_navigation():
        desk.locator('button[value="sec-3"]').click()
    # saved at once, and back where the button was (not the top of the page)
    assert desk.url.endswith("#save-3")
    assert desk.evaluate("window.scrollY") > 400
    assert desk.get_by_text("已保存", exact=False).last.is_visible()
    desk.screenshot(path=str(SHOTS / "grid-1280-saved.png"))
    assert {k: v for k, v in stored(cycle).items() if k[0] == "C0101"} == {
        k: v for k, v in expected.items() if k[0] == "C0101"
    }

    # on a phone (360 px): the second unit, nothing wider than the screen
    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "insp")
    page.fill("#password", "secret-pass-1")
    with page.expect_navigation():
        page.locator("button[type=submit]").tap()
    page.goto(f"{live_server}/admin/cycles/{cycle.id}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SHOTS / "cycle-progress-360.png"), full_page=True)
    with page.expect_navigation():
        page.locator("#findings ~ p a", has_text="C0102").tap()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SHOTS / "grid-360-empty.png"))
    _fill_grid(page, scheme, values)
    page.screenshot(path=str(SHOTS / "grid-360-filled.png"), full_page=True)
    with page.expect_navigation():
        page.locator('button[value="sec-extras"]').tap()
    assert page.url.endswith("#save-extras")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SHOTS / "grid-360-saved.png"))
    assert stored(cycle) == expected

    # the third unit by spreadsheet: download, fill in, upload
    desk.goto(f"{live_server}/admin/cycles/{cycle.id}/findings?type=community")
    with desk.expect_download() as caught:
        desk.get_by_text("下载考核记录表").click()
    book = load_workbook(io.BytesIO(Path(caught.value.path()).read_bytes()))
    ws = next(book[n] for n in book.sheetnames[1:] if book[n]["B1"].value == "C0103")
    for row in ws.iter_rows(min_row=4):
        if row[3].value in values:
            value, note = values[row[3].value]
            row[6].value, row[7].value = value, note or None
    filled = Path(app.instance_path) / "filled.xlsx"
    # first with one value that does not fit: the error by sheet, row and column, nothing stored
    checklist_row = next(r for r in ws.iter_rows(min_row=4) if r[3].value == checklist.code)
    checklist_row[6].value = "很多"
    book.save(filled)
    desk.set_input_files("input[name=file]", str(filled))
    assert desk.locator("[data-file-name]").inner_text() == "filled.xlsx"
    with desk.expect_navigation():
        desk.get_by_role("button", name="上传并导入").click()
    error = desk.locator("td.err").first
    assert error.is_visible() and "请填写缺少的项数" in error.inner_text()
    assert "G（取值）" in desk.locator("table").inner_text()
    assert all(k[0] != "C0103" for k in stored(cycle))
    desk.screenshot(path=str(SHOTS / "sheet-error-1280.png"), full_page=True)
    checklist_row[6].value = values[checklist.code][0]
    book.save(filled)
    desk.set_input_files("input[name=file]", str(filled))
    with desk.expect_navigation():
        desk.get_by_role("button", name="上传并导入").click()
    assert f"已导入，{len(values)} 项考核记录有变化" in desk.content()
    desk.screenshot(path=str(SHOTS / "sheet-1280.png"), full_page=True)
    assert stored(cycle) == {**expected, **{("C0103", c): v for c, v in values.items()}}
    assert third.code == "C0103"
    page.goto(f"{live_server}/admin/cycles/{cycle.id}/findings?type=community")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(SHOTS / "sheet-360.png"), full_page=True)
