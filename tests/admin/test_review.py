"""The two-level review through the pages: who may propose, draw and review, and the
inflation report as a table and a chart."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain.assessment.standing import proposals_of
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, ReviewDraw, Role
from tests.factories import hidden_fields, login, make_staff


def test_a_street_proposes_and_the_district_reviews(app, client):
    demo.load(n_responses=300, seed=7)
    cycle = db.session.scalar(select(Cycle))
    make_staff("insp", Role.INSPECTOR)
    url = f"/admin/cycles/{cycle.id}/review?type=community"
    street = app.test_client()
    login(street, "s01", "admin-demo-2026")  # the demo's contact of street S01
    page = street.get(url).get_data(as_text=True)
    assert "东华门街道北池子社区" in page and "交道口街道" not in page  # its own units only
    token = hidden_fields(page)["csrf_token"]

    def post(who, **data):
        return who.post(url, data={"csrf_token": token, "type": "community", **data})

    assert post(street, action="propose", unit="C0101", score="93",
                note="自评优秀").status_code == 303  # fmt: skip
    assert post(street, action="propose", unit="C0201", score="93").status_code == 403
    assert post(street, action="draw", rate="0.2").status_code == 403  # the district draws
    bad = street.post(url, data={"csrf_token": token, "type": "community", "action": "propose",
                                 "unit": "C0102", "score": "九十"},
                      follow_redirects=True)  # fmt: skip
    assert "得分必须是 0 到 100 之间的数字" in bad.get_data(as_text=True)
    community = app.test_client()
    login(community, "c0101", "admin-demo-2026")
    ctoken = hidden_fields(community.get(url).get_data(as_text=True))["csrf_token"]
    own = community.post(url, data={"csrf_token": ctoken, "type": "community",
                                    "action": "propose", "unit": "C0101",
                                    "score": "99"})  # fmt: skip
    assert own.status_code == 403  # a unit never proposes for itself
    assert proposals_of(cycle, "community")["C0101"].score == 93

    login(client, "insp")
    itoken = hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]
    client.post(url, data={"csrf_token": itoken, "type": "community", "action": "draw",
                           "rate": "0.2", "seed": "2026"})  # fmt: skip
    draw = db.session.scalar(select(ReviewDraw))
    assert draw.seed == 2026 and draw.units == ["C0101"]
    shown = client.get(url).get_data(as_text=True)
    assert "2026" in shown and "按种子重抽的结果与记录一致" in shown and "须复核" in shown
    # overruling the street's score needs the review's reasons, said beside the field
    bare = client.post(url, data={"csrf_token": itoken, "type": "community", "action": "review",
                                  "unit": "C0101", "score": "84"})  # fmt: skip
    assert bare.status_code == 400 and "请填写复核意见" in bare.get_data(as_text=True)
    client.post(url, data={"csrf_token": itoken, "type": "community", "action": "review",
                           "unit": "C0101", "score": "84", "note": "台账不全"})  # fmt: skip
    proposal = proposals_of(cycle, "community")["C0101"]
    db.session.refresh(proposal)
    assert proposal.score == 93 and proposal.reviewed_score == 84  # both kept
    viewer = app.test_client()
    login(viewer, "viewer", "admin-demo-2026")
    vtoken = hidden_fields(viewer.get(url).get_data(as_text=True))["csrf_token"]
    assert viewer.post(url, data={"csrf_token": vtoken, "type": "community", "action": "review",
                                  "unit": "C0101", "score": "99"}).status_code == 403  # fmt: skip

    report = client.get(f"/admin/cycles/{cycle.id}/review/inflation?type=community")
    html = report.get_data(as_text=True)
    assert report.status_code == 200 and "东华门街道" in html
    assert "申报得分平均高出 9.00 分" in html and "最多高出 9.00 分" in html
    data = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', html)
    assert "东华门街道" in data.group(2)  # the chart's title is its alternative text
    root = ET.fromstring(base64.b64decode(data.group(1)))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]
    assert "申报" in texts and "复核后" in texts and "★★★★★" in texts and "★★★★" in texts
    assert street.get(f"/admin/cycles/{cycle.id}/review/inflation").status_code == 403


def test_each_review_post_is_read_by_its_own_form(app, client):
    """Propose, draw and review each have a form class (admin/forms.py): a note with a
    control character is refused beside the unit's note, nothing stored; an unknown action
    is a bad request, not a silent redirect."""
    demo.load(n_responses=300, seed=7)
    cycle = db.session.scalar(select(Cycle))
    url = f"/admin/cycles/{cycle.id}/review?type=community"
    login(client, "s01", "admin-demo-2026")
    token = hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]
    before = proposals_of(cycle, "community").get("C0101")
    refused = client.post(url, data={"csrf_token": token, "type": "community",
                                     "action": "propose", "unit": "C0101", "score": "93",
                                     "note": "自评\x07优秀"})  # fmt: skip
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'class="err"' in page and "自评" in page  # said beside the field, text kept
    assert proposals_of(cycle, "community").get("C0101") is before  # nothing stored
    odd = client.post(url, data={"csrf_token": token, "type": "community", "action": "x"})
    assert odd.status_code == 400
