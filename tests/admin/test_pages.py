"""Staff pages: sign-in, role checks, the responses page, QR codes, posters, imports."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, Cycle, Link, Questionnaire, Role, Unit
from tests.factories import (
    SIMPLE_QUESTIONNAIRE,
    hidden_fields,
    login,
    make_cycle,
    make_link,
    make_staff,
    make_unit,
)

STAFF_PAGES = [
    "/admin/",
    "/admin/units",
    "/admin/cycles",
    "/admin/rater-groups",
    "/admin/questionnaires",
]


def submit(client, link, attitude="5"):
    url = f"/s/{link.code}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    return client.post(url, data={**fields, "attitude": attitude, "speed": "4"})


@pytest.mark.parametrize(
    "path", STAFF_PAGES + ["/admin/cycles/1/responses", "/admin/links/1/qr.png"]
)
def test_anonymous_users_reach_no_staff_page(app, client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_wrong_password_is_refused(app, client):
    make_staff("admin1")
    resp = login(client, "admin1", "wrong")
    assert resp.status_code == 200 and "不正确" in resp.get_data(as_text=True)
    assert client.get("/admin/units").status_code == 302


def test_admin_sees_every_page(app, client):
    make_staff("admin1")
    link = make_link()
    login(client, "admin1")
    for path in STAFF_PAGES + [
        f"/admin/cycles/{link.cycle_id}",
        f"/admin/cycles/{link.cycle_id}/responses",
        f"/admin/cycles/{link.cycle_id}/posters",
        f"/admin/questionnaires/{link.questionnaire_id}",
    ]:
        assert client.get(path).status_code == 200, path


def test_unit_contact_sees_only_own_subtree(app, client):
    street = make_unit("S1", type="street")
    mine = make_unit("W1", parent=street)
    theirs = make_unit("W2")
    cycle = make_cycle()
    mine_link = make_link(unit=mine, cycle=cycle)
    q = db.session.get(Questionnaire, mine_link.questionnaire_id)
    theirs_link = make_link(unit=theirs, cycle=cycle, questionnaire=q)
    submit(client, mine_link)
    submit(client, theirs_link)
    make_staff("contact", Role.UNIT_CONTACT, unit=street)
    login(client, "contact")
    assert client.get(f"/admin/cycles/{cycle.id}/responses?unit=W2").status_code == 403
    assert client.get(f"/admin/links/{theirs_link.id}/qr.png").status_code == 403
    assert client.get(f"/admin/cycles/{cycle.id}/responses?unit=W1").status_code == 200
    page = client.get(f"/admin/cycles/{cycle.id}/responses").get_data(as_text=True)
    # as the page shows codes (a random CSRF token may contain the letters "W2")
    assert ">W1<" in page and ">W2<" not in page and "unit=W2" not in page
    csv_text = client.get(f"/admin/cycles/{cycle.id}/responses.csv").get_data(as_text=True)
    assert ",W1," in csv_text and ",W2," not in csv_text
    assert client.get("/admin/units").status_code == 403


def test_viewer_cannot_change_things(app, client):
    link = make_link()
    make_staff("viewer", Role.VIEWER)
    login(client, "viewer")
    assert client.get(f"/admin/cycles/{link.cycle_id}/responses").status_code == 200
    token = hidden_fields(client.get(f"/admin/cycles/{link.cycle_id}").get_data(as_text=True))
    resp = client.post(
        f"/admin/links/{link.id}/close", data={"csrf_token": token.get("csrf_token", "")}
    )
    assert resp.status_code == 403


def test_count_rises_on_responses_page(app, client):
    link = make_link()
    make_staff("admin1")
    login(client, "admin1")
    page = client.get(f"/admin/cycles/{link.cycle_id}/responses").get_data(as_text=True)
    assert '<strong id="total">0</strong>' in page
    submit(client, link)
    submit(client, link)
    page = client.get(f"/admin/cycles/{link.cycle_id}/responses").get_data(as_text=True)
    assert '<strong id="total">2</strong>' in page


def test_qr_codes_are_real_and_point_at_the_link(app, client):
    import numpy as np
    import png
    import zxingcpp

    link = make_link()
    make_staff("admin1")
    login(client, "admin1")
    resp = client.get(f"/admin/links/{link.id}/qr.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    width, height, rows, _info = png.Reader(bytes=resp.data).read()
    assert width == height and width >= 21 * 10
    pixels = np.array([list(r) for r in rows], dtype=np.uint8) * 255
    decoded = [code.text for code in zxingcpp.read_barcodes(pixels)]
    assert decoded == [f"http://testserver/s/{link.code}"]  # a phone would open the link
    svg = client.get(f"/admin/links/{link.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.data.startswith(b"<svg")
    poster = client.get(f"/admin/cycles/{link.cycle_id}/posters").get_data(as_text=True)
    assert link.unit.name in poster and f"http://testserver/s/{link.code}" in poster
    assert "@page{size:A4" in poster


def test_unit_csv_import_all_or_nothing(app, client):
    make_staff("admin1")
    login(client, "admin1")
    token = hidden_fields(client.get("/admin/units").get_data(as_text=True))["imp-csrf_token"]
    bad = "code,name,type,parent\nD1,区,district,\nS1,街道,street,NOPE\n"
    resp = client.post(
        "/admin/units/import",
        data={"imp-csrf_token": token, "imp-file": (io.BytesIO(bad.encode()), "u.csv")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "<td>3</td><td>parent</td>" in html and "NOPE" in html
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
    good = "code,name,type,parent\nS1,街道,street,D1\nD1,区,district,\n"
    resp = client.post(
        "/admin/units/import",
        data={"imp-csrf_token": token, "imp-file": (io.BytesIO(good.encode("utf-8-sig")), "u.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    s1 = db.session.scalar(select(Unit).where(Unit.code == "S1"))
    assert s1.parent.code == "D1"


def test_questionnaire_json_round_trip_and_publish(app, client):
    make_staff("admin1")
    login(client, "admin1")
    token = hidden_fields(client.get("/admin/questionnaires").get_data(as_text=True))
    data = json.dumps(SIMPLE_QUESTIONNAIRE, ensure_ascii=False).encode()
    resp = client.post(
        "/admin/questionnaires",
        data={**token, "file": (io.BytesIO(data), "q.json")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    q = db.session.scalar(select(Questionnaire))
    exported = client.get(f"/admin/questionnaires/{q.id}.json").get_json()
    assert [i["code"] for i in exported["items"]] == [
        i["code"] for i in SIMPLE_QUESTIONNAIRE["items"]
    ]
    assert exported["items"][3]["max_points"] == 10
    broken = client.post(
        "/admin/questionnaires",
        data={
            **token,
            "file": (
                io.BytesIO(b'{"code": "X", "title": "t", "items": [{"code": "a"}]}'),
                "q.json",
            ),
        },
        content_type="multipart/form-data",
    )
    assert broken.status_code == 400 and "#1：缺少“type”。" in broken.get_data(as_text=True)
    # publishing asks first (a page, no JavaScript), and only the confirmed post publishes
    confirm = client.get(f"/admin/questionnaires/{q.id}/publish")
    assert confirm.status_code == 200 and "确认发布" in confirm.get_data(as_text=True)
    db.session.refresh(q)
    assert not q.published
    client.post(
        f"/admin/questionnaires/{q.id}/publish", data=hidden_fields(confirm.get_data(as_text=True))
    )
    db.session.refresh(q)
    assert q.published


def test_create_links_for_every_window_and_audit(app, client):
    make_staff("admin1")
    cycle = make_cycle()
    for code in ("W1", "W2", "W3"):
        make_unit(code)
    make_link(cycle=cycle)  # publishes a questionnaire and seeds the rater groups
    q = db.session.scalar(select(Questionnaire))
    db.session.commit()
    login(client, "admin1")
    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    token = hidden_fields(page)["link-csrf_token"]
    from evalsurvey.models import RaterGroup

    citizen = db.session.scalar(select(RaterGroup).where(RaterGroup.code == "citizen"))
    form = {
        "link-csrf_token": token,
        "link-questionnaire": q.id,
        "link-rater_group": citizen.id,
        "link-unit": "",
        "link-unit_type": "service_window",
        "link-mode": "public",
    }
    resp = client.post(f"/admin/cycles/{cycle.id}/links", data=form)
    assert resp.status_code == 302
    n_links = db.session.scalar(select(func.count()).select_from(Link))
    windows = db.session.scalar(
        select(func.count()).select_from(Unit).where(Unit.type == "service_window")
    )
    assert n_links == windows  # the window that had a link keeps it
    audit_rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "Link", AuditLog.actor == "admin1")
    ).all()
    assert len(audit_rows) == windows - 1 and audit_rows[0].action == "create"
    # the same again: nothing doubles, and the page says so
    again = client.post(f"/admin/cycles/{cycle.id}/links", data=form, follow_redirects=True)
    assert db.session.scalar(select(func.count()).select_from(Link)) == windows
    assert f"{windows} 个单位已有相同的链接" in again.get_data(as_text=True)


def test_response_status_change_is_audited(app, client):
    link = make_link()
    submit(client, link)
    make_staff("insp", Role.INSPECTOR)
    login(client, "insp")
    page = client.get(f"/admin/cycles/{link.cycle_id}/responses").get_data(as_text=True)
    from evalsurvey.models import Response

    r = db.session.scalar(select(Response))
    token = hidden_fields(page)["csrf_token"]
    client.post(
        f"/admin/responses/{r.public_id}/status", data={"csrf_token": token, "status": "excluded"}
    )
    db.session.refresh(r)
    assert r.status == "excluded"
    row = db.session.scalar(select(AuditLog).where(AuditLog.entity == "Response"))
    assert row.actor == "insp" and row.changes == {"status": ["valid", "excluded"]}


def test_staff_form_post_without_csrf_is_400(app, client):
    make_staff("admin1")
    login(client, "admin1")
    resp = client.post("/admin/units", data={"code": "X1", "name": "x", "type": "other"})
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_edit_a_draft_questionnaire_but_never_a_published_one(app, client):
    from tests.factories import make_questionnaire

    make_staff("admin1")
    draft = make_questionnaire(published=False)
    published = make_questionnaire()
    db.session.commit()
    login(client, "admin1")
    page = client.get(f"/admin/questionnaires/{draft.id}/edit").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    data = json.loads(json.dumps(SIMPLE_QUESTIONNAIRE))
    data["title"] = "改过的标题"
    data["items"] = data["items"][:2] + [{"code": "new", "text": "新题", "type": "text"}]
    resp = client.post(
        f"/admin/questionnaires/{draft.id}/edit",
        data={"csrf_token": token, "definition": json.dumps(data)},
    )
    assert resp.status_code == 302
    db.session.refresh(draft)
    assert draft.title == "改过的标题"
    assert [i.code for i in draft.items] == ["attitude", "speed", "new"]
    bad = client.post(
        f"/admin/questionnaires/{draft.id}/edit",
        data={"csrf_token": token, "definition": "{not json"},
    )
    assert bad.status_code == 400 and "JSON" in bad.get_data(as_text=True)
    locked = client.get(f"/admin/questionnaires/{published.id}/edit")
    assert locked.status_code == 302
    before = [i.code for i in published.items]
    client.post(
        f"/admin/questionnaires/{published.id}/edit",
        data={"csrf_token": token, "definition": json.dumps(data)},
    )
    db.session.refresh(published)
    assert [i.code for i in published.items] == before


def test_edit_cycle_dates_and_see_it_in_the_audit_log(app, client):
    make_staff("admin1")
    cycle = make_cycle()
    login(client, "admin1")
    page = client.get(f"/admin/cycles/{cycle.id}/edit").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    bad = client.post(
        f"/admin/cycles/{cycle.id}/edit",
        data={
            "csrf_token": token,
            "name": "周期",
            "opens_at": "2026-12-01T00:00",
            "closes_at": "2026-11-01T00:00",
        },
    )
    assert bad.status_code == 200 and "截止时间必须晚于开始时间" in bad.get_data(as_text=True)
    resp = client.post(
        f"/admin/cycles/{cycle.id}/edit",
        data={
            "csrf_token": token,
            "name": "延长后的周期",
            "opens_at": "2026-11-01T08:00",
            "closes_at": "2027-01-31T18:00",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-1500:]
    db.session.refresh(cycle)
    assert cycle.closes_at.isoformat() == "2027-01-31T10:00:00+00:00"  # 18:00 in Beijing
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "延长后的周期" in log and "admin1" in log


def test_comments_reach_staff_but_members_words_not_their_own_branch(app, client):
    from tests.factories import make_response

    branch = make_unit("B1", type="agency_branch")
    cycle = make_cycle()
    citizen_link = make_link(unit=branch, cycle=cycle)
    member_link = make_link(
        unit=branch,
        cycle=cycle,
        group="member",
        questionnaire=db.session.get(Questionnaire, citizen_link.questionnaire_id),
    )
    make_response(citizen_link, {"attitude": 2}).comment = "窗口排队太久<script>"
    make_response(member_link, {"attitude": 3}).comment = "支部会议流于形式"
    db.session.commit()
    make_staff("admin1")
    make_staff("contact", Role.UNIT_CONTACT, unit=branch)
    login(client, "admin1")
    page = client.get(f"/admin/cycles/{cycle.id}/responses").get_data(as_text=True)
    assert "窗口排队太久&lt;script&gt;" in page and "支部会议流于形式" in page  # escaped
    client.post("/auth/logout", data={"csrf_token": hidden_fields(page)["csrf_token"]})
    login(client, "contact")
    page = client.get(f"/admin/cycles/{cycle.id}/responses").get_data(as_text=True)
    assert "窗口排队太久" in page and "支部会议流于形式" not in page
    exported = client.get(f"/admin/cycles/{cycle.id}/responses.csv").get_data(as_text=True)
    assert ",citizen," in exported and ",member," not in exported


def test_admin_creates_a_unit_contact_who_then_signs_in(app, client):
    make_staff("admin1")
    street = make_unit("S9", type="street")
    login(client, "admin1")
    token = hidden_fields(client.get("/admin/staff").get_data(as_text=True))["csrf_token"]
    missing_unit = client.post(
        "/admin/staff",
        data={
            "csrf_token": token,
            "username": "c9",
            "role": "unit_contact",
            "password": "long-pass-99",
        },
    )
    assert "必须指定所属单位" in missing_unit.get_data(as_text=True)
    resp = client.post(
        "/admin/staff",
        data={
            "csrf_token": token,
            "username": "c9",
            "name": "联络员",
            "role": "unit_contact",
            "unit": "S9",
            "password": "long-pass-99",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2500:]
    from evalsurvey.models import StaffUser

    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "c9"))
    assert user.unit_id == street.id and user.password_hash != "long-pass-99"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity == "StaffUser"))
    assert entry.changes["password_hash"] == [None, "***"]  # never in the log
    assert entry.changes["session_token"] == [None, "***"]  # nor what signs the account in
    assert user.session_token not in json.dumps(entry.changes)
    client.post(f"/admin/staff/{user.id}/active", data={"csrf_token": token})
    db.session.refresh(user)
    assert not user.active
    client.post("/auth/logout", data={"csrf_token": token})
    assert "不正确" in login(client, "c9", "long-pass-99").get_data(as_text=True)


def test_posters_name_code_and_parent_and_filter_by_street(app, client):
    from evalsurvey import demo

    demo.load(n_responses=50, seed=1)
    cycle = db.session.scalar(select(Cycle))
    login(client, "admin", "admin-demo-2026")
    page = client.get(f"/admin/cycles/{cycle.id}/posters").get_data(as_text=True)
    assert page.count('class="poster"') == 24 + 12  # every window and community QR link
    # windows of the same name are told apart by their code and parent
    assert "W01011" in page and "北池子社区" in page
    street = client.get(f"/admin/cycles/{cycle.id}/posters?within=S01&type=service_window")
    html = street.get_data(as_text=True)
    assert html.count('class="poster"') == 8 and "W02011" not in html


def test_invitation_slips_print_unnamed_invitations_in_random_order(app, client):
    from evalsurvey.domain.collecting import links as link_domain
    from evalsurvey.models import LinkMode

    link = make_link(mode=LinkMode.INVITE, group="member")
    named = link_domain.create_invitations(link, [{"name": "张三"}])
    anonymous = link_domain.create_invitations(link, [{}] * 12)
    db.session.commit()
    make_staff("adm")
    login(client, "adm")
    html = client.get(f"/admin/links/{link.id}/slips").get_data(as_text=True)
    shown = re.findall(r"/i/([A-Za-z0-9_-]+)</div>", html)
    assert sorted(shown) == sorted(inv.token for inv in anonymous)
    assert named[0].token not in html and "张三" not in html
    assert html.count("<svg") == 12  # a QR code on every slip
