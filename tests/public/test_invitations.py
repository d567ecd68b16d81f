"""Single-use invitations and the anonymity of members' answers."""

from __future__ import annotations

from sqlalchemy import func, select

from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.extensions import db
from evalsurvey.models import Channel, Invitation, LinkMode, Response
from tests.factories import hidden_fields, make_link

ANSWERS = {"attitude": "4", "speed": "3"}


def answer(client, token):
    url = f"/i/{token}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    return client.post(url, data={**fields, **ANSWERS}), fields


def test_invitation_is_single_use(app, client):
    link = make_link(group="member", mode=LinkMode.INVITE)
    inv = link_domain.create_invitations(link, [{"name": "张三"}])[0]
    db.session.commit()
    resp, fields = answer(client, inv.token)
    assert resp.status_code == 303
    # the same page posted again (double tap) is the same thank-you, not a second row
    again = client.post(f"/i/{inv.token}", data={**fields, **ANSWERS})
    assert again.status_code == 303 and again.headers["Location"] == resp.headers["Location"]
    # a fresh page for a used invitation says so
    used = client.get(f"/i/{inv.token}")
    assert used.status_code == 410 and "已经使用过" in used.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    db.session.refresh(inv)
    assert inv.used


def test_two_pages_of_one_invitation_store_one_response(app, client):
    link = make_link(group="member", mode=LinkMode.INVITE)
    inv = link_domain.create_invitations(link, [{"name": "李四"}])[0]
    db.session.commit()
    url = f"/i/{inv.token}"
    first = hidden_fields(client.get(url).get_data(as_text=True))
    second = hidden_fields(client.get(url).get_data(as_text=True))
    assert client.post(url, data={**first, **ANSWERS}).status_code == 303
    resp = client.post(url, data={**second, **ANSWERS})
    assert resp.status_code == 410
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_member_response_stores_nothing_about_the_person(app, client):
    link = make_link(group="member", mode=LinkMode.INVITE)
    inv = link_domain.create_invitations(
        link,
        [{"name": "王五", "contact": "wangwu@example.org", "rater_code": "M7", "rater_unit": "U9"}],
    )[0]
    db.session.commit()
    answer(client, inv.token)
    row = db.session.scalar(select(Response))
    values = {str(getattr(row, c.key)) for c in Response.__table__.columns}
    for secret in (inv.token, "王五", "wangwu@example.org", "M7"):
        assert not any(secret == v or (len(secret) > 3 and secret in v) for v in values), secret
    assert row.channel == Channel.INVITE and row.rater == "" and row.device == ""


def test_panel_link_keeps_pseudonym_for_rater_effects(app, client):
    link = make_link(group="panel", mode=LinkMode.INVITE, record_rater=True)
    inv = link_domain.create_invitations(
        link, [{"name": "专家甲", "rater_code": "E03", "rater_unit": "C0101"}]
    )[0]
    db.session.commit()
    answer(client, inv.token)
    row = db.session.scalar(select(Response))
    assert (row.rater, row.rater_unit) == ("E03", "C0101")
    assert "专家甲" not in str(row.answers)


def test_unknown_invitation_is_404(app, client):
    assert client.get("/i/not-a-token").status_code == 404


def test_invitation_has_no_timestamp_of_use():
    # a time of use could be matched with submitted_at and name the member
    assert not [c for c in Invitation.__table__.columns if "at" == c.key[-2:]]


def test_bulk_invitations_and_mail_merge_export(app, client):
    import csv
    import io

    from evalsurvey.models import Role
    from tests.factories import login, make_staff

    link = make_link(group="panel", mode=LinkMode.INVITE, record_rater=True)
    make_staff("admin1", Role.ADMIN)
    login(client, "admin1")
    page = client.get(f"/admin/links/{link.id}/invitations").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    people = "专家甲,a@example.org,E01,C01\n专家乙，b@example.org，E02，C02\n"
    resp = client.post(
        f"/admin/links/{link.id}/invitations", data={"csrf_token": token, "people": people}
    )
    assert resp.status_code == 302
    client.post(f"/admin/links/{link.id}/invitations", data={"csrf_token": token, "count": "3"})
    export = client.get(f"/admin/links/{link.id}/invitations.csv")
    assert export.mimetype == "text/csv"
    text = export.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel opens UTF-8 Chinese correctly with a BOM
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 5
    assert list(rows[0]) == ["姓名", "联系方式", "单位编码", "评委代号", "已使用", "个人链接"]
    assert (
        rows[1]["姓名"] == "专家乙" and rows[1]["评委代号"] == "E02" and rows[1]["已使用"] == "否"
    )
    assert all(r["个人链接"].startswith("http://testserver/i/") for r in rows)
    assert len({r["个人链接"] for r in rows}) == 5
    english = client.get(f"/admin/links/{link.id}/invitations.csv?lang=en").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("Name,Contact,Unit code,Rater,Used,Personal link")
    # the personal link works, once
    token_path = rows[0]["个人链接"].removeprefix("http://testserver")
    fields = hidden_fields(client.get(token_path).get_data(as_text=True))
    assert client.post(token_path, data={**fields, **ANSWERS}).status_code == 303
    assert client.get(token_path).status_code == 410


def test_concurrent_double_taps_on_an_invitation(app):
    import threading

    link = make_link(group="member", mode=LinkMode.INVITE)
    inv = link_domain.create_invitations(link, [{"name": "赵六"}])[0]
    db.session.commit()
    url = f"/i/{inv.token}"
    first = app.test_client()
    fields = hidden_fields(first.get(url).get_data(as_text=True))
    cookie = first.get_cookie("session").value
    results: list[int] = []
    barrier = threading.Barrier(6)

    def tap():
        with app.app_context():
            client = app.test_client()
            client.set_cookie("session", cookie)
            barrier.wait()
            results.append(client.post(url, data={**fields, **ANSWERS}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=tap) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [303] * 6  # every tap of the one page ends on the thank-you page
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_people_for_invitations_from_a_gbk_csv_or_a_workbook(app, client):
    import io

    from openpyxl import Workbook

    from evalsurvey.models import Role
    from tests.factories import login, make_staff

    link = make_link(group="panel", mode=LinkMode.INVITE, record_rater=True)
    make_staff("admin1", Role.ADMIN)
    login(client, "admin1")
    url = f"/admin/links/{link.id}/invitations"
    token = hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]
    gbk = "姓名,联系方式,评委代号,所在单位编码\n专家丙,c@example.org,E03,C03\n".encode("gbk")
    sent = client.post(url, data={"csrf_token": token, "people_file": (io.BytesIO(gbk), "p.csv")},
                       content_type="multipart/form-data")  # fmt: skip
    assert sent.status_code == 302
    book = Workbook()
    book.active.append(["姓名", "评委代号"])
    book.active.append(["专家丁", "E04"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    client.post(url, data={"csrf_token": token, "people_file": (data, "p.xlsx")},
                content_type="multipart/form-data")  # fmt: skip
    made = {i.name: i for i in db.session.scalars(select(Invitation))}
    assert made["专家丙"].rater_code == "E03" and made["专家丙"].rater_unit == "C03"
    assert made["专家丁"].rater_code == "E04"
    bad = client.post(url, data={"csrf_token": token,
                                 "people_file": (io.BytesIO(b"\xff\xfe\x00\x81\x00"), "p.csv")},
                      content_type="multipart/form-data")  # fmt: skip
    assert bad.status_code == 200 and "GBK" in bad.get_data(as_text=True)
