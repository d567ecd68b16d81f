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
import math
import time
from typing import NoReturn

from flask import Flask, abort, current_app, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many

from evalsurvey.domain.responses import network_hash
from evalsurvey.extensions import db
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


def _refuse(reason: str, retry_after: int, link_id: int | None) -> NoReturn:
    """Count the refused attempt (its own short transaction), then the 429 page."""
    g.retry_after = retry_after  # for the page's Retry-After
    if link_id is not None:
        db.session.rollback()
        db.session.add(
            BlockedAttempt(link_id=link_id, at=utcnow(), reason=reason, network=client_network())
        )
        db.session.commit()
    abort(429)


# A public questionnaire's posts: one QR code from everywhere, one network, one phone.
SUBMISSION_LIMITS = (
    ("link", "RATE_LIMIT_LINK", _link_code),
    ("network", "RATE_LIMIT_NETWORK", _network_key),
    ("device", "RATE_LIMIT_DEVICE", _device_key),
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


# Sign-in: failures counted per account and per address; a spent limit refuses before any
# password is hashed (hashing is what a flood of bad sign-ins would burn the CPU on).
def _signin_keys(username: str) -> list[tuple[str, str]]:
    address = request.remote_addr or ""
    return [
        ("RATE_LIMIT_SIGNIN_ACCOUNT", f"signin-account:{username.strip().lower()[:80]}"),
        ("RATE_LIMIT_SIGNIN_ADDRESS", f"signin-address:{address}"),
    ]


def signin_wait(username: str) -> int:
    """Seconds until this account and address may try again (0: now)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return 0
    wait = 0.0
    for setting, key in _signin_keys(username):
        for item in _parsed(current_app.config[setting]):
            if not limiter.limiter.test(item, key):
                reset, _remaining = limiter.limiter.get_window_stats(item, key)
                wait = max(wait, reset - time.time())
    return max(1, math.ceil(wait)) if wait > 0 else 0


def signin_failed(username: str) -> None:
    """Count one failed sign-in for the account and the address."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for setting, key in _signin_keys(username):
        for item in _parsed(current_app.config[setting]):
            limiter.limiter.hit(item, key)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "evalsurvey")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)  # computed on every request
    limiter.init_app(app)
