"""The feedback report list offers only reports that exist (issue 16, defect 3): it linked every
unit of the type, and a unit never assessed (not in the stored composite, so never in the
published results) led to "将在结果公示后提供" even after publication. Before publication the
office is offered the previews (the units in the stored composite), after it the published
units; any other unit is listed with a sentence saying it has no report."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.admin import feedback as feedback_views
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.domain.units import create_unit
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus
from tests.factories import login

PASSWORD = "admin-demo-2026"
NOT_IN_COMPOSITE = "没有反馈报告：该单位不在最新保存的综合结果中。"
NOT_PUBLISHED = "没有反馈报告：该单位不在公示的结果中。"


def _links(client, url: str) -> tuple[str, list[str]]:
    """The list page and every link in its table, each answered 200."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    table = html[html.index("<table>") : html.index("</table>")]
    links = re.findall(r'href="([^"]+)"', table)
    for link in links:
        got = client.get(link.replace("&amp;", "&"))
        assert got.status_code == 200, link
    return table, links


def _row(table: str, code: str) -> str:
    (row,) = [r for r in re.findall(r"<tr>.*?</tr>", table, re.S) if f">{code}<" in r]
    return row


def test_only_reports_that_exist_are_offered(app, client, monkeypatch):
    # every PDF link is followed; drawing the PDFs themselves is test_feedback's (seconds each)
    monkeypatch.setattr(feedback_views, "html_to_pdf", lambda html: b"%PDF-1.7 " + html.encode())
    demo.load(n_responses=200, seed=4)
    cycle = db.session.scalar(select(Cycle))
    new = create_unit("C0105", "东华门街道新建社区", "community", "S01")  # never assessed
    db.session.commit()
    url = f"/admin/cycles/{cycle.id}/reports?type=community"
    report = f"/admin/cycles/{cycle.id}/units/{new.id}/report"
    login(client, "admin", PASSWORD)
    street = app.test_client()
    login(street, "s01", PASSWORD)

    table, links = _links(client, url)  # the previews
    assert report not in table and NOT_IN_COMPOSITE in _row(table, "C0105")
    assert f"/admin/cycles/{cycle.id}/units/" in _row(table, "C0101")
    assert len(links) == 2 * 12  # the page and the PDF of every community of the demo
    assert client.get(report).status_code == 404  # it says so in words
    assert NOT_IN_COMPOSITE in client.get(report).get_data(as_text=True)
    table, links = _links(street, url)  # nothing a street may read before publication
    assert links == [] and NOT_IN_COMPOSITE not in table

    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    publication_domain.publish_results(cycle, "community", "admin", reason="新社区下期参加考核")
    db.session.commit()
    for who, n in ((client, 12), (street, 4)):  # the street: its own four communities
        table, links = _links(who, url)
        assert report not in table and NOT_PUBLISHED in _row(table, "C0105")
        assert len(links) == 2 * n
        missing = who.get(report)
        assert missing.status_code == 404
        text = missing.get_data(as_text=True)
        assert NOT_PUBLISHED in text and "将在结果公示后提供" not in text
