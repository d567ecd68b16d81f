"""Rate limits: public submissions per device, network prefix and link, refused with a
friendly 429 and counted; sign-in throttled per account and address with the same work for
unknown and known names; counters shared through Redis by several app instances."""

from __future__ import annotations

import os
import statistics
import time

import pytest
from sqlalchemy import func, select

from evalsurvey import create_app
from evalsurvey.extensions import db
from evalsurvey.models import BlockedAttempt, Link, Response
from tests.conftest import app_in_context, base_config
from tests.factories import hidden_fields, login, make_link, make_staff

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def limited(database_url, tmp_path):
    """An app with the limits on (the suite's other apps run without them)."""
    config = {**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True}
    yield from app_in_context(database_url, config)


def _rate(client, link, address="203.0.113.7", lang=""):
    env = {"REMOTE_ADDR": address}
    page = client.get(f"/s/{link.code}{lang}", environ_base=env)
    fields = hidden_fields(page.get_data(as_text=True))
    return client.post(
        f"/s/{link.code}{lang}", data={**fields, "attitude": "5", "speed": "4"}, environ_base=env
    )


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_one_phone_is_held_after_a_handful_and_told_so_in_its_language(limited):
    link = make_link()
    phone = limited.test_client()
    answers = [_rate(phone, link).status_code for _ in range(5)]
    assert answers == [303] * 5
    refused = _rate(phone, link, lang="?lang=en")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 601
    html = refused.get_data(as_text=True)
    assert "Too many submissions" in html and "Traceback" not in html
    assert _stored() == 5
    blocked = db.session.scalars(select(BlockedAttempt)).all()
    assert [b.reason for b in blocked] == ["device"] and blocked[0].link_id == link.id
    assert blocked[0].network and "203.0.113" not in blocked[0].network  # a hash, not an address
    assert _rate(limited.test_client(), link).status_code == 303  # another phone is fine
    # the office sees the refusals beside the unit's responses
    make_staff("adm")
    office = limited.test_client()
    login(office, "adm")
    page = office.get(f"/admin/cycles/{link.cycle_id}/responses").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if link.unit.code in r).split("</tr>")[0]
    assert row.endswith('<td class="num">1</td>')  # the last column: refused by the limits


def test_a_script_that_drops_its_cookies_is_held_by_its_network(limited):
    limited.config["RATE_LIMIT_NETWORK"] = "10 per minute"
    link = make_link()
    codes = [_rate(limited.test_client(), link, "198.51.100.9").status_code for _ in range(14)]
    assert codes == [303] * 10 + [429] * 4
    reasons = db.session.scalars(select(BlockedAttempt.reason)).all()
    assert reasons == ["network"] * 4
    # the stored rows carry the prefix's hash: the same for the whole /24
    networks = set(db.session.scalars(select(Response.network)))
    assert len(networks) == 1 and "" not in networks
    # another network is not held by this one
    assert _rate(limited.test_client(), link, "198.51.101.9").status_code == 303


def test_a_busy_hall_with_the_defaults_is_never_refused(limited):
    link = make_link()
    # 50 citizens in one minute on the hall's Wi-Fi, and 50 more on their own networks
    codes = [_rate(limited.test_client(), link, "192.0.2.50").status_code for _ in range(50)]
    codes += [
        _rate(limited.test_client(), link, f"203.0.{n}.1").status_code for n in range(100, 150)
    ]
    assert set(codes) == {303} and _stored() == 100


def _sign_in(client, user, password):
    page = client.get("/auth/login").get_data(as_text=True)
    return client.post(
        "/auth/login",
        data={"csrf_token": hidden_fields(page)["csrf_token"], "username": user,
              "password": password},
    )  # fmt: skip


def test_sign_in_is_throttled_per_account_and_hides_which_names_exist(limited):
    make_staff("adm", password="right-pass-1")
    browser = limited.test_client()
    for _ in range(5):
        assert _sign_in(browser, "adm", "wrong").status_code == 200
    held = _sign_in(browser, "adm", "right-pass-1")  # even the right password waits now
    assert held.status_code == 429 and int(held.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in held.get_data(as_text=True)
    other = limited.test_client()
    assert _sign_in(other, "ADM ", "right-pass-1").status_code == 429  # the account, anywhere

    # an unknown name costs the same work as a known one
    make_staff("known", password="right-pass-2")

    def timed(user):
        start = time.perf_counter()
        _sign_in(limited.test_client(), user, "wrong")
        return time.perf_counter() - start

    # interleaved, so a busy machine slows both alike
    pairs = [(timed("known"), timed("nobody-here")) for _ in range(4)]
    known = statistics.median(k for k, _u in pairs)
    unknown = statistics.median(u for _k, u in pairs)
    assert 0.5 < unknown / known < 2.0


def test_sign_in_is_throttled_per_address(limited):
    limited.config["RATE_LIMIT_SIGNIN_ADDRESS"] = "6 per 5 minutes"
    browser = limited.test_client()
    codes = [_sign_in(browser, f"guess{n}", "x").status_code for n in range(8)]
    assert codes == [200] * 6 + [429] * 2


def _link(code: str) -> Link:
    return db.session.scalar(select(Link).where(Link.code == code))


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


def test_several_app_instances_share_their_counters_through_redis(database_url, tmp_path):
    if not _redis_available():
        if os.environ.get("EVALSURVEY_TEST_REDIS") == "required":
            pytest.fail("Redis is required here and does not answer at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    config = {**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True,
              "REDIS_URL": REDIS_URL, "RATE_LIMIT_NETWORK": "4 per minute"}  # fmt: skip
    for first in app_in_context(database_url, config):  # one instance, on an emptied database
        code = make_link().code
        codes = [_rate(first.test_client(), _link(code)).status_code
                 for _ in range(3)]  # fmt: skip
    second = create_app(config)  # another instance behind the same proxy
    with second.app_context():
        codes += [_rate(second.test_client(), _link(code)).status_code for _ in range(2)]
        db.session.remove()
        db.engine.dispose()
    assert codes == [303, 303, 303, 303, 429]
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_limits_apply_where_declared_and_nowhere_else(database_url, tmp_path):
    """Invitation pages are limited per network on every method; the questionnaire's GET
    and the thank-you page are never limited, its posts are."""
    from evalsurvey.domain.links import create_invitations
    from evalsurvey.models import LinkMode

    config = {
        **base_config(database_url, str(tmp_path)),
        "RATELIMIT_ENABLED": True,
        "RATE_LIMIT_NETWORK": "2 per minute",
        "RATE_LIMIT_LINK": "1 per minute",
    }
    for _app in app_in_context(database_url, config):
        client = _app.test_client()
        member_link = make_link(group="member", mode=LinkMode.INVITE)
        token = create_invitations(member_link, [{"name": "甲"}])[0].token
        db.session.commit()
        assert [client.get(f"/i/{token}").status_code for _ in range(3)] == [200, 200, 429]

        link = make_link()
        posted = _rate(client, link, address="198.51.100.9")
        assert posted.status_code == 303
        env = {"REMOTE_ADDR": "198.51.100.9"}
        thanks = posted.headers["Location"]
        for _ in range(5):  # far past the link's 1 per minute
            assert client.get(f"/s/{link.code}", environ_base=env).status_code == 200
            assert client.get(thanks, environ_base=env).status_code == 200
        assert _rate(client, link, address="198.51.100.9").status_code == 429
