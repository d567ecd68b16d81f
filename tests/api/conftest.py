"""A small district for the API: two streets, their communities, one cycle with a citizens'
and a members' link per community, and accounts of every reading role with a token each."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from evalsurvey.domain import api_tokens
from evalsurvey.extensions import db
from evalsurvey.models import Role
from tests.conftest import app_in_context, base_config
from tests.factories import make_cycle, make_link, make_questionnaire, make_staff, make_unit


@dataclass
class World:
    cycle: object
    questionnaire: object
    units: dict
    links: dict
    tokens: dict  # role name -> secret


def token_for(user, scope="read") -> str:
    _token, secret = api_tokens.create_token(user, scope, f"{user.username}-{scope}")
    db.session.commit()
    return secret


@pytest.fixture
def app(database_url, tmp_path, request):
    """The suite's app; ``@pytest.mark.config(...)`` adds settings before it is made (rate
    limits, for one)."""
    marker = request.node.get_closest_marker("config")
    extra = marker.kwargs if marker else {}
    yield from app_in_context(database_url, {**base_config(database_url, str(tmp_path)), **extra})


@pytest.fixture
def world(app) -> World:
    s1 = make_unit("S1", type="street", name="东街道")
    s2 = make_unit("S2", type="street", name="西街道")
    units = {
        "S1": s1,
        "S2": s2,
        "C1": make_unit("C1", parent=s1, type="community", name="一社区"),
        "C2": make_unit("C2", parent=s1, type="community", name="二社区"),
        "C3": make_unit("C3", parent=s2, type="community", name="三社区"),
    }
    cycle = make_cycle(code="2026H2")
    q = make_questionnaire()
    db.session.commit()
    links = {}
    for code in ("C1", "C2", "C3"):
        for group in ("citizen", "member"):
            links[(code, group)] = make_link(units[code], cycle, q, group=group)
    admin = make_staff("admin1", Role.ADMIN)
    tokens = {
        "admin": token_for(admin),
        "admin-write": token_for(admin, "write"),
        "viewer": token_for(make_staff("viewer1", Role.VIEWER)),
        "street": token_for(make_staff("street1", Role.UNIT_CONTACT, s1)),
    }
    return World(cycle, q, units, links, tokens)


def bearer(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}
