"""The composite page: weights per cycle and unit type, terms that add up, stored as runs."""

from __future__ import annotations

import re

from evalsurvey import demo
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.extensions import db
from evalsurvey.models import Cycle
from tests.factories import hidden_fields, login


def test_the_demo_composite_adds_up_term_by_term(app, client):
    demo.load(n_responses=400, seed=5)
    cycle = db.session.scalar(db.select(Cycle))
    run = composite_domain.latest_composite(cycle, "community")
    assert run is not None and run.created_by == "demo"
    for unit in run.result["units"]:
        parts = [t["contribution"] for t in unit["terms"] if t["contribution"] is not None]
        assert abs(sum(parts) - unit["score"]) < 1e-5  # each term is rounded to 6 places
        assert {t["component"] for t in unit["terms"]} == {
            "inspection",
            "panel",
            "citizen",
            "member",
        }
    login(client, "admin", "admin-demo-2026")
    page = client.get(f"/admin/cycles/{cycle.id}/composite?type=community").get_data(as_text=True)
    assert "现场考核（考评标准）" in page and "综合得分" in page
    # change the weights: the page says so, recomputing stores a new run
    fields = hidden_fields(page)
    client.post(
        f"/admin/cycles/{cycle.id}/composite/settings",
        data={
            **fields,
            "type": "community",
            "w_inspection": "0.5",
            "w_panel": "0.5",
            "missing": "require",
        },
    )
    assert composite_domain.setting(cycle, "community").weights == {"inspection": 0.5, "panel": 0.5}
    client.post(f"/admin/cycles/{cycle.id}/composite", data={**fields, "type": "community"})
    newer = composite_domain.latest_composite(cycle, "community")
    assert newer.id != run.id
    assert newer.options["weights"] == {"inspection": 0.5, "panel": 0.5}
    assert newer.options["missing"] == "require"
    bad = client.post(
        f"/admin/cycles/{cycle.id}/composite/settings",
        data={**fields, "type": "community", "w_inspection": "-1", "missing": "require"},
        follow_redirects=True,
    )
    assert re.search("权重不能为负数", bad.get_data(as_text=True))
    # beside the field it is about, naming no component by its code (QA)
    shown = re.search(r'name="w_inspection"[^>]*>(<div class="err">[^<]*</div>)',
                      bad.get_data(as_text=True))  # fmt: skip
    assert shown and shown.group(1) == '<div class="err">权重不能为负数。</div>'
    # a weight typed as a percentage (half-width or full-width sign) is that share
    client.post(
        f"/admin/cycles/{cycle.id}/composite/settings",
        data={**fields, "type": "community", "w_inspection": "60%", "w_panel": "４０％",
              "missing": "require"},
    )  # fmt: skip
    assert composite_domain.setting(cycle, "community").weights == {"inspection": 0.6, "panel": 0.4}
    # two problems in one save: both said, each beside its field (QA: one at a time)
    two = client.post(f"/admin/cycles/{cycle.id}/composite/settings",
                      data={**fields, "type": "community", "w_inspection": "-1",
                            "w_panel": "abc", "missing": "require"})  # fmt: skip
    text = two.get_data(as_text=True)
    assert two.status_code == 400 and "权重不能为负数。" in text and "请填写数字。" in text
    # reloading the address a refused save answered at goes back to the page (QA: 405)
    for url, part in (("composite/settings", "#weights"), ("grades", "#grades")):
        back = client.get(f"/admin/cycles/{cycle.id}/{url}?type=service_window")
        assert back.status_code == 302
        assert back.location.endswith(f"/composite?type=service_window{part}")
    # a post naming no known unit type, or from an expired page: back, saying why
    for url in ("composite/settings", "composite", "grades"):
        odd = client.post(f"/admin/cycles/{cycle.id}/{url}",
                          data={**fields, "type": "street'"}, follow_redirects=True)  # fmt: skip
        assert odd.status_code == 200 and "未知的单位类型。" in odd.get_data(as_text=True)
        stale = client.post(f"/admin/cycles/{cycle.id}/{url}",
                            data={"type": "community"}, follow_redirects=True)  # fmt: skip
        assert "页面已过期或来源无法验证" in stale.get_data(as_text=True)


def test_a_units_page_shows_every_term_of_its_result(app, client):
    demo.load(n_responses=400, seed=5)
    cycle = db.session.scalar(db.select(Cycle))
    run = composite_domain.latest_composite(cycle, "community")
    top = run.result["units"][0]
    from evalsurvey.models import Unit

    unit = db.session.scalar(db.select(Unit).where(Unit.code == top["unit"]))
    login(client, "admin", "admin-demo-2026")
    page = client.get(f"/admin/cycles/{cycle.id}/units/{unit.id}").get_data(as_text=True)
    assert "综合结果" in page and "各评价群体满意度" in page and "考评标准得分" in page
    assert f"{round(top['score'], 2):g}" in page and "同类单位第 1 名" in page
    for term in top["terms"]:
        assert f"{round(term['contribution'], 2):g}" in page


def test_grades_with_reasons_on_the_composite_page(app, client):
    from evalsurvey.domain.assessment import grades

    demo.load(n_responses=400, seed=5)
    cycle = db.session.scalar(db.select(Cycle))
    stars = grades.grade_cycle(cycle, "community")
    run = composite_domain.latest_composite(cycle, "community")
    for entry in run.result["units"]:
        expected = 5 if entry["score"] >= 90 else 4 if entry["score"] >= 80 else None
        if expected:
            assert stars[entry["unit"]].grade == f"star{expected}"
    quota = grades.grade_cycle(cycle, "service_window")
    n = len(quota)
    assert sum(g.grade == "excellent" for g in quota.values()) <= int(0.2 * n)
    login(client, "admin", "admin-demo-2026")
    page = client.get(f"/admin/cycles/{cycle.id}/composite?type=service_window")
    html = page.get_data(as_text=True)
    assert "等级" in html and "评为" in html
    if any(g.grade == "advanced" and g.steps for g in quota.values()):
        assert "名额" in html
    fields = hidden_fields(html)
    bad = client.post(
        f"/admin/cycles/{cycle.id}/grades",
        data={**fields, "type": "community", "kind": "stars", "band-rows": "1"}
        | {"band-0-min": "90", "band-0-stars": "5", "action": "save"},
    )
    assert bad.status_code == 400 and "请填写其余单位的星数。" in bad.get_data(as_text=True)
