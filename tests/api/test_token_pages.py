"""Tokens on the staff pages, in Chinese and English: made (shown once) and revoked."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import ApiToken
from tests.api.conftest import bearer
from tests.factories import hidden_fields, login


def _make(client, **data) -> str:
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    return client.post(
        "/admin/api-tokens", data={"csrf_token": hidden_fields(page)["csrf_token"], **data}
    ).get_data(as_text=True)


def test_a_street_contact_makes_uses_and_revokes_its_own_token(client, world):
    login(client, "street1")
    page = _make(client, name="热线回访", scope="read")
    assert "只显示这一次" in page
    secret = re.search(r"<code[^>]*>(evs_[^<]+)</code>", page).group(1)
    # shown once: the list shows only its start
    listed = client.get("/admin/api-tokens").get_data(as_text=True)
    assert secret not in listed and secret[:12] in listed and "只读" in listed
    assert client.get("/api/v1/units", headers=bearer(secret)).status_code == 200
    # a write token is not offered, and a forged post for one is refused by its field
    assert "读写" not in listed
    refused = _make(client, name="x", scope="write")
    assert "evs_" not in refused.split("新建令牌")[0] or "只显示这一次" not in refused
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "热线回访"))
    form = hidden_fields(listed)
    # revoking asks first (a page, no JavaScript): the link alone revokes nothing
    confirm = client.get(f"/admin/api-tokens/{token.id}/revoke")
    assert confirm.status_code == 200 and "确认撤销" in confirm.get_data(as_text=True)
    assert client.get("/api/v1/units", headers=bearer(secret)).status_code == 200
    r = client.post(
        f"/admin/api-tokens/{token.id}/revoke", data=hidden_fields(confirm.get_data(as_text=True))
    )
    assert r.status_code == 302
    assert client.get("/api/v1/units", headers=bearer(secret)).status_code == 401
    # another account's token: 403
    other = db.session.scalar(select(ApiToken).where(ApiToken.name == "viewer1-read"))
    r = client.post(f"/admin/api-tokens/{other.id}/revoke", data={"csrf_token": form["csrf_token"]})
    assert r.status_code == 403


def test_an_admin_makes_a_write_token_for_itself_and_sees_every_token_in_english(client, world):
    login(client, "admin1")
    page = _make(client, name="province", scope="write")
    secret = re.search(r"<code[^>]*>(evs_[^<]+)</code>", page).group(1)
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "province"))
    assert token.scope == "write" and token.created_by == "admin1"
    listed = client.get("/admin/api-tokens?lang=en").get_data(as_text=True)
    assert "API token" in listed and "street1" in listed and "Read only" in listed
    page = _make(client, name="for viewer", scope="read", owner="viewer1")
    assert (
        db.session.scalar(select(ApiToken).where(ApiToken.name == "for viewer")).user.username
        == "viewer1"
    )
    page = _make(client, name="nobody", scope="read", owner="ghost")
    assert "No such user." in page  # the language chosen above is remembered
    assert secret.startswith("evs_")
