"""Small ``make_*`` factories for test data."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain import staff as staff_domain
from evalsurvey.domain import units as unit_domain
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting import questionnaires as qdomain
from evalsurvey.domain.units import ensure_rater_groups
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, LinkMode, Role, StaffUser, Unit
from evalsurvey.models.types import utcnow

_seq = itertools.count(1)

SIMPLE_QUESTIONNAIRE = {
    "code": "WIN",
    "title": "窗口满意度",
    "title_en": "Window satisfaction",
    "items": [
        {"code": "attitude", "text": "服务态度", "text_en": "Attitude", "type": "satisfaction5"},
        {"code": "speed", "text": "办事效率", "text_en": "Speed", "type": "satisfaction5"},
        {"code": "nps", "text": "推荐意愿", "type": "scale10", "required": False},
        {"code": "pts", "text": "得分", "type": "points", "max_points": 10, "required": False},
        {
            "code": "chan",
            "text": "您从哪里得知",
            "type": "single",
            "required": False,
            "options": [{"code": "a", "text": "海报"}, {"code": "b", "text": "朋友"}],
        },
        {
            "code": "topics",
            "text": "关注哪些方面",
            "type": "multiple",
            "required": False,
            "options": [
                {"code": "x", "text": "效率"},
                {"code": "y", "text": "态度"},
                {"code": "z", "text": "环境"},
            ],
        },
        {"code": "note", "text": "其他", "type": "text", "required": False},
    ],
}


def make_unit(code: str | None = None, parent: Unit | None = None, **kw) -> Unit:
    """A unit through the domain, committed."""
    n = next(_seq)
    unit = unit_domain.create_unit(
        code or f"U{n:04d}",
        kw.pop("name", f"单位{n}"),
        kw.pop("type", "service_window"),
        parent.code if parent is not None else None,
        kw.pop("active", True),
    )
    db.session.commit()
    return unit


def make_cycle(status: str = CycleStatus.OPEN, **kw) -> Cycle:
    """A cycle through the domain, moved to ``status`` by the allowed transitions."""
    n = next(_seq)
    now = utcnow()
    cycle = cycle_domain.create_cycle(
        kw.pop("code", f"CY{n}"),
        kw.pop("name", f"周期{n}"),
        kw.pop("period", "year"),
        kw.pop("opens_at", now - timedelta(days=1)),
        kw.pop("closes_at", now + timedelta(days=30)),
    )
    for step in (CycleStatus.OPEN, CycleStatus.CLOSED, CycleStatus.PUBLISHED):
        if cycle.status == status:
            break
        cycle_domain.transition(cycle, step)
    db.session.commit()
    return cycle


def make_questionnaire(data: dict | None = None, published: bool = True):
    q = qdomain.create_draft(data or SIMPLE_QUESTIONNAIRE)
    if published:
        qdomain.freeze_version(q)
    db.session.flush()
    return q


def make_link(
    unit=None,
    cycle=None,
    questionnaire=None,
    group="citizen",
    mode=LinkMode.PUBLIC,
    record_rater=False,
):
    groups = ensure_rater_groups()
    link, _created = link_domain.create_link(
        cycle=cycle or make_cycle(),
        questionnaire=questionnaire or make_questionnaire(),
        unit=unit or make_unit(),
        rater_group=groups[group],
        mode=mode,
        record_rater=record_rater,
    )
    db.session.commit()
    return link


def make_staff(
    username: str, role: str = Role.ADMIN, unit: Unit | None = None, password: str = "secret-pass-1"
) -> StaffUser:
    user = staff_domain.create_staff(username, password, role, unit.code if unit else None)
    db.session.commit()
    return user


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, ticket)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def login(client, username: str, password: str = "secret-pass-1"):
    page = client.get("/auth/login").get_data(as_text=True)
    token = hidden_fields(page)["csrf_token"]
    return client.post(
        "/auth/login", data={"csrf_token": token, "username": username, "password": password}
    )


def browser_login(page, base: str, username: str, password: str = "secret-pass-1") -> None:
    """Sign ``page`` (a Playwright page) in through the real sign-in form."""
    page.goto(f"{base}/auth/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def make_response(
    link,
    answers: dict,
    *,
    seconds: float = 90.0,
    device: str = "",
    when=None,
    status: str = "valid",
    network: str = "",
):
    """A stored response for ``link`` (straight to the database, like an import)."""
    from evalsurvey.domain.collecting.responses import add_response

    submitted = when or utcnow()
    return add_response(
        link=link,
        channel="qr",
        started_at=submitted - timedelta(seconds=seconds),
        submitted_at=submitted,
        answers=answers,
        device=device or f"dev{next(_seq)}",
        submission_key=f"k{next(_seq)}",
        status=status,
        network=network,
    )
