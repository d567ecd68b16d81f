"""Headers every response carries: a CSP without unsafe-inline (nonces), no-store on staff
pages and exports, HSTS behind TLS, and a CSRF token renewed at sign-in."""

from __future__ import annotations

import re

from evalsurvey import create_app
from tests.conftest import base_config
from tests.factories import hidden_fields, login, make_cycle, make_link, make_staff


def test_the_policy_allows_no_inline_code_and_styles_carry_this_responses_nonce(app, client):
    link = make_link()
    first, second = client.get(f"/s/{link.code}"), client.get(f"/s/{link.code}")
    policy = first.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'<style nonce="{nonce}">' in first.get_data(as_text=True)
    assert nonce not in second.headers["Content-Security-Policy"]  # a new one every time
    html = first.get_data(as_text=True)
    assert " style=" not in html and "<script" not in html  # nothing the policy would block


def test_staff_pages_and_exports_are_never_stored(app, client):
    make_staff("adm")
    cycle = make_cycle()
    login(client, "adm")
    for url in ("/admin/", f"/admin/cycles/{cycle.id}", f"/admin/cycles/{cycle.id}/responses.csv"):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["Cache-Control"] == "no-store", url
        assert " style=" not in resp.get_data(as_text=True)
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP on this machine


def test_hsts_when_cookies_are_secure(database_url, tmp_path):
    # what EVALSURVEY_SECURE_COOKIES=1 sets (see config.derive)
    secure = create_app({**base_config(database_url, str(tmp_path)), "SESSION_COOKIE_SECURE": True})
    resp = secure.test_client().get("/auth/login")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_csrf_token_is_renewed_at_sign_in(app, client):
    make_staff("adm")
    before = hidden_fields(client.get("/auth/login").get_data(as_text=True))["csrf_token"]
    login(client, "adm")
    after = hidden_fields(client.get("/auth/password").get_data(as_text=True))["csrf_token"]
    # the tokens are signed with a timestamp; the secret under them must have changed
    assert before.split(".")[0] != after.split(".")[0]
