"""Rate limits (Flask-Limiter): public submissions per device, per network prefix and per
link, and sign-in failures per account and per address with backoff.

Counters live in Redis when ``REDIS_URL`` is set, so several app instances share them, and
in memory otherwise (one process: the embedded setup). The defaults never bother an honest
citizen in a busy service hall — one phone submits a handful of times, one hall's Wi-Fi a
few per minute — and hold back a script: a refused submission answers 429 with a plain page
in the person's language and is counted (:class:`~evalsurvey.models.BlockedAttempt`) so the
statistics see the flood the limits held back.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from typing import NoReturn

from flask import Flask, abort, current_app, g, request, url_for
from flask_limiter import Limiter
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from werkzeug.wrappers import Response as HTTPResponse

from evalsurvey.domain.collecting.responses import network_hash
from evalsurvey.errors import Message
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import BlockedAttempt, Link
from evalsurvey.models.types import utcnow

DEVICE_COOKIE = "esd"


def client_network() -> str:
    """The salted hash of the sender's network prefix (never the address), made once per
    request (the limits' keys and the stored response all ask for it)."""
    if "client_network" not in g:
        g.client_network = network_hash(current_app.config["DEVICE_SALT"], request.remote_addr)
    return g.client_network


def _link_code() -> str:
    return (request.view_args or {}).get("code", "")


def _device_key() -> str:
    # a script that drops its cookies is a new device each time: the network limit holds it
    return f"{_link_code()}:{request.cookies.get(DEVICE_COOKIE, '')[:32] or client_network()}"


def _network_key() -> str:
    return f"{_link_code()}:{client_network()}"


limiter = Limiter(key_func=client_network, strategy="moving-window")


# Flask-Limiter owns the storage (Redis or memory) and the strategy; the limits are counted
# where they apply, by the strategy directly, as sign-in's are. Its decorator would resolve
# a route's limits again on every request, which cost more than the counting itself on the
# respondents' path (benchmarks/bench_throughput.py), so no route is decorated.
@limiter.request_filter
def _counted_in_the_views() -> bool:
    return True


@functools.lru_cache(maxsize=64)
def _parsed(limits: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limits))


def _spend(scope: str, setting: str, key: str) -> int:
    """Count one request against every limit of ``setting`` for ``key``; 0 if all had
    room, else the seconds until the spent one has room again."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return 0
    identifiers = (config["RATELIMIT_KEY_PREFIX"], scope, key)
    for item in _parsed(config[setting]):
        if not limiter.limiter.hit(item, *identifiers):
            reset, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
            return max(1, math.ceil(reset - time.time()))
    return 0


def _full(scope: str, setting: str, key: str) -> int:
    """0 if every limit of ``setting`` has room for one more request of ``key`` (nothing is
    counted), else the seconds until the full one has room again."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return 0
    identifiers = (config["RATELIMIT_KEY_PREFIX"], scope, key)
    for item in _parsed(config[setting]):
        if not limiter.limiter.test(item, *identifiers):
            reset, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
            return max(1, math.ceil(reset - time.time()))
    return 0


def minutes(seconds: int) -> int:
    """A wait in whole minutes, rounded up (a refusal page says how long, never "later")."""
    return max(1, math.ceil(seconds / 60))


def _refuse(reason: str, retry_after: int, link_id: int | None) -> NoReturn:
    """Count the refused attempt (its own short transaction), then the 429 page."""
    g.retry_after = retry_after  # for the page's Retry-After
    if link_id is not None:
        db.session.rollback()
        db.session.add(
            BlockedAttempt(link_id=link_id, at=utcnow(), reason=reason, network=client_network())
        )
        db.session.commit()
    abort(
        429,
        description=Message(
            _(
                "提交太频繁，请 {minutes} 分钟后再试。已经提交成功的评价不受影响。",
                minutes=minutes(retry_after),
            )
        ),
    )


# A public questionnaire's posts: one phone, one network, one QR code from everywhere — in
# that order, each counted only when the narrower ones let the post through, so a phone that
# keeps posting past its own limit spends nothing of its network's or the link's (and no
# extra counter call on the respondents' path).
SUBMISSION_LIMITS = (
    ("device", "RATE_LIMIT_DEVICE", _device_key),
    ("network", "RATE_LIMIT_NETWORK", _network_key),
    ("link", "RATE_LIMIT_LINK", _link_code),
)


def count_submission(code: str) -> None:
    """Count a post to the public questionnaire ``code``; a spent limit is recorded as a
    :class:`BlockedAttempt` and answers 429 (it is counted before anything is read)."""
    for reason, setting, key in SUBMISSION_LIMITS:
        wait = _spend(f"submit-{reason}", setting, key())
        if wait:
            link_id = db.session.scalar(db.select(Link.id).where(Link.code == code))
            _refuse(reason, wait, link_id)


def count_invitation_visit() -> None:
    """Count a request to an invitation page against its network's limit (guessing tokens
    from one network is held back); 429 when spent."""
    wait = _spend("invitation", "RATE_LIMIT_NETWORK", client_network())
    if wait:
        _refuse("invitation", wait, None)


# Objections on the public disclosure page: one published unit from everywhere, one network,
# one browser (the first-party device cookie the page sets; without it, the network).
def _objection_unit_key() -> str:
    args = request.view_args or {}
    unit = request.form.get("unit", "")[:40]
    return f"{args.get('cycle_code', '')}/{args.get('unit_type', '')}:{unit}"


def _objection_device_key() -> str:
    return request.cookies.get(DEVICE_COOKIE, "")[:32] or client_network()


OBJECTION_LIMITS = (
    ("device", "RATE_LIMIT_OBJECTION_DEVICE", _objection_device_key),
    ("network", "RATE_LIMIT_OBJECTION_NETWORK", client_network),
    ("unit", "RATE_LIMIT_OBJECTION_UNIT", _objection_unit_key),
)


def count_objection() -> None:
    """Count an objection about to be stored (a post refused for its content counts for
    nothing); 429 when a limit is spent, with a page saying how long to wait and that
    objections already sent are kept. Every limit is tested first and all are counted only
    when all have room: a browser refused by its own limit spends nothing of its network's
    or the unit's."""
    checks = [(f"objection-{reason}", setting, key()) for reason, setting, key in OBJECTION_LIMITS]
    wait = next((w for w in (_full(*check) for check in checks) if w), 0)
    if not wait:
        for check in checks:
            wait = _spend(*check)  # another request may have taken the last room meanwhile
            if wait:
                break
    if wait:
        g.retry_after = wait
        db.session.rollback()  # the objection this post would have stored
        abort(
            429,
            description=Message(
                _(
                    "提交异议太频繁，请 {minutes} 分钟后再试。已经提交的异议不受影响。",
                    minutes=minutes(wait),
                )
            ),
        )


def count_api_use(token_id: int) -> int:
    """Count one request of an API token (``RATE_LIMIT_API_TOKEN``); 0 if it had room, else
    the seconds until it has (the API answers 429 with Retry-After). A token that does not
    open anything is counted as a failed sign-in instead (:func:`signin_failed`)."""
    return _spend("api-token", "RATE_LIMIT_API_TOKEN", str(token_id))


# -- Sign-in: slowed, never locked ---------------------------------------------------------
#
# Failures are counted per account and per address as a leaky bucket: each failure adds one,
# and one is forgotten every SIGNIN_ACCOUNT_FORGET_SECONDS (account) or every hour divided by
# SIGNIN_ADDRESS_FAILURES_PER_HOUR (address). Once the count reaches the free allowance, the
# next attempt must come at least 1 s after the last failure, then 2, 4, 8, … seconds, never
# more than SIGNIN_BACKOFF_CAP. An attempt made too early answers 429 before any password is
# hashed; it does not lengthen the wait, and is counted for the owner and the admin to see.
# A correct password from a browser that signed in to this account before (the signed "known
# device" cookie) skips the wait; that cookie loses the privilege after the free allowance of
# failures of its own.

SIGNIN_DEVICE_COOKIE = "esk"
_SIGNIN_DEVICE_AGE = 365 * 24 * 3600
_SIGNIN_DEVICE_ACCOUNTS = 10  # accounts one browser remembers (a shared office computer)


def clock() -> float:
    """The time the throttle reads (tests move it instead of sleeping)."""
    return time.time()


class _MemoryThrottle:
    """Leaky buckets in this process (the embedded setup: one process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._refused: dict[str, tuple[dict[str, int], float]] = {}

    def add(self, key: str, now: float, interval: float, ttl: int) -> tuple[float, float]:
        with self._lock:
            if len(self._buckets) > 100_000:  # a flood of made-up names: forget the stale
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < ttl}
            level, last = self._buckets.get(key, (0.0, now))
            level = max(0.0, level - max(0.0, now - last) / interval) + 1
            self._buckets[key] = (level, now)
            return level, now

    def get(self, key: str) -> tuple[float, float] | None:
        return self._buckets.get(key)

    def clear(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def count_refused(self, key: str, network: str, at: float, ttl: int) -> None:
        with self._lock:
            if len(self._refused) > 100_000:  # a flood of made-up names: forget the stale
                self._refused = {k: v for k, v in self._refused.items() if at - v[1] < ttl}
            counts, _last = self._refused.get(key, ({}, at))
            counts[network] = counts.get(network, 0) + 1
            self._refused[key] = (counts, at)

    def take_refused(self, key: str) -> tuple[dict[str, int], float | None]:
        with self._lock:
            return self._refused.pop(key, ({}, None))


_REDIS_ADD = """
local v = redis.call('HMGET', KEYS[1], 'level', 'last')
local now = tonumber(ARGV[1])
local level = tonumber(v[1]) or 0
local last = tonumber(v[2]) or now
local elapsed = now - last
if elapsed < 0 then elapsed = 0 end
level = math.max(0, level - elapsed / tonumber(ARGV[2])) + 1
redis.call('HSET', KEYS[1], 'level', string.format('%.6f', level), 'last', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return string.format('%.6f', level)
"""


class _RedisThrottle:
    """The same buckets in Redis, shared by every worker and instance."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._add = self._redis.register_script(_REDIS_ADD)

    def add(self, key: str, now: float, interval: float, ttl: int) -> tuple[float, float]:
        level = self._add(keys=[key], args=[repr(now), repr(interval), ttl])
        return float(level), now

    def get(self, key: str) -> tuple[float, float] | None:
        level, last = self._redis.hmget(key, "level", "last")
        return None if level is None or last is None else (float(level), float(last))

    def clear(self, key: str) -> None:
        self._redis.delete(key)

    def count_refused(self, key: str, network: str, at: float, ttl: int) -> None:
        pipe = self._redis.pipeline(transaction=False)  # one round trip
        pipe.hincrby(key, f"n:{network}", 1)
        pipe.hset(key, "at", repr(at))
        pipe.expire(key, ttl)
        pipe.execute()

    def take_refused(self, key: str) -> tuple[dict[str, int], float | None]:
        pipe = self._redis.pipeline(transaction=True)  # read and forget at once
        pipe.hgetall(key)
        pipe.delete(key)
        data, _deleted = pipe.execute()
        counts = {k.decode()[2:]: int(v) for k, v in data.items() if k.decode().startswith("n:")}
        return counts, (float(data[b"at"]) if b"at" in data else None)


def _throttle():
    return current_app.extensions["signin_throttle"]


def _hashed(kind: str, value: str) -> str:
    # user names and addresses are keys of the counters, never kept as they are
    salt = current_app.config["DEVICE_SALT"].encode()
    digest = hmac.new(salt, f"signin-{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:signin-{kind}:{digest[:32]}"


def _address() -> str:
    """The sender's address as the throttle sees it: IPv4 whole (an office's NAT address),
    IPv6 by /64 (one household or device may hold a whole /64)."""
    try:
        ip = ipaddress.ip_address((request.remote_addr or "").strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _buckets(username: str, device: str | None) -> list[tuple[str, float, int]]:
    """(key, seconds per forgotten failure, free failures) of every bucket an attempt counts
    in: the account, the address and, with a known-device cookie, that device."""
    config = current_app.config
    per_hour = max(1, int(config["SIGNIN_ADDRESS_FAILURES_PER_HOUR"]))
    account_free = max(1, int(config["SIGNIN_ACCOUNT_FREE_FAILURES"]))
    account_forget = float(config["SIGNIN_ACCOUNT_FORGET_SECONDS"])
    buckets = [
        (_hashed("account", username.strip().lower()[:80]), account_forget, account_free),
        (_hashed("address", _address()), 3600 / per_hour, per_hour),
    ]
    if device:
        buckets.append((_hashed("device", device), account_forget, account_free))
    return buckets


def backoff_delay(level: float, free: int, cap: float) -> float:
    """Seconds the next attempt waits after the last failure, with ``level`` failures not yet
    forgotten: none below ``free``, then 1, 2, 4, … seconds, never more than ``cap``."""
    over = math.ceil(level - 1e-6) - free
    if over < 0:
        return 0.0
    return float(min(cap, 2 ** min(over, 30)))


def _wait_for(key: str, free: int, now: float) -> float:
    state = _throttle().get(key)
    if state is None:
        return 0.0
    level, last = state
    cap = float(current_app.config["SIGNIN_BACKOFF_CAP"])
    return max(0.0, last + backoff_delay(level, free, cap) - now)


def signin_wait(username: str) -> int:
    """Whole seconds until this account may be tried again from this address (0: now)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return 0
    now = clock()
    wait = max(_wait_for(key, free, now) for key, _i, free in _buckets(username, None))
    return math.ceil(wait) if wait > 0 else 0


def device_trusted(device: str) -> bool:
    """Whether a known-device cookie still skips the wait (it has not failed too often)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    state = _throttle().get(_hashed("device", device))
    if state is None:
        return True
    config = current_app.config
    level = state[0] - max(0.0, clock() - state[1]) / float(config["SIGNIN_ACCOUNT_FORGET_SECONDS"])
    return level < max(1, int(config["SIGNIN_ACCOUNT_FREE_FAILURES"]))


def signin_failed(username: str, device: str | None = None) -> None:
    """Count one failed sign-in for the account, the address and the known device."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    now = clock()
    for key, interval, _free in _buckets(username, device):
        _throttle().add(key, now, interval, ttl=max(int(interval * 400), 3600))


def signin_succeeded(device: str | None) -> None:
    """A correct password from a known device: that device's own failures are forgiven.
    The account's count is not (an attack on it goes on while its owner works) and fades
    with quiet time alone."""
    if device and current_app.config.get("RATELIMIT_ENABLED", True):
        _throttle().clear(_hashed("device", device))


# Attempts refused while slowed are counted per typed name (its salted hash, as the account's
# bucket) in the throttle's store, the same work whether an account has the name or not: a
# refusal's time tells no name from another. The owner's sign-in, the account's next wrong
# password and the admin's staff pages move the counts of real accounts into the database
# (:func:`evalsurvey.domain.signin.record_refused`); counts nobody takes fade after a week.
_REFUSED_TTL = 7 * 24 * 3600


def signin_refused(username: str) -> None:
    """Count one attempt on ``username`` refused while sign-in was slowed."""
    if current_app.config.get("RATELIMIT_ENABLED", True):
        key = _hashed("refused", username.strip().lower()[:80])
        _throttle().count_refused(key, signin_network(), time.time(), _REFUSED_TTL)


def take_refused(username: str) -> tuple[dict[str, int], float | None]:
    """The refused attempts on ``username`` not taken yet, now forgotten here: counts per
    network (:func:`signin_network`) and the time of the latest (epoch seconds)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return {}, None
    return _throttle().take_refused(_hashed("refused", username.strip().lower()[:80]))


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="signin-device")


def known_device(user_id: int) -> str | None:
    """This browser's id when its signed cookie says it signed in to ``user_id`` before."""
    raw = request.cookies.get(SIGNIN_DEVICE_COOKIE, "")
    if not raw or len(raw) > 1000:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=_SIGNIN_DEVICE_AGE)
    except BadSignature:
        return None
    if not isinstance(data, dict) or user_id not in data.get("u", []):
        return None
    device = data.get("d")
    return device if isinstance(device, str) and device else None


def remember_device(response: HTTPResponse, user_id: int) -> HTTPResponse:
    """Mark this browser as a known device of ``user_id`` (signed, HttpOnly, sign-in pages
    only), keeping the other accounts it knows."""
    data: dict = {}
    raw = request.cookies.get(SIGNIN_DEVICE_COOKIE, "")
    if raw and len(raw) <= 1000:
        try:
            data = _device_serializer().loads(raw, max_age=_SIGNIN_DEVICE_AGE)
        except BadSignature:
            data = {}
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        data = {}
    users = [u for u in data.get("u", []) if isinstance(u, int) and u != user_id]
    value = {
        "d": data.get("d") or secrets.token_hex(16),
        "u": ([user_id] + users)[:_SIGNIN_DEVICE_ACCOUNTS],
    }
    response.set_cookie(
        SIGNIN_DEVICE_COOKIE,
        _device_serializer().dumps(value),
        max_age=_SIGNIN_DEVICE_AGE,
        path=url_for("auth.login"),
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )
    return response


def signin_network(address: str | None = None) -> str:
    """A short salted hash of the sender's network prefix, for the failures the owner and
    the admin see (which networks, never the address; not the respondents' hash)."""
    return network_hash(
        "signin:" + current_app.config["DEVICE_SALT"], address or request.remote_addr
    )[:12]


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "evalsurvey")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)  # computed on every request
    limiter.init_app(app)
    redis_url = app.config.get("REDIS_URL")
    app.extensions["signin_throttle"] = (
        _RedisThrottle(redis_url) if redis_url else _MemoryThrottle()
    )
