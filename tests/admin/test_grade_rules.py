"""The grade rules editor on the composite page: rows instead of JSON, problems in words by
their field, rows added and removed by buttons (no script), a preview on the cycle's results."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from evalsurvey import demo
from evalsurvey.domain.assessment import grades as grade_domain
from evalsurvey.domain.results.cycle import current_result
from evalsurvey.extensions import db
from evalsurvey.models import Cycle
from tests.factories import login

PASSWORD = "admin-demo-2026"


class _Editor(HTMLParser):
    """The grade rules form as a browser would send it (values, checked boxes, the
    selected option of every select), and the text shown beside each field."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self.inside = False
        self.select: str | None = None
        self.selected = False
        self.last_field = ""
        self.beside: dict[str, str] = {}
        self.in_err = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == "grades":
            self.inside = True
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            else:
                self.fields[name] = a.get("value", "")
            self.last_field = name
        elif tag == "select":
            self.select, self.selected = name, False
            self.last_field = name
        elif tag == "option" and self.select:
            if "selected" in a or self.select not in self.fields:
                self.fields[self.select] = a.get("value", "")
        elif tag == "div" and "err" in a.get("class", ""):
            self.in_err = True

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "div":
            self.in_err = False

    def handle_data(self, data):
        if self.inside and self.in_err:
            self.beside[self.last_field] = self.beside.get(self.last_field, "") + data


def editor(html: str) -> _Editor:
    parser = _Editor()
    parser.feed(html)
    return parser


def _page(client, cycle, unit_type):
    resp = client.get(f"/admin/cycles/{cycle.id}/composite?type={unit_type}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _post(client, cycle, fields, action, **changes):
    data = {**fields, **changes, "action": action}
    return client.post(f"/admin/cycles/{cycle.id}/grades", data=data)


def _demo(client):
    demo.load(n_responses=400, seed=5)
    login(client, "admin", PASSWORD)
    return db.session.scalar(db.select(Cycle))


def test_the_demo_rules_come_back_from_the_form_as_the_same_json(app, client):
    cycle = _demo(client)
    for unit_type in ("community", "service_window"):
        before = json.dumps(grade_domain.rules_for(cycle, unit_type), ensure_ascii=False)
        html = _page(client, cycle, unit_type)
        assert "等级规则" in html and 'class="code-box"' not in html  # no JSON box
        fields = editor(html).fields
        resp = _post(client, cycle, fields, "save")
        assert resp.status_code == 302, resp.get_data(as_text=True)
        db.session.expire_all()
        after = json.dumps(grade_domain.rules_for(cycle, unit_type), ensure_ascii=False)
        assert after == before
    # what the form showed: quotas in per cent, the rest on its own row
    fields = editor(_page(client, cycle, "service_window")).fields
    assert fields["kind"] == "quota"
    assert (fields["grade-0-label"], fields["grade-0-min"], fields["grade-0-share"]) == (
        "优秀",
        "90",
        "20",
    )
    assert fields["grade-1-share"] == "30" and fields["rest-label"] == "不达标"
    assert fields["tie-0-column"] == "citizen" and fields["tie-0-order"] == "high"


def test_quota_grades_edited_by_form(app, client):
    cycle = _demo(client)
    # a grade added with its share as typed in per cent
    fields = editor(_page(client, cycle, "service_window")).fields
    changes = {
        "grade-3-label": "良好",
        "grade-3-code": "good",
        "grade-3-min": "75",
        "grade-3-share": "33.3",
        "tie-0-order": "low",
        "tie-1-column": "penalties",
    }
    resp = _post(client, cycle, fields, "save", **changes)
    assert resp.status_code == 302, editor(resp.get_data(as_text=True)).beside
    db.session.expire_all()
    rules = grade_domain.rules_for(cycle, "service_window")
    assert rules["grades"][3] == {
        "code": "good",
        "label": "良好",
        "min_score": 75,
        "max_share": 0.333,
    }
    assert rules["grades"][-1] == {"code": "below", "label": "不达标"}
    assert rules["tie_break"] == ["-citizen", "penalties"]


def test_star_bands_edited_by_form(app, client):
    cycle = _demo(client)
    fields = editor(_page(client, cycle, "community")).fields
    # four stars from 85 (typed full-width), a band added in an empty row, promotion on
    changes = {"band-1-min": "８５", "band-4-min": "40.5", "band-4-stars": "1", "promote": "1"}
    changes["rest-stars"] = "1"
    assert _post(client, cycle, fields, "save", **changes).status_code == 302
    db.session.expire_all()
    assert grade_domain.rules_for(cycle, "community") == {
        "kind": "stars",
        "bands": [[90, 5], [85, 4], [70, 3], [60, 2], [40.5, 1], [None, 1]],
        "promote_on_improvement": True,
    }
    # shown again as typed, and saved again unchanged
    fields = editor(_page(client, cycle, "community")).fields
    assert fields["band-4-min"] == "40.5" and fields["promote"] == "1"


def test_an_invalid_form_says_why_beside_the_field_and_keeps_what_was_typed(app, client):
    cycle = _demo(client)
    stored = grade_domain.rules_for(cycle, "community")
    fields = editor(_page(client, cycle, "community")).fields
    resp = _post(client, cycle, fields, "save", **{"band-2-min": "95", "band-3-stars": "两"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    shown = editor(html)
    assert shown.beside["band-3-stars"] == "请填写不小于 1 的整数。"
    assert shown.fields["band-2-min"] == "95" and shown.fields["band-3-stars"] == "两"
    # the contract's own check, once the typed values are numbers
    resp = _post(client, cycle, fields, "save", **{"band-2-min": "95"})
    shown = editor(resp.get_data(as_text=True))
    assert shown.beside["band-2-min"] == "第 3 档的下限必须是数字，并低于上一档的下限。"
    resp = _post(client, cycle, fields, "save", **{"rest-stars": ""})
    assert editor(resp.get_data(as_text=True)).beside["rest-stars"] == "请填写其余单位的星数。"
    db.session.expire_all()
    assert grade_domain.rules_for(cycle, "community") == stored  # nothing saved

    fields = editor(_page(client, cycle, "service_window")).fields
    cases = [
        ({"grade-0-share": "150"}, "grade-0-share", "请填写 0 到 100 之间的百分数。"),
        ({"grade-1-min": "八十五"}, "grade-1-min", "请填写数字。"),
        (
            {"grade-1-code": "excellent"},
            "grade-1-code",
            "等级编码“excellent”重复了，每个等级的编码必须不同。",
        ),
        ({"rest-label": "", "rest-code": ""}, "rest-code", "请填写其余单位的等级。"),
        (
            {"tie-0-column": "leader"},
            "tie-0-column",
            "同分比较项“leader”不是综合结果的组成部分，无法评定等级。",
        ),
        ({"kind": "json"}, "kind", "请选择评定方式：星级，或按比例评定等级。"),
    ]
    for change, name, sentence in cases:
        resp = _post(client, cycle, fields, "save", **change)
        assert resp.status_code == 400, change
        html = resp.get_data(as_text=True)
        shown = editor(html)
        assert shown.beside.get(name) == sentence, (change, shown.beside)
        for key, value in change.items():
            if key != "kind":
                assert shown.fields[key] == value  # kept as typed
        assert not re.search(r"\b(no_grades|bad_share|duplicate_grade|no_rest_grade)\b", html)
        # the codes sit folded away under their own heading, open only when one is wrong
        folded = re.search(r"<details( open)?><summary>等级编码", html)
        assert folded and bool(folded.group(1)) == name.endswith("-code"), change


def test_one_save_names_a_bad_number_and_a_repeated_code_together(app, client):
    """QA: "六十" was named first and the repeated code only on the next save."""
    cycle = _demo(client)
    fields = editor(_page(client, cycle, "service_window")).fields
    resp = _post(client, cycle, fields, "save",
                 **{"grade-1-min": "六十", "grade-1-code": "excellent"})  # fmt: skip
    shown = editor(resp.get_data(as_text=True))
    assert resp.status_code == 400
    assert shown.beside.get("grade-1-min") == "请填写数字。"
    assert shown.beside.get("grade-1-code") == "等级编码“excellent”重复了，每个等级的编码必须不同。"


def test_rows_are_added_and_removed_by_buttons_without_saving(app, client):
    cycle = _demo(client)
    stored = grade_domain.rules_for(cycle, "community")
    fields = editor(_page(client, cycle, "community")).fields
    rows = int(fields["band-rows"])
    resp = _post(client, cycle, fields, "add-band", **{"band-0-min": "91"})
    assert resp.status_code == 200
    shown = editor(resp.get_data(as_text=True)).fields
    assert int(shown["band-rows"]) == rows + 1 and shown["band-0-min"] == "91"
    resp = _post(client, cycle, shown, "remove-band-1")
    shown = editor(resp.get_data(as_text=True)).fields
    assert int(shown["band-rows"]) == rows
    assert [shown[f"band-{i}-min"] for i in range(3)] == ["91", "70", "60"]
    db.session.expire_all()
    assert grade_domain.rules_for(cycle, "community") == stored
    # saved: the band removed is gone
    assert _post(client, cycle, shown, "save").status_code == 302
    db.session.expire_all()
    assert grade_domain.rules_for(cycle, "community")["bands"] == [
        [91, 5],
        [70, 3],
        [60, 2],
        [None, 1],
    ]


def test_the_preview_counts_units_per_grade_on_the_current_result_without_saving(app, client):
    cycle = _demo(client)
    stored = grade_domain.rules_for(cycle, "community")
    result = current_result(cycle, "community")
    scores = [u.standing.score for u in result.units if u.standing is not None]
    assert len(scores) >= 5
    cut = sorted(scores)[len(scores) // 2]  # half the units at or above: "five stars"
    fields = editor(_page(client, cycle, "community")).fields
    changes = {"band-0-min": str(cut), "band-0-stars": "5"}
    for i in range(1, int(fields["band-rows"])):
        changes |= {f"band-{i}-min": "", f"band-{i}-stars": ""}
    changes["rest-stars"] = "2"
    resp = _post(client, cycle, fields, "preview", **changes)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    preview = html[html.index('id="preview"') :]
    counts = dict(re.findall(r"<tr><td>(★+)</td><td class=\"num\">(\d+)</td></tr>", preview))
    top = sum(s >= cut for s in scores)
    assert counts == {"★★★★★": str(top), "★★": str(len(scores) - top)}
    assert editor(html).fields["band-0-min"] == str(cut)  # the form stays as typed
    db.session.expire_all()
    assert grade_domain.rules_for(cycle, "community") == stored


def test_the_quota_preview_keeps_to_the_shares(app, client):
    cycle = _demo(client)
    result = current_result(cycle, "service_window")
    n = sum(u.standing is not None for u in result.units)
    fields = editor(_page(client, cycle, "service_window")).fields
    changes = {"grade-0-min": "0", "grade-0-share": "50", "grade-1-min": "0", "grade-2-min": "0"}
    changes |= {"grade-1-share": "50"}
    resp = _post(client, cycle, fields, "preview", **changes)
    html = resp.get_data(as_text=True)
    preview = html[html.index('id="preview"') :]
    counts = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td></tr>", preview))
    assert counts["优秀"] == str(n // 2) and counts["先进"] == str(n // 2)
    assert sum(int(v) for v in counts.values()) == n


def test_every_grading_problem_has_a_sentence():
    source = Path(grade_domain.__file__).parents[2] / "scoring" / "grading.py"
    codes = set(re.findall(r'GradingError\("(\w+)"', source.read_text(encoding="utf-8")))
    assert codes and codes <= set(grade_domain.RULE_MESSAGES)
    for message in grade_domain.RULE_MESSAGES.values():
        assert not re.search(r"[a-z]+_[a-z]+|null|kind", message)
