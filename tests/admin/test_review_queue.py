"""The review queue: suspect responses grouped by reason and unit, decided one by one or a
group at a time with a reason, audited, and counted accordingly by the next run."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain.access import Scope
from evalsurvey.domain.collecting.suspects import flags_of, review_queue
from evalsurvey.domain.results import analysis as cycle_analysis
from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, Cycle, Response, ResponseStatus, StaffUser
from tests.factories import hidden_fields, login

PASSWORD = "admin-demo-2026"


def _used(cycle) -> int:
    runs = cycle_analysis.run_analysis(cycle, "test", cycle_analysis.cycle_options(cycle))
    return sum(run.n_used for run in runs)


def test_decisions_change_the_next_run_and_are_audited(app, client):
    demo.load(n_responses=600, seed=3)
    cycle = db.session.scalar(select(Cycle))
    for run in cycle_analysis.latest_runs(cycle).values():
        cycle_analysis.mark_suspects(run.result)
    db.session.commit()
    admin = db.session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
    groups = review_queue(cycle, Scope.for_user(admin))
    assert groups, "the demo has suspect responses"
    before = _used(cycle)

    login(client, "admin", PASSWORD)
    url = f"/admin/cycles/{cycle.id}/review-queue"
    page = client.get(url).get_data(as_text=True)
    assert "可疑答卷复核" in page and groups[0].unit_name in page
    token = hidden_fields(page)["csrf_token"]
    # a decision needs a reason
    empty = {"csrf_token": token, "group": groups[0].key, "decision": "clear", "reason": ""}
    refused = client.post(url, data=empty, follow_redirects=True)
    assert "请填写复核理由" in refused.get_data(as_text=True)
    # a decision or a reason no page sends: a message, nothing decided, never a 500
    odd_posts = (
        ({"decision": "delete", "reason": "x"}, "请选择确认剔除或恢复有效"),
        ({"decision": "clear", "reason": "长" * 600}, "最多 500 个字符"),
    )
    for odd, said in odd_posts:
        refused = client.post(url, data={**empty, **odd}, follow_redirects=True)
        assert refused.status_code == 200 and said in refused.get_data(as_text=True)
    assert not db.session.scalars(select(Response).where(Response.reviewed.is_(True))).all()
    cleared = len(groups[0].entries)
    client.post(url, data={"csrf_token": token, "group": groups[0].key, "decision": "clear",
                           "reason": "现场核实为真实办事群众"})  # fmt: skip
    ticked = [r.public_id for r, _reasons, _d in groups[1].entries][:1] if len(groups) > 1 else []
    if ticked:
        client.post(url, data={"csrf_token": token, "ids": ticked, "decision": "confirm",
                               "reason": "同一人重复提交"})  # fmt: skip
    decided = db.session.scalars(select(Response).where(Response.reviewed.is_(True))).all()
    assert len(decided) == cleared + len(ticked)
    assert {r.status for r in decided if r.public_id in ticked} <= {ResponseStatus.EXCLUDED}
    reasons = db.session.scalars(
        select(AuditLog.changes).where(AuditLog.entity == "Response", AuditLog.action == "review")
    ).all()
    assert len(reasons) == len(decided) and reasons[0]["reason"][1] == "现场核实为真实办事群众"
    # the cleared responses count from the next run on; the queue no longer lists them
    assert _used(cycle) == before + cleared
    assert groups[0].key not in {g.key for g in review_queue(cycle, Scope.for_user(admin))}


def test_a_response_opens_within_scope_and_the_queue_is_the_offices(app, client):
    demo.load(n_responses=300, seed=3)
    cycle = db.session.scalar(select(Cycle))
    contact = db.session.scalar(select(StaffUser).where(StaffUser.username == "c0101"))
    mine = db.session.scalar(
        select(Response).where(Response.unit_id == contact.unit_id, Response.device != "")
    )
    other = db.session.scalar(select(Response).where(Response.unit_id != contact.unit_id))
    login(client, "c0101", PASSWORD)
    assert client.get(f"/admin/cycles/{cycle.id}/review-queue").status_code == 403
    page = client.get(f"/admin/responses/{mine.public_id}")
    assert page.status_code == 200 and "同一设备" not in page.get_data(as_text=True)
    assert client.get(f"/admin/responses/{other.public_id}").status_code == 403
    assert client.get("/admin/responses/R-nothing").status_code == 404
    office = app.test_client()
    login(office, "viewer", PASSWORD)
    html = office.get(f"/admin/responses/{mine.public_id}").get_data(as_text=True)
    assert mine.public_id in html and "题目" in html


def test_the_response_browser_filters_in_the_url(app, client):
    from datetime import timedelta

    from evalsurvey.timezones import to_local

    demo.load(n_responses=300, seed=3)
    cycle = db.session.scalar(select(Cycle))
    for run in cycle_analysis.latest_runs(cycle).values():
        cycle_analysis.mark_suspects(run.result)
    db.session.commit()
    login(client, "admin", PASSWORD)
    base = f"/admin/cycles/{cycle.id}/responses"

    def ids(query: str) -> set[str]:
        html = client.get(base + query).get_data(as_text=True)
        return set(re.findall(r"/admin/responses/(R[0-9a-f]+)\"", html))

    speeders = {rid for rid, f in flags_of(cycle).items() if "speeder" in (f.get("reasons") or [])}
    shown = ids("?reason=speeder")
    assert shown and shown <= speeders
    imported = ids("?channel=import")
    assert imported == set()  # the demo has none
    one = db.session.scalar(select(Response).order_by(Response.submitted_at))
    day = to_local(one.submitted_at).date()
    on_day = ids(f"?from={day}&to={day}")
    assert one.public_id in on_day
    later = ids(f"?from={day + timedelta(days=1)}")
    assert one.public_id not in later
