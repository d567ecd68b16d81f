"""The minimum responses per rater group, set per cycle on its settings page: a panel of four
experts scores once the cycle's minimum for the panel is 4; under 5 it has no score and the
composite page, the unit's page and its feedback report say why."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

from evalsurvey.analysis.report import Options
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.extensions import db
from evalsurvey.models import Role
from evalsurvey.models.types import utcnow
from tests.factories import (
    hidden_fields,
    login,
    make_cycle,
    make_link,
    make_response,
    make_staff,
    make_unit,
)

REASON = "第三方专家评审组评分份数 4，少于本周期设定的 5 份"


def _text(resp) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def _setup(client):
    """Two windows rated by citizens and a panel: W1 by four experts, W2 by six."""
    cycle = make_cycle()
    units = [make_unit("W1", name="政务服务窗口"), make_unit("W2", name="社保窗口")]
    for unit, experts in zip(units, (4, 6), strict=True):
        citizens = make_link(unit=unit, cycle=cycle)
        panel = make_link(
            unit=unit, cycle=cycle, questionnaire=citizens.questionnaire, group="panel"
        )
        for i in range(6):
            when = utcnow() - timedelta(hours=i + 1)
            make_response(citizens, {"attitude": 4, "speed": 5}, when=when)
        for i in range(experts):
            when = utcnow() - timedelta(hours=i + 1, minutes=30)
            make_response(panel, {"attitude": 5, "speed": 5}, when=when)
    composite_domain.set_weights(cycle, "service_window", {"citizen": 0.5, "panel": 0.5})
    db.session.commit()
    make_staff("office", Role.ADMIN)
    login(client, "office")
    return cycle, units


def _recompute(client, cycle, unit_type="service_window"):
    """Analysis, then composite, through their buttons."""
    page = client.get(f"/admin/cycles/{cycle.id}/analysis").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    assert client.post(
        f"/admin/cycles/{cycle.id}/analysis", data={"csrf_token": token, "method": "mean"}
    ).status_code in (302, 303)
    assert client.post(
        f"/admin/cycles/{cycle.id}/composite",
        data={"csrf_token": token, "type": unit_type},
    ).status_code in (302, 303)
    return composite_domain.latest_composite(cycle, unit_type)


def _panel_term(run, code):
    unit = next(u for u in run.result["units"] if u["unit"] == code)
    return next(t for t in unit["terms"] if t["component"] == "panel")


def _set_minimum(client, cycle, value: str):
    page = client.get(f"/admin/cycles/{cycle.id}/edit")
    assert page.status_code == 200
    fields = hidden_fields(page.get_data(as_text=True))
    return client.post(
        f"/admin/cycles/{cycle.id}/minimums",
        data={"csrf_token": fields["csrf_token"], "min_panel": value},
    )


def test_a_panel_of_four_has_no_score_under_five_and_every_page_says_why(app, client):
    cycle, (w1, w2) = _setup(client)
    run = _recompute(client, cycle)
    assert _panel_term(run, "W1")["score"] is None
    assert _panel_term(run, "W2")["score"] is not None
    composite_page = _text(client.get(f"/admin/cycles/{cycle.id}/composite?type=service_window"))
    assert REASON in composite_page
    unit_page = _text(client.get(f"/admin/cycles/{cycle.id}/units/{w1.id}/dashboard"))
    assert REASON in unit_page
    report = _text(client.get(f"/admin/cycles/{cycle.id}/units/{w1.id}/report"))
    assert REASON in report
    # W2's panel reached the minimum: no reason on its pages
    assert "少于本周期设定" not in _text(
        client.get(f"/admin/cycles/{cycle.id}/units/{w2.id}/dashboard")
    )


def test_a_panel_of_four_scores_once_the_cycles_minimum_is_four(app, client):
    cycle, (w1, _w2) = _setup(client)
    _recompute(client, cycle)
    resp = _set_minimum(client, cycle, "4")
    assert resp.status_code in (302, 303)
    db.session.expire_all()
    assert cycle.group_min_n == {"panel": 4}
    # the page says the minimum was changed and applies after recomputing
    page = _text(client.get(f"/admin/cycles/{cycle.id}/composite?type=service_window"))
    assert "最少答卷数已修改" in page
    run = _recompute(client, cycle)
    assert _panel_term(run, "W1")["score"] == 100.0
    page = _text(client.get(f"/admin/cycles/{cycle.id}/composite?type=service_window"))
    assert "少于本周期设定" not in page and "最少答卷数已修改" not in page
    unit_page = _text(client.get(f"/admin/cycles/{cycle.id}/units/{w1.id}/dashboard"))
    assert "少于本周期设定" not in unit_page
    # the edit page shows the minimum as set; emptied, it is the default again
    edit = client.get(f"/admin/cycles/{cycle.id}/edit").get_data(as_text=True)
    assert re.search(r'name="min_panel" value="4"', edit)
    assert _set_minimum(client, cycle, "").status_code in (302, 303)
    db.session.expire_all()
    assert cycle.group_min_n == {}


def test_a_minimum_that_is_not_a_whole_number_is_refused_beside_its_group(app, client):
    cycle, _units = _setup(client)
    for typed in ("0", "四", "2.5", "5000"):
        resp = _set_minimum(client, cycle, typed)
        assert resp.status_code == 400, typed
        page = resp.get_data(as_text=True)
        assert re.search(
            rf'name="min_panel" value="{re.escape(typed)}"[^>]*><div class="err">'
            r"请填写 1 到 1000 之间的整数。</div>",
            page,
        ), typed
        db.session.expire_all()
        assert cycle.group_min_n == {}


def test_the_analysis_applies_a_groups_own_minimum():
    options = Options(min_n=5, group_min_n={"panel": 4})
    assert options.min_for("panel") == 4 and options.min_for("citizen") == 5
    assert options.as_json()["group_min_n"] == {"panel": 4}


def test_a_communitys_assessment_page_says_why_its_panel_has_no_score(app, client):
    from evalsurvey import demo
    from evalsurvey.models import Cycle, Unit

    demo.load(n_responses=400, seed=5)
    cycle = db.session.scalar(db.select(Cycle))
    login(client, "admin", "admin-demo-2026")
    assert _set_minimum(client, cycle, "8").status_code in (302, 303)  # the demo's panel: 7-8
    run = _recompute(client, cycle, "community")
    short = [u["unit"] for u in run.result["units"] if _panel_term(run, u["unit"])["score"] is None]
    assert short
    unit = db.session.scalar(db.select(Unit).where(Unit.code == short[0]))
    page = _text(client.get(f"/admin/cycles/{cycle.id}/units/{unit.id}"))
    assert re.search(r"第三方专家评审组评分份数 \d，少于本周期设定的 8 份", page)
    page = _text(client.get(f"/admin/cycles/{cycle.id}/composite?type=community"))
    assert re.search(r"第三方专家评审组评分份数 \d，少于本周期设定的 8 份", page)


def test_the_dashboards_coverage_counts_each_group_against_the_cycles_minimum(app, client):
    cycle, (w1, w2) = _setup(client)
    url = f"/admin/cycles/{cycle.id}/dashboard?type=service_window"
    page = _text(client.get(url))
    # five for the panel by default: W1's four experts are too few, W2's six and the citizens
    # (six each) are not
    assert "政务服务窗口（第三方专家评审组 4 份，至少 5 份）" in page
    assert "社保窗口（" not in page and "群众 6 份" not in page
    assert _set_minimum(client, cycle, "4").status_code in (302, 303)
    page = _text(client.get(url))
    assert "政务服务窗口（" not in page  # four experts meet the cycle's minimum of four
    assert _set_minimum(client, cycle, "7").status_code in (302, 303)
    page = _text(client.get(url))
    assert "政务服务窗口（第三方专家评审组 4 份，至少 7 份）" in page
    assert "社保窗口（第三方专家评审组 6 份，至少 7 份）" in page
