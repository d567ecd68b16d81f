"""Staff accounts: sessions end when they should, passwords change, roles default safely."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import Role, StaffUser
from tests.factories import hidden_fields, login, make_staff, make_unit


def _csrf(client, url="/admin/"):
    return hidden_fields(client.get(url).get_data(as_text=True))["csrf_token"]


def test_logout_revokes_a_copied_session_cookie(app, client):
    make_staff("adm")
    login(client, "adm")
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/admin/").status_code == 200  # the copy works while signed in
    client.post("/auth/logout", data={"csrf_token": _csrf(client)})
    resp = stolen.get("/admin/")
    assert resp.status_code == 302 and "/auth/login" in resp.headers["Location"]


def test_changing_a_password_ends_other_sessions_but_not_this_one(app, client):
    make_staff("adm")
    login(client, "adm")
    other = app.test_client()
    login(other, "adm")
    page = client.get("/auth/password").get_data(as_text=True)
    wrong = client.post(
        "/auth/password",
        data={
            **hidden_fields(page),
            "current": "nope",
            "new": "n3w-pass-word",
            "confirm": "n3w-pass-word",
        },
    )
    assert "当前密码不正确" in wrong.get_data(as_text=True)
    short = client.post(
        "/auth/password",
        data={
            **hidden_fields(page),
            "current": "secret-pass-1",
            "new": "short",
            "confirm": "short",
        },
    )
    assert "密码至少 8 位" in short.get_data(as_text=True)
    resp = client.post(
        "/auth/password",
        data={
            **hidden_fields(page),
            "current": "secret-pass-1",
            "new": "n3w-pass-word",
            "confirm": "n3w-pass-word",
        },
    )
    assert resp.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 302
    fresh = app.test_client()
    assert login(fresh, "adm", "n3w-pass-word").status_code == 302


def test_admin_resets_a_password_and_changes_a_role(app, client):
    make_staff("adm")
    unit = make_unit("C1", type="community")
    user = make_staff("bob", Role.INSPECTOR)
    bob = app.test_client()
    login(bob, "bob")
    login(client, "adm")
    page = client.get(f"/admin/staff/{user.id}").get_data(as_text=True)
    fields = hidden_fields(page)
    resp = client.post(
        f"/admin/staff/{user.id}",
        data={
            "csrf_token": fields["csrf_token"],
            "reset-password": "brand-new-99",
            "reset-submit": "1",
        },
    )
    assert resp.status_code == 302
    assert bob.get("/admin/").status_code == 302  # signed out by the reset
    resp = client.post(
        f"/admin/staff/{user.id}",
        data={
            "csrf_token": fields["csrf_token"],
            "role-role": "unit_contact",
            "role-unit": "",
            "role-submit": "1",
        },
    )
    assert "必须指定所属单位" in resp.get_data(as_text=True)
    client.post(
        f"/admin/staff/{user.id}",
        data={
            "csrf_token": fields["csrf_token"],
            "role-role": "unit_contact",
            "role-unit": "C1",
            "role-submit": "1",
        },
    )
    db.session.refresh(user)
    assert user.role == Role.UNIT_CONTACT and user.unit_id == unit.id


def test_a_new_account_defaults_to_viewer(app, client):
    make_staff("adm")
    login(client, "adm")
    page = client.get("/admin/staff").get_data(as_text=True)
    assert '<option selected value="viewer">' in page
    client.post(
        "/admin/staff",
        data={
            "csrf_token": hidden_fields(page)["csrf_token"],
            "username": "newbie",
            "password": "long-pass-99",
            "role": "viewer",
        },
    )
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "newbie"))
    assert user.role == Role.VIEWER


def test_create_admin_makes_a_unit_contact(app, runner):
    make_unit("C9", type="community")
    result = runner.invoke(
        args=[
            "create-admin",
            "c9",
            "--role",
            "unit_contact",
            "--unit",
            "C9",
            "--password",
            "long-pass-99",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "c9"))
    assert user.unit.code == "C9"
    missing = runner.invoke(
        args=["create-admin", "c10", "--role", "unit_contact", "--password", "long-pass-99"]
    )
    assert missing.exit_code == 2 and "A unit contact needs a unit" in missing.output
    assert db.session.scalar(select(StaffUser).where(StaffUser.username == "c10")) is None
