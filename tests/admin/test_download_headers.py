"""Downloads name their type once: one charset in a CSV's Content-Type (QA defect 13)."""

from __future__ import annotations

from tests.factories import login, make_cycle, make_staff


def test_the_csv_downloads_give_their_charset_once(app, client):
    make_staff("adm")
    cycle = make_cycle()
    login(client, "adm")
    resp = client.get(f"/admin/cycles/{cycle.id}/responses.csv")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers.get_all("Content-Type") == ["text/csv; charset=utf-8"]
