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

import math
import time

from flask import Flask, current_app, g, request
from flask_limiter import Limiter, RequestLimit
from limits import parse_many

from evalsurvey.domain.responses import network_hash
from evalsurvey.extensions import db
from evalsurvey.models import BlockedAttempt, Link
from evalsurvey.models.types import utcnow

DEVICE_COOKIE = "esd"


def client_network() -> str:
    """The salted hash of the sender's network prefix (never the address)."""
    return network_hash(current_app.config["DEVICE_SALT"], request.remote_addr)


def _link_code() -> str:
    return (request.view_args or {}).get("code", "")


def _device_key() -> str:
    # a script that drops its cookies is a new device each time: the network limit holds it
    return f"{_link_code()}:{request.cookies.get(DEVICE_COOKIE, '')[:32] or client_network()}"


def _network_key() -> str:
    return f"{_link_code()}:{client_network()}"


limiter = Limiter(key_func=client_network, strategy="moving-window")

# Where a limit is declared below, by endpoint and method (sign-in counts by hand). Every
# other request skips Flask-Limiter's per-request resolution of limits (measurable on the
# respondents' path: the questionnaire's GET and the thank-you page).
LIMITED = {"public.survey": ("POST",), "public.invitation": ("GET", "POST")}


@limiter.request_filter
def _nothing_to_limit() -> bool:
    return request.method not in LIMITED.get(request.endpoint or "", ())


def _record(reason: str):
    """On a breach: count the refused attempt (its own short transaction)."""

    def on_breach(limit: RequestLimit):
        g.retry_after = max(1, math.ceil(limit.reset_at - time.time()))  # for the 429 page
        link_id = db.session.scalar(db.select(Link.id).where(Link.code == _link_code()))
        if link_id is not None:
            db.session.rollback()
            db.session.add(
                BlockedAttempt(
                    link_id=link_id, at=utcnow(), reason=reason, network=client_network()
                )
            )
            db.session.commit()
        return None  # the 429 error page follows

    return on_breach


def submission_limits(view):
    """The public questionnaire's POST limits, read from the configuration per request."""
    for reason, setting, key in (
        ("link", "RATE_LIMIT_LINK", _link_code),
        ("network", "RATE_LIMIT_NETWORK", _network_key),
        ("device", "RATE_LIMIT_DEVICE", _device_key),
    ):
        view = limiter.limit(
            lambda setting=setting: current_app.config[setting],
            key_func=key,
            methods=["POST"],
            scope=f"submit-{reason}",
            on_breach=_record(reason),
        )(view)
    return view


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
        for item in parse_many(current_app.config[setting]):
            if not limiter.limiter.test(item, key):
                reset, _remaining = limiter.limiter.get_window_stats(item, key)
                wait = max(wait, reset - time.time())
    return max(1, math.ceil(wait)) if wait > 0 else 0


def signin_failed(username: str) -> None:
    """Count one failed sign-in for the account and the address."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for setting, key in _signin_keys(username):
        for item in parse_many(current_app.config[setting]):
            limiter.limiter.hit(item, key)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "evalsurvey")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)  # computed on every request
    limiter.init_app(app)
