"""Rate limits: public submissions per device, network prefix and link, refused with a
friendly 429 and counted; sign-in throttled per account and address with the same work for
unknown and known names; counters shared through Redis by several app instances."""

from __future__ import annotations

import os
import statistics
import time

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from evalsurvey import create_app, ratelimit
from evalsurvey.extensions import db
from evalsurvey.models import BlockedAttempt, Link, Response, SigninFailure, StaffUser
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


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by the test instead of sleeping."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


def _cheap(username: str, password: str) -> StaffUser:
    """An account whose hash is quick to check (the tests count attempts, not hashing)."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
    db.session.commit()
    return user


def test_sign_in_is_slowed_per_account_and_hides_which_names_exist(limited, clock):
    make_staff("adm", password="right-pass-1")
    browser = limited.test_client()
    for _ in range(5):
        assert _sign_in(browser, "adm", "wrong").status_code == 200
    held = _sign_in(browser, "adm", "right-pass-1")  # even the right password waits now
    assert held.status_code == 429 and held.headers["Retry-After"] == "1"
    assert "登录失败次数过多，请 1 秒后再试" in held.get_data(as_text=True)
    other = limited.test_client()
    assert _sign_in(other, "ADM ", "right-pass-1").status_code == 429  # the account, anywhere
    clock[0] += 1  # a second later: slowed, not locked
    assert _sign_in(other, "adm", "right-pass-1").status_code == 302
    # an unknown name is slowed exactly alike: the 429 tells no name from another
    for _ in range(5):
        assert _sign_in(browser, "nobody-here", "wrong").status_code == 200
    assert _sign_in(browser, "nobody-here", "x").headers["Retry-After"] == "1"

    # an unknown name costs the same work as a known one
    make_staff("known", password="right-pass-2")

    def timed(user):
        start = time.perf_counter()
        _sign_in(limited.test_client(), user, "wrong")
        return time.perf_counter() - start

    # interleaved, so a busy machine slows both alike
    pairs = [(timed("known"), timed("nobody-here-2")) for _ in range(4)]
    known = statistics.median(k for k, _u in pairs)
    unknown = statistics.median(u for _k, u in pairs)
    assert 0.5 < unknown / known < 2.0


def test_the_backoff_doubles_and_never_exceeds_its_cap(limited, clock):
    make_staff("adm")
    _cheap("adm", "right-pass-1")
    attacker = limited.test_client()
    waits, failures = [], 0
    while failures < 200:
        answer = _sign_in(attacker, "adm", f"guess-{failures}")
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            clock[0] += waits[-1]
        else:
            assert answer.status_code == 200
            failures += 1
    assert waits[:6] == [1, 2, 4, 8, 16, 30] and max(waits) == 30 and len(waits) == 195
    assert 0 < _wait(limited, "adm") <= 30
    # the formula itself, far past any real count
    assert [ratelimit.backoff_delay(n, 5, 30) for n in (4, 5, 6, 9, 10, 10**6)] == [
        0, 1, 2, 16, 30, 30
    ]  # fmt: skip
    # quiet time forgets failures: one every 10 minutes
    clock[0] += 30 + 600 * 200
    assert _sign_in(attacker, "adm", "right-pass-1").status_code == 302


def test_an_office_behind_one_address_signs_in_during_an_attack_on_one_account(limited, clock):
    office = {"REMOTE_ADDR": "203.0.113.5"}
    make_staff("target", password="target-pass-1")
    make_staff("colleague", password="colleague-pass-1")
    make_staff("adm")
    _cheap("target", "target-pass-1")
    owner = limited.test_client()  # the owner's own browser, used before the attack
    owner.environ_base.update(office)
    assert _sign_in(owner, "target", "target-pass-1").status_code == 302
    cookie = owner.get_cookie(ratelimit.SIGNIN_DEVICE_COOKIE, path="/auth/login")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    owner.post("/auth/logout", data=hidden_fields(owner.get("/admin/").get_data(as_text=True)))

    # hundreds of wrong passwords for one account from the office's own address
    attacker = limited.test_client()
    attacker.environ_base.update(office)
    failures, refused = 0, 0
    while failures < 300:
        answer = _sign_in(attacker, "target", f"guess-{failures}")
        if answer.status_code == 429:
            refused += 1
            clock[0] += int(answer.headers["Retry-After"])  # as fast as it is allowed
        else:
            failures += 1
            if failures in (100, 200):  # right after a failure, anyone but the owner waits
                held = _sign_in(limited.test_client(), "target", "target-pass-1")
                assert held.status_code == 429
    assert _wait(limited, "target", office) > 0  # the attacker must wait now

    # a colleague behind the same address is not held
    colleague = limited.test_client()
    colleague.environ_base.update(office)
    assert _sign_in(colleague, "colleague", "colleague-pass-1").status_code == 302
    # the owner's browser, known to the account, is admitted at once
    assert _wait(limited, "target", office) > 0
    assert _sign_in(owner, "target", "target-pass-1").status_code == 302
    # and told what happened while away: every attempt, those refused while slowed too
    told = owner.get("/admin/").get_data(as_text=True)
    refused += 2  # the two held above
    assert f"自您上次登录以来：密码错误 300 次；登录被放慢期间另有 {refused} 次尝试被拒绝" in told
    # a new browser of the owner's waits the capped pause, then is admitted
    fresh = limited.test_client()
    fresh.environ_base.update(office)
    held = _sign_in(fresh, "target", "target-pass-1")
    assert held.status_code == 429 and 0 < int(held.headers["Retry-After"]) <= 30
    refused += 1
    clock[0] += int(held.headers["Retry-After"])
    assert _sign_in(fresh, "target", "target-pass-1").status_code == 302

    # kept for the admin too, without passwords or addresses; refusals as counts
    stored = db.session.scalars(select(SigninFailure)).all()
    wrong = [f for f in stored if f.refused == 0]
    assert len(wrong) == 300 and {f.user_id for f in stored} == {_user("target").id}
    assert {f.network for f in wrong} == {ratelimit_network(limited, "203.0.113.5")}
    assert sum(f.refused for f in stored) == refused and len(stored) - 300 <= 3
    assert not any("203.0.113" in f.network or "guess" in f.network for f in stored)
    admin = limited.test_client()
    login(admin, "adm")
    listing = admin.get("/admin/staff").get_data(as_text=True)
    row = next(r for r in listing.split("<tr>") if ">target<" in r)
    assert f">{300 + refused}</a>" in row
    detail = admin.get(f"/admin/staff/{_user('target').id}").get_data(as_text=True)
    told = f"近 7 天：密码错误 300 次，登录被放慢期间被拒绝的尝试 {refused} 次，来自 2 个网络"
    assert told in detail


def _wait(app, username: str, environ: dict | None = None) -> int:
    """What the sign-in page would answer this account now (seconds to wait)."""
    with app.test_request_context(environ_base=environ or {}):
        return ratelimit.signin_wait(username)


def _user(username: str) -> StaffUser:
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def ratelimit_network(app, address: str) -> str:
    with app.test_request_context():
        return ratelimit.signin_network(address)


def test_one_address_is_slowed_not_locked_and_known_devices_pass(limited, clock, monkeypatch):
    from evalsurvey.auth import views as auth_views

    monkeypatch.setattr(
        auth_views, "_DUMMY_HASH", generate_password_hash("x", "pbkdf2:sha256:1000")
    )
    limited.config["SIGNIN_ADDRESS_FAILURES_PER_HOUR"] = 20
    make_staff("colleague", password="colleague-pass-1")
    known = limited.test_client()
    assert _sign_in(known, "colleague", "colleague-pass-1").status_code == 302
    known.post("/auth/logout", data=hidden_fields(known.get("/admin/").get_data(as_text=True)))
    sprayer = limited.test_client()
    codes = [_sign_in(sprayer, f"guess{n}", "x").status_code for n in range(23)]
    assert codes == [200] * 20 + [429] * 3  # every name new: only the address holds it
    waits = []
    for n in range(40):  # on and on, as fast as allowed: seconds, never a lock
        answer = _sign_in(sprayer, f"more{n}", "x")
        if answer.status_code == 429:
            waits.append(int(answer.headers["Retry-After"]))
            clock[0] += waits[-1]
    assert waits and max(waits) <= 30
    # the colleague's known browser passes at once; another browser waits its seconds
    assert _sign_in(known, "colleague", "colleague-pass-1").status_code == 302
    other = limited.test_client()
    held = _sign_in(other, "colleague", "colleague-pass-1")
    assert held.status_code == 429 and int(held.headers["Retry-After"]) <= 30
    clock[0] += int(held.headers["Retry-After"])
    assert _sign_in(other, "colleague", "colleague-pass-1").status_code == 302
    # another address is not slowed by this one
    elsewhere = limited.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.77"
    assert _sign_in(elsewhere, "guess-x", "x").status_code == 200


def test_the_known_device_cookie_is_signed_and_loses_its_pass_after_its_own_failures(
    limited, clock
):
    make_staff("adm", password="right-pass-1")
    _cheap("adm", "right-pass-1")
    owner = limited.test_client()
    assert _sign_in(owner, "adm", "right-pass-1").status_code == 302
    owner.post("/auth/logout", data=hidden_fields(owner.get("/admin/").get_data(as_text=True)))
    value = owner.get_cookie(ratelimit.SIGNIN_DEVICE_COOKIE, path="/auth/login").value
    # another browser spends the account's free failures
    for _ in range(5):
        assert _sign_in(limited.test_client(), "adm", "wrong").status_code == 200
    # a forged or altered cookie is no pass
    forger = limited.test_client()
    forger.set_cookie(ratelimit.SIGNIN_DEVICE_COOKIE, value[:-2] + "xx", path="/auth/login")
    assert _sign_in(forger, "adm", "right-pass-1").status_code == 429
    # the owner's own browser mistypes: its pass holds for its own few failures, then is gone
    for _ in range(5):
        assert _sign_in(owner, "adm", "wrong").status_code == 200
    assert _sign_in(owner, "adm", "right-pass-1").status_code == 429


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


def test_sign_in_slowing_is_shared_through_redis(database_url, tmp_path, clock):
    if not _redis_available():
        if os.environ.get("EVALSURVEY_TEST_REDIS") == "required":
            pytest.fail("Redis is required here and does not answer at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    config = {**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True,
              "REDIS_URL": REDIS_URL}  # fmt: skip
    for first in app_in_context(database_url, config):
        make_staff("adm", password="right-pass-1")
        codes = [_sign_in(first.test_client(), "adm", "wrong").status_code for _ in range(5)]
        second = create_app(config)  # another instance: the same counts
        with second.app_context():
            held = _sign_in(second.test_client(), "adm", "right-pass-1")
            codes.append(held.status_code)
            clock[0] += int(held.headers["Retry-After"])
            codes.append(_sign_in(second.test_client(), "adm", "right-pass-1").status_code)
            # the refused attempt, counted in Redis, reached the database at the sign-in
            refused = db.session.scalars(select(SigninFailure.refused)).all()
            assert sorted(refused) == [0] * 5 + [1]
            db.session.remove()
            db.engine.dispose()
    assert codes == [200] * 5 + [429, 302]
    stored = redis.Redis.from_url(REDIS_URL).keys("*signin*")
    assert stored and not any(b"adm" in key or b"127.0.0.1" in key for key in stored)
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_limits_apply_where_declared_and_nowhere_else(database_url, tmp_path):
    """Invitation pages are limited per network on every method; the questionnaire's GET
    and the thank-you page are never limited, its posts are."""
    from evalsurvey.domain.collecting.links import create_invitations
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


def _publication() -> tuple[str, str]:
    """A published result open to objections (cycle code, unit type), made directly."""
    from datetime import timedelta

    from evalsurvey.models import AnalysisRun, Publication
    from evalsurvey.models.types import utcnow
    from tests.factories import make_cycle

    cycle = make_cycle()
    run = AnalysisRun(cycle_id=cycle.id, kind="composite", unit_type="community",
                      created_by="adm", options={}, result={})  # fmt: skip
    db.session.add(run)
    db.session.flush()
    rows = [
        {"unit": code, "name": name, "score": 90.0 - n, "rank": n + 1, "grade": "",
         "label": "", "steps": []}
        for n, (code, name) in enumerate([("C01", "东社区"), ("C02", "西社区")])
    ]  # fmt: skip
    db.session.add(Publication(cycle_id=cycle.id, unit_type="community", run_id=run.id,
                               rows=rows, reports={}, published_by="adm",
                               objections_until=utcnow() + timedelta(days=7)))  # fmt: skip
    db.session.commit()
    return cycle.code, "community"


def _object(client, url, text="统计有误", unit="C01", address="203.0.113.7"):
    env = {"REMOTE_ADDR": address}
    fields = hidden_fields(client.get(url, environ_base=env).get_data(as_text=True))
    return client.post(url, data={**fields, "unit": unit, "text": text}, environ_base=env)


def _objections() -> int:
    from evalsurvey.models import Objection

    return db.session.scalar(select(func.count()).select_from(Objection))


def test_an_objection_flood_from_one_client_is_refused_after_the_limit(limited):
    url = "/p/{}/{}".format(*_publication())
    script = limited.test_client()
    codes = [_object(script, url, "统计有误" * 500).status_code for _ in range(8)]
    assert codes == [303] * 5 + [429] * 3 and _objections() == 5
    refused = _object(script, url + "?lang=en")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 600
    html = refused.get_data(as_text=True)
    assert "Too many objections" in html and "Traceback" not in html
    # a script that drops its cookies is held by its network (20 objections in 10 minutes:
    # the five above counted, the browser's refused posts did not)
    codes = [_object(limited.test_client(), url).status_code for _ in range(18)]
    assert codes == [303] * 15 + [429] * 3 and _objections() == 20
    # someone on another network objects as usual
    assert _object(limited.test_client(), url, address="198.51.100.3").status_code == 303
    # and one unit is held from everywhere past its own limit
    limited.config["RATE_LIMIT_OBJECTION_UNIT"] = "2 per hour"
    far = [_object(limited.test_client(), url, unit="C02", address=f"192.0.{n}.1").status_code
           for n in range(4)]  # fmt: skip
    assert far == [303, 303, 429, 429]
    assert _object(limited.test_client(), url, address="192.0.9.1").status_code == 303  # C01


def test_an_overlong_objection_is_refused_with_a_message_and_the_form_kept(app, client):
    url = "/p/{}/{}".format(*_publication())
    too_long = "甲" * 2001
    for lang, message in (("", "最多 2000 个字符"), ("?lang=en", "at most 2000 characters")):
        page = _object(client, url + lang, too_long)
        html = page.get_data(as_text=True)
        assert page.status_code == 400 and message in html
        assert too_long in html  # the text is given back to shorten, not lost
    assert _objections() == 0
    # line breaks count once, as the browser's textarea counts them
    fits = "\r\n".join(["乙" * 99] * 20)  # 1,980 characters and 19 breaks: 1,999 typed
    assert _object(client, url, fits).status_code == 303 and _objections() == 1


def test_one_browser_past_its_own_limit_spends_nothing_of_its_networks(limited):
    """QA defect 6: the network's allowance was spent before the browser's own check, so one
    browser posting on after its own 429s (and posts refused for their content) left a new
    browser on the same address refused at its first objection."""
    limited.config["RATE_LIMIT_OBJECTION_UNIT"] = "7 per hour"
    url = "/p/{}/{}".format(*_publication())
    browser = limited.test_client()
    # refused for their content: they cost the citizen nothing
    for text in ("", "   ", "甲" * 2001) * 2:
        assert _object(browser, url, text).status_code == 400
    codes = [_object(browser, url).status_code for _ in range(20)]
    assert codes == [303] * 5 + [429] * 15 and _objections() == 5
    newcomer = limited.test_client()  # a first visit from the same address
    assert _object(newcomer, url).status_code == 303 and _objections() == 6
    # nor of the unit's: its seventh objection is taken, only the eighth is refused
    assert _object(limited.test_client(), url, address="198.51.100.3").status_code == 303
    assert _object(limited.test_client(), url, address="198.51.100.4").status_code == 429


@pytest.mark.parametrize(
    "lang, says",
    [("", "提交异议太频繁，请 {} 分钟后再试。"), ("?lang=en", "Please try again in {} min.")],
)
def test_the_objection_refusal_says_how_long_to_wait(limited, lang, says):
    url = "/p/{}/{}".format(*_publication())
    browser = limited.test_client()
    for _ in range(5):
        assert _object(browser, url).status_code == 303
    refused = _object(browser, url + lang)
    wait = int(refused.headers["Retry-After"])
    assert refused.status_code == 429 and 540 < wait <= 600
    assert says.format(10) in refused.get_data(as_text=True)


def test_one_phone_past_its_own_limit_spends_nothing_of_its_networks(limited):
    """The same for public submissions: the phone's own limit is tested first, so its
    refused posts leave the hall's Wi-Fi its whole allowance."""
    limited.config["RATE_LIMIT_NETWORK"] = "10 per minute"
    link = make_link()
    phone = limited.test_client()
    codes = [_rate(phone, link).status_code for _ in range(15)]
    assert codes == [303] * 5 + [429] * 10
    others = [_rate(limited.test_client(), link).status_code for _ in range(6)]
    assert others == [303] * 5 + [429] and _stored() == 10
    reasons = db.session.scalars(select(BlockedAttempt.reason).order_by(BlockedAttempt.id))
    assert list(reasons) == ["device"] * 10 + ["network"]
    # the refusal says how long to wait, in the reader's language
    html = _rate(phone, link, lang="?lang=en").get_data(as_text=True)
    assert "Please try again in 10 min" in html
    assert "请 1 分钟后再试" in _rate(limited.test_client(), link).get_data(as_text=True)


def test_attempts_refused_while_slowed_are_shown_to_the_owner_and_the_admin(limited, clock):
    """QA defect 5: 17 wrong passwords from one browser and 8 from another were shown as 6
    and 1, the attempts the throttle refused counted nowhere. Now every attempt is told, the
    refused ones as such, without lengthening the wait or storing anything for a name no
    account has."""
    make_staff("adm")
    make_staff("c0101", password="right-pass-1")
    _cheap("c0101", "right-pass-1")
    first, second = limited.test_client(), limited.test_client()
    codes = [_sign_in(first, "c0101", f"guess-{n}") for n in range(17)]
    codes += [_sign_in(second, "c0101", f"other-{n}") for n in range(8)]
    assert [c.status_code for c in codes] == [200] * 5 + [429] * 20
    # a refused attempt does not lengthen the wait: still 1 s after the fifth failure
    assert {c.headers["Retry-After"] for c in codes[5:]} == {"1"}
    # nothing stored for a name no account has, refused or not
    stored = db.session.scalar(select(func.count()).select_from(SigninFailure))
    for n in range(8):
        _sign_in(second, "nobody-here", f"x{n}")
    assert db.session.scalar(select(func.count()).select_from(SigninFailure)) == stored

    admin = limited.test_client()
    login(admin, "adm")
    listing = admin.get("/admin/staff?lang=en").get_data(as_text=True)
    assert ">25</a>" in next(r for r in listing.split("<tr>") if ">c0101<" in r)
    # refusals are kept as one count per network and hour, not a row each
    rows = db.session.scalars(select(SigninFailure).order_by(SigninFailure.id)).all()
    assert [r.refused for r in rows] == [0] * 5 + [20]
    detail = admin.get(f"/admin/staff/{_user('c0101').id}?lang=en").get_data(as_text=True)
    assert (
        "Last 7 days: wrong passwords: 5; attempts refused while sign-in was slowed: 20; "
        "networks: 1; latest:" in detail
    )

    clock[0] += 1
    owner = limited.test_client()
    owner.get("/auth/login?lang=en")  # English remembered (the message is made at sign-in)
    assert _sign_in(owner, "c0101", "right-pass-1").status_code == 302
    told = owner.get("/admin/").get_data(as_text=True)
    assert (
        "Since your last sign-in: wrong passwords: 5; further attempts refused while sign-in "
        "was slowed (no password checked): 20." in told
    )
    assert db.session.scalar(select(func.count()).where(SigninFailure.seen.is_(False))) == 0


def test_english_counts_need_no_plural(limited, clock):
    """QA defect 9: "try again in 1 seconds", "there were 1 failed sign-ins", "from 1
    networks" — the English is phrased so any number reads right."""
    from evalsurvey.i18n import _, in_language

    make_staff("adm")
    make_staff("c0101", password="right-pass-1")
    _cheap("c0101", "right-pass-1")
    browser = limited.test_client()
    browser.get("/auth/login?lang=en")  # English remembered
    for n in range(5):
        _sign_in(browser, "c0101", f"guess-{n}")
    page = browser.get("/auth/login")
    held = browser.post(
        "/auth/login",
        data={**hidden_fields(page.get_data(as_text=True)), "username": "c0101",
              "password": "right-pass-1"},
    )  # fmt: skip
    assert held.status_code == 429
    assert "Please try again in 1 s." in held.get_data(as_text=True)
    clock[0] += 1
    assert _sign_in(browser, "c0101", "right-pass-1").status_code == 302
    told = browser.get("/admin/").get_data(as_text=True)
    assert "Since your last sign-in: wrong passwords: 5; further attempts refused" in told
    # one wrong password alone: no refusals to tell
    browser.post("/auth/logout", data=hidden_fields(browser.get("/admin/").get_data(as_text=True)))
    clock[0] += 3600
    _sign_in(browser, "c0101", "wrong")
    assert _sign_in(browser, "c0101", "right-pass-1").status_code == 302
    told = browser.get("/admin/").get_data(as_text=True)
    assert "Sign-ins with a wrong password since your last sign-in: 1." in told
    with in_language("en"):
        assert _("须复核") == "must be re-reviewed"
    for html in (held.get_data(as_text=True), told):
        assert "1 seconds" not in html and "1 failed sign-ins" not in html


def test_a_refused_attempt_takes_as_long_for_an_unknown_name_as_for_a_known_one(limited, clock):
    """Refused attempts on a real account are now stored; an unknown name runs the same
    statements, so the refusal's time does not tell which names exist."""
    make_staff("known", password="right-pass-1")
    _cheap("known", "right-pass-1")
    browser = limited.test_client()
    for name in ("known", "nobody-here"):
        for n in range(5):
            assert _sign_in(browser, name, f"guess-{n}").status_code == 200
    page = hidden_fields(browser.get("/auth/login").get_data(as_text=True))

    def timed(name):
        start = time.perf_counter()
        answer = browser.post("/auth/login", data={**page, "username": name, "password": "x"})
        assert answer.status_code == 429
        return time.perf_counter() - start

    pairs = [(timed("known"), timed("nobody-here")) for _ in range(40)]
    known = statistics.median(k for k, _u in pairs)
    unknown = statistics.median(u for _k, u in pairs)
    assert 0.5 < unknown / known < 2.0  # a database write at each refusal made it 0.25
