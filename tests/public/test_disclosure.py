"""Publication (公示): frozen results, a public page, objections answered in public."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, Cycle, CycleStatus, Objection, Publication
from evalsurvey.models.types import utcnow
from tests.factories import hidden_fields, login


def _published_demo(app, client):
    demo.load(n_responses=400, seed=5)
    cycle = db.session.scalar(select(Cycle))
    login(client, "admin", "admin-demo-2026")
    refused = client.post(
        f"/admin/cycles/{cycle.id}/publish?type=community",
        data=hidden_fields(
            client.get(f"/admin/cycles/{cycle.id}/publish?type=community").get_data(as_text=True)
        ),
        follow_redirects=True,
    )
    assert "只能公示已关闭周期的结果" in refused.get_data(as_text=True)
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    page = client.get(f"/admin/cycles/{cycle.id}/publish?type=community")
    assert page.status_code == 200 and "确认公示" in page.get_data(as_text=True)
    client.post(
        f"/admin/cycles/{cycle.id}/publish?type=community",
        data=hidden_fields(page.get_data(as_text=True)),
    )
    published = db.session.scalar(select(Publication))
    assert published is not None and published.unit_type == "community"
    # the log keeps the size of the frozen documents, never the documents again
    logged = db.session.scalar(select(AuditLog).where(AuditLog.entity == "Publication"))
    for name in ("rows", "reports", "result"):
        assert set(logged.changes[name][1] or {"count": 0}) == {"count"}, name
    return cycle, published


def test_the_public_page_lists_frozen_results_and_takes_objections(app, client):
    cycle, published = _published_demo(app, client)
    public = app.test_client()
    url = f"/p/{cycle.code}/community"
    page = public.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "结果公示" in html and "★" in html
    # no respondents, no rater ids (the CSRF token is random text: look for ids as words)
    assert "citizen" not in html and not re.search(r"\bE0[1-8]\b", html)
    first = publication_domain.public_rows(published)[0]
    assert first.name in html
    fields = hidden_fields(html)
    empty = public.post(url, data={**fields, "unit": first.unit, "text": ""})
    assert empty.status_code == 400 and "请填写异议内容" in empty.get_data(as_text=True)
    objection = {"text": "我社区的居民满意度统计有误", "name": "王五", "contact": "13800000000"}
    sent = public.post(url, data={**fields, "unit": first.unit, **objection})
    assert sent.status_code == 303
    objection = db.session.scalar(select(Objection))
    assert objection.contact == "13800000000"
    # the office answers; the answer is public, the name and contact never are
    admin_page = client.get(f"/admin/cycles/{cycle.id}/objections?type=community")
    assert "13800000000" in admin_page.get_data(as_text=True)
    client.post(
        f"/admin/cycles/{cycle.id}/objections",
        data={
            **hidden_fields(admin_page.get_data(as_text=True)),
            "type": "community",
            "objection": objection.id,
            "answer": "经复核，统计无误。",
        },
    )
    missing = client.post(
        f"/admin/cycles/{cycle.id}/objections",
        data={
            "csrf_token": hidden_fields(admin_page.get_data(as_text=True))["csrf_token"],
            "type": "community",
        },
    )
    assert missing.status_code == 302  # no objection named: refused, never a 500
    again = public.get(url).get_data(as_text=True)
    assert "经复核，统计无误。" in again and "13800000000" not in again and "王五" not in again


def test_results_stay_frozen_and_objections_close(app, client):
    cycle, published = _published_demo(app, client)
    before = publication_domain.public_rows(published)
    from evalsurvey.domain.assessment import composite

    composite.set_weights(cycle, "community", {"inspection": 1.0})
    db.session.commit()
    composite.run_composite(cycle, "community", "test")  # a later computation...
    assert publication_domain.public_rows(published) == before  # ...does not change the page
    published.objections_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    public = app.test_client()
    html = public.get(f"/p/{cycle.code}/community").get_data(as_text=True)
    assert "公示期已结束" in html and "提出异议" not in html
    assert public.get(f"/p/{cycle.code}/service_window").status_code == 404  # not published
