"""Cycle and link status changes: a confirmation page first, reopening with an audited reason."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, CycleStatus
from tests.factories import hidden_fields, login, make_link, make_staff


def test_closing_a_cycle_asks_first_and_reopening_needs_a_reason(app, client):
    link = make_link()
    cycle = link.cycle
    make_staff("adm")
    login(client, "adm")
    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    assert f"/admin/cycles/{cycle.id}/status/closed" in page
    confirm = client.get(f"/admin/cycles/{cycle.id}/status/closed")
    assert confirm.status_code == 200 and "关闭后不再接受答卷" in confirm.get_data(as_text=True)
    db.session.refresh(cycle)
    assert cycle.status == CycleStatus.OPEN  # looking at the page changed nothing
    client.post(
        f"/admin/cycles/{cycle.id}/status/closed",
        data=hidden_fields(confirm.get_data(as_text=True)),
    )
    db.session.refresh(cycle)
    assert cycle.status == CycleStatus.CLOSED and cycle.closed_at is not None
    reopen = client.get(f"/admin/cycles/{cycle.id}/status/open")
    fields = hidden_fields(reopen.get_data(as_text=True))
    empty = client.post(f"/admin/cycles/{cycle.id}/status/open", data={**fields, "reason": ""})
    assert empty.status_code == 400 and "请填写原因" in empty.get_data(as_text=True)
    client.post(
        f"/admin/cycles/{cycle.id}/status/open", data={**fields, "reason": "截止日期延长一周"}
    )
    db.session.refresh(cycle)
    assert cycle.status == CycleStatus.OPEN and cycle.closed_at is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "reopen"))
    assert entry.changes["reason"][1] == "截止日期延长一周" and entry.actor == "adm"
    # a move that is not allowed is simply not there
    assert client.get(f"/admin/cycles/{cycle.id}/status/draft").status_code == 404


def test_closing_and_reopening_a_link(app, client):
    link = make_link()
    make_staff("adm")
    login(client, "adm")
    confirm = client.get(f"/admin/links/{link.id}/close")
    assert confirm.status_code == 200
    db.session.refresh(link)
    assert link.active
    client.post(f"/admin/links/{link.id}/close", data=hidden_fields(confirm.get_data(as_text=True)))
    db.session.refresh(link)
    assert not link.active
    assert client.get(f"/s/{link.code}").status_code == 410
    page = client.get(f"/admin/links/{link.id}/reopen")
    client.post(
        f"/admin/links/{link.id}/reopen",
        data={**hidden_fields(page.get_data(as_text=True)), "reason": "海报贴错了窗口，已更正"},
    )
    db.session.refresh(link)
    assert link.active and client.get(f"/s/{link.code}").status_code == 200


def _page_from(client, host: str, url: str) -> str:
    """Sign in and open ``url`` as a browser that reached the app at ``host``."""
    page = client.get("/auth/login", base_url=host).get_data(as_text=True)
    client.post(
        "/auth/login",
        base_url=host,
        data={**hidden_fields(page), "username": "adm", "password": "secret-pass-1"},
    )
    return client.get(url, base_url=host).get_data(as_text=True)


def test_links_and_posters_use_the_request_address_and_warn_on_loopback(app):
    app.config["PUBLIC_BASE_URL"] = ""
    link = make_link()
    make_staff("adm")
    posters = f"/admin/cycles/{link.cycle_id}/posters"
    local = _page_from(app.test_client(), "http://127.0.0.1:5000", posters)
    assert f"http://127.0.0.1:5000/s/{link.code}" in local and "手机扫码无法打开" in local
    public = _page_from(app.test_client(), "http://pj.example.gov.cn", posters)
    assert f"http://pj.example.gov.cn/s/{link.code}" in public and "手机扫码无法打开" not in public
    cycle_page = _page_from(
        app.test_client(), "http://localhost:5000", f"/admin/cycles/{link.cycle_id}"
    )
    assert "手机扫码无法打开" in cycle_page


def test_links_command_warns_while_the_address_is_loopback(app, runner):
    app.config["PUBLIC_BASE_URL"] = ""
    link = make_link()
    result = runner.invoke(args=["links", "--cycle", link.cycle.code])
    assert "phones cannot reach" in result.output
    app.config["PUBLIC_BASE_URL"] = "https://pj.example.gov.cn"
    result = runner.invoke(args=["links", "--cycle", link.cycle.code])
    assert (
        "phones cannot reach" not in result.output
        and "https://pj.example.gov.cn/s/" in result.output
    )
