"""Default configuration and the environment layer.

Every default here is safe for development; production sets ``EVALSURVEY_SECRET_KEY``,
``EVALSURVEY_DEVICE_SALT`` and ``EVALSURVEY_DATABASE_URL`` (PostgreSQL) in the environment
or in ``instance/config.py``.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

SECRET_KEY = "dev-only-change-me"
# Salt for hashing the first-party device cookie; never store the raw id or an IP.
DEVICE_SALT = "dev-only-device-salt"
SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
# A questionnaire post is a few KB; anything far larger is not a real respondent.
MAX_CONTENT_LENGTH = 64 * 1024
MAX_FORM_MEMORY_SIZE = 64 * 1024
# The largest evidence file (findings, ledger items, departments' adjustments) in bytes;
# the forms state it and their pages take a body that size plus the form around it
# (EVALSURVEY_EVIDENCE_MAX_BYTES=20971520 for 20 MB; a proxy in front must allow as much,
# see docs/deploy.md).
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
# Citizens may leave a form open for a long time; the CSRF token lives with the session.
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Times are stored in UTC and shown (and typed into forms) in the office's zone.
DISPLAY_TIMEZONE = "Asia/Shanghai"
# Public address printed in QR codes and `evalsurvey links`. Empty: the address the
# staff page was opened on (pages warn while that is a loopback address).
PUBLIC_BASE_URL = ""
# The ledger's working-day deadlines follow China's holidays and make-up working days (调休)
# from the `chinesecalendar` package. The office adds its own (ISO dates), which win over the
# package's, e.g. for a year the package does not cover yet:
# EVALSURVEY_HOLIDAYS='["2027-10-01"]' (days off) and EVALSURVEY_WORKDAYS='["2027-09-26"]'
# (weekend days worked).
HOLIDAYS: list[str] = []
WORKDAYS: list[str] = []
# A bad citizen review (the two lowest satisfaction levels with a comment) is followed up by
# a return visit and a fix within these many working days of the response.
REVIEW_VISIT_DAYS = 1
REVIEW_FIX_DAYS = 15
# The two-level review: a proposal whose score differs from the computed composite by more
# than this many points (either way) is re-reviewed by the upper level, whatever its grade
# (EVALSURVEY_REVIEW_MARGIN=3). A difference of exactly the margin is within it.
REVIEW_MARGIN = 5.0
# How long a served questionnaire page stays submittable (seconds).
SURVEY_TICKET_MAX_AGE = 7 * 24 * 3600

# Rate limits (Flask-Limiter strings; several limits joined by ";"). Counters are shared
# through Redis when REDIS_URL is set (several app instances), else kept in memory.
REDIS_URL = ""
# Stated, not left to Flask-Limiter: it keeps the last app's value as the next app's default
# within one process, so an app made after a test app with limits off would start without them.
RATELIMIT_ENABLED = True
RATE_LIMIT_DEVICE = "5 per 10 minutes; 20 per day"  # one phone, one link
RATE_LIMIT_NETWORK = "60 per minute; 600 per hour"  # one hall's Wi-Fi, one link
RATE_LIMIT_LINK = "300 per minute"  # one QR code from everywhere
# Objections on the public disclosure page: one browser, one network prefix, one unit.
RATE_LIMIT_OBJECTION_DEVICE = "5 per 10 minutes; 20 per day"
RATE_LIMIT_OBJECTION_NETWORK = "20 per 10 minutes; 100 per day"
RATE_LIMIT_OBJECTION_UNIT = "60 per hour; 300 per day"
# one API token: a client paging through results or pushing batches stays far below
RATE_LIMIT_API_TOKEN = "600 per minute; 20000 per hour"
# Sign-in is slowed, never locked (docs/design.md, "Rate limits and sign-in throttling"):
# after SIGNIN_ACCOUNT_FREE_FAILURES failures of an account the next attempt waits 1 s after
# the last failure, then 2, 4, 8, 16, then SIGNIN_BACKOFF_CAP seconds at most; one failure is
# forgotten every SIGNIN_ACCOUNT_FORGET_SECONDS. One address (an office's NAT address) may
# fail this many times an hour before it is slowed the same way.
SIGNIN_ACCOUNT_FREE_FAILURES = 5
SIGNIN_ACCOUNT_FORGET_SECONDS = 600
SIGNIN_BACKOFF_CAP = 30
SIGNIN_ADDRESS_FAILURES_PER_HOUR = 300

# Behind a TLS proxy in production: EVALSURVEY_SECURE_COOKIES=1 marks cookies Secure, and
# EVALSURVEY_PROXIES=N states the number of proxies in front of the app (nginx alone: 1): the
# client address (the rate limits' network) is the N-th X-Forwarded-For entry from the right,
# the one the nearest trusted proxy saw, and scheme and host come from X-Forwarded-Proto/-Host.
# It must be a whole number (0: no proxy; "true" or "yes" state no number and are refused),
# and with N > 0 the app must be reachable only through the proxy (docs/deploy.md).
SECURE_COOKIES = False
PROXIES = 0


class ConfigError(ValueError):
    """A setting the application refuses to start with (the message says which and why)."""


def proxy_hops(value: Any) -> int:
    """``PROXIES`` as the number of trusted hops, or :class:`ConfigError`."""
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"EVALSURVEY_PROXIES={value!r} states no number of trusted proxies: set it to "
            "the number of proxies in front of the app (nginx alone: 1), or 0 without one"
        )
    return value


def sqlite_uri(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "evalsurvey.sqlite3")


def derive(config: MutableMapping[str, Any]) -> None:
    """Settings that follow from others (after the environment layer)."""
    if str(config.get("SECURE_COOKIES", "")).lower() in ("1", "true", "yes"):
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
    if config.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    limit = config.get("EVIDENCE_MAX_BYTES", EVIDENCE_MAX_BYTES)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= 2**31:
        raise ConfigError(
            f"EVALSURVEY_EVIDENCE_MAX_BYTES must be a number of bytes (10485760 for 10 MB), "
            f"not {limit!r}"
        )
    margin = config.get("REVIEW_MARGIN", REVIEW_MARGIN)
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin < 100:
        raise ValueError(f"EVALSURVEY_REVIEW_MARGIN must be points in [0, 100), not {margin!r}")


def normalise_database_url(config: MutableMapping[str, Any]) -> None:
    """Use psycopg 3 for ``postgresql://`` URLs and tune SQLite for concurrent use."""
    uri: str = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://") :]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", 15)  # busy timeout, seconds
        options["connect_args"] = connect_args
        config["SQLALCHEMY_ENGINE_OPTIONS"] = options
