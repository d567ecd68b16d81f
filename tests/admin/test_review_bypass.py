"""The probe through the pages: a street proposes 99 points for a unit computed at 70.29 (the
old page let it type ★★★); results.csv does not rank it first with ★★★★★, the results cannot
be published until the district has re-reviewed it, and a grade that does not follow from
the score is refused next to its field."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.extensions import db
from evalsurvey.models import CycleStatus, Publication, Role
from tests.domain.assessment.test_grade_review import _district
from tests.factories import hidden_fields, login, make_staff


def _csv(client, cycle) -> list[list[str]]:
    reply = client.get(f"/admin/cycles/{cycle.id}/results.csv?type=community")
    assert reply.status_code == 200
    return list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_probe_is_not_ranked_first_nor_published_without_a_re_review(app, client):
    cycle, units = _district({"C0101": 70.29, "C0102": 88.0, "C0103": 75.0})
    make_staff("s01", Role.UNIT_CONTACT, units["C0101"].parent)
    make_staff("insp", Role.INSPECTOR)
    make_staff("admin", Role.ADMIN)
    url = f"/admin/cycles/{cycle.id}/review?type=community"
    street = app.test_client()
    login(street, "s01")
    page = street.get(url).get_data(as_text=True)
    assert 'name="grade"' not in page  # the grade is not typed: the rules give it
    token = hidden_fields(page)["csrf_token"]

    def propose(**data):
        form = {"csrf_token": token, "type": "community", "action": "propose", "unit": "C0101"}
        return street.post(url, data=form | data)

    typed = propose(score="99", grade="star3", note="自评")
    assert typed.status_code == 400  # a grade sent anyway must follow from the score
    html = typed.get_data(as_text=True)
    assert '<div class="err">按本周期的等级规则，99 分对应的等级是★★★★★，与所填等级不符。' in html
    assert 'name="score" size="5" inputmode="decimal" value="99"' in html  # kept as typed
    bad = propose(score="九十九")
    assert bad.status_code == 400 and "得分必须是 0 到 100 之间的数字" in bad.get_data(as_text=True)
    assert propose(score="99", note="自评").status_code == 303
    shown = street.get(url).get_data(as_text=True)
    assert "须复核" in shown and "待复核" in shown
    assert "得分达到前两个等级" in shown and "与计算得分相差超过允许幅度" in shown

    login(client, "admin")
    rows = _csv(client, cycle)
    header, body = rows[0], {r[1]: r for r in rows[1:]}
    assert header[:5] == ["排名", "单位编码", "单位", "得分", "等级"]
    assert body["C0101"][0] == "3" and body["C0101"][3] == "70.29" and body["C0101"][4] == "★★★"
    assert rows[1][1] == "C0102" and "★★★★★" not in [r[4] for r in rows]

    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    publish = f"/admin/cycles/{cycle.id}/publish?type=community"
    atoken = hidden_fields(client.get(publish).get_data(as_text=True))["csrf_token"]
    refused = client.post(publish, data={"csrf_token": atoken}, follow_redirects=True)
    assert "须先抽取复核样本" in refused.get_data(as_text=True)

    inspector = app.test_client()
    login(inspector, "insp")
    itoken = hidden_fields(inspector.get(url).get_data(as_text=True))["csrf_token"]
    form = {"csrf_token": itoken, "type": "community"}
    inspector.post(url, data=form | {"action": "draw", "rate": "0.2", "seed": "7"})
    refused = client.post(publish, data={"csrf_token": atoken}, follow_redirects=True)
    assert "还有 1 个单位的申报须经上级复核（C0101），复核后才能公示。" in refused.get_data(
        as_text=True
    )
    assert db.session.scalar(select(Publication)) is None

    inspector.post(url, data=form | {"action": "review", "unit": "C0101", "score": "72",
                                     "note": "台账不全"})
    client.post(publish, data={"csrf_token": atoken})
    assert db.session.scalar(select(Publication)) is not None
    rows = _csv(client, cycle)
    body = {r[1]: r for r in rows[1:]}
    assert body["C0101"][:5] == ["3", "C0101", "社区C0101", "72.0", "★★★"]
