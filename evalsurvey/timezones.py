"""Show and read times in the office's time zone; store them in UTC.

``DISPLAY_TIMEZONE`` (default Asia/Shanghai) is what people see on pages and type
into forms; the database and the interchange CSV stay in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app

BEIJING_TIME = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def to_local(value: datetime | None) -> datetime | None:
    return value.astimezone(zone()) if value is not None else None


def from_local(naive: datetime | None) -> datetime | None:
    """A wall-clock time typed into a form, as an aware UTC datetime."""
    if naive is None:
        return None
    return naive.replace(tzinfo=zone()).astimezone(UTC)


def init_app(app: Flask) -> None:
    ZoneInfo(app.config["DISPLAY_TIMEZONE"])  # fail at start-up on a misspelt zone

    app.jinja_env.globals["zone_name"] = zone_name


def zone_name() -> str:
    """The display zone as its readers call it (北京时间 / Beijing Time; elsewhere babel's
    中国（上海）时间-style name), never its IANA name."""
    from babel.dates import get_timezone_location
    from flask_babel import get_locale

    from evalsurvey.i18n import _

    if current_app.config["DISPLAY_TIMEZONE"] in BEIJING_TIME:
        return _("北京时间")  # what people in China call it, on the clock at every window
    return get_timezone_location(zone(), locale=get_locale())
