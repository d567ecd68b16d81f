"""A unit's dashboard shows its surges and, beside the plain mean, the bounded-influence score
and how much the surge would have moved it (issue 18), in Chinese and English; a response in
the surge carries its reason and numbers on the analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from tests.factories import login, make_cycle, make_link, make_response, make_staff, make_unit

MONDAY = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def test_the_dashboard_shows_the_surge_and_the_bounded_score(app, client):
    window = make_unit("W1", name="政务服务窗口")
    cycle = make_cycle(code="S1", opens_at=MONDAY - timedelta(days=1))
    link = make_link(unit=window, cycle=cycle)
    # three weeks of weekdays: four citizens a day between 09:00 and 12:00, middling marks
    n = 0
    for day in range(21):
        if (MONDAY + timedelta(days=day)).weekday() >= 5:
            continue
        for k in range(4):
            n += 1
            mark = 3 + (n % 2)
            make_response(link, {"attitude": mark, "speed": 3}, seconds=80 + 7 * (n % 5),
                          device=f"h{n}", network=f"m{n % 40}",
                          when=MONDAY + timedelta(days=day, minutes=40 * k + n % 13))  # fmt: skip
    # one night: forty new phones from one network at 02:00, top marks, quickly
    night = MONDAY + timedelta(days=9, hours=17)
    for k in range(40):
        make_response(link, {"attitude": 5, "speed": 5}, seconds=35, device=f"bot{k}",
                      network="botnet", when=night + timedelta(minutes=k))  # fmt: skip
    db.session.commit()
    (run,) = analysis.run_analysis(cycle, "admin")
    unit = run.result["units"][0]
    assert len(unit["surges"]) == 1 and unit["surges"][0]["distinct"]
    citizen = unit["groups"]["citizen"]
    assert citizen["surge_shift"] > 10  # counted as ordinary, the bots would lift it ...
    assert abs(citizen["bounded_score"] - citizen["score"]) < 2  # ... bounded, they do not
    flagged = [r for r in run.result["responses"] if "surge" in r["reasons"]]
    assert len(flagged) >= 38 and all(r["suspect"] for r in flagged)
    assert flagged[0]["details"]["surge"]["posterior"] >= 0.5

    make_staff("office")
    login(client, "office")
    url = f"/admin/cycles/{cycle.id}/units/{window.id}/dashboard"
    html = client.get(url).get_data(as_text=True)
    assert "集中提交与稳健得分" in html and "稳健得分" in html and "集中提交的影响" in html
    assert "答卷特征与平常不同：逐份判断" in html
    assert "集中提交中的可疑答卷" in html
    english = client.get(url + "?lang=en").get_data(as_text=True)
    assert "Bounded-influence score" in english and "What the surge moved" in english
    assert "稳健" not in english
    # the analysis page says why, in words (the visitor chose English above)
    page = client.get(f"/admin/cycles/{cycle.id}/analysis").get_data(as_text=True)
    assert "this one belongs to the surge with probability" in page
    page = client.get(f"/admin/cycles/{cycle.id}/analysis?lang=zh_CN").get_data(as_text=True)
    assert "本份属于集中提交的可能性" in page
