"""No database artefact links a member's response to their invitation.

After a batch of invitation responses, submitted in an order unrelated to the order
the invitations were made, every join an analyst with SQL access could try comes up
empty: row versions and transaction ids (PostgreSQL ``xmin``), physical row order
(``ctid`` / ``rowid``), sequence order and timestamps. See docs/design.md.
"""

from __future__ import annotations

import random

from sqlalchemy import DateTime, select, text

from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.extensions import db
from evalsurvey.models import Invitation, LinkMode, Response
from tests.factories import hidden_fields, make_link

N = 12


def _answer_in_random_order(client, link, seed=7):
    invitations = link_domain.create_invitations(link, [{"name": f"党员{i}"} for i in range(N)])
    db.session.commit()
    tokens = [inv.token for inv in invitations]
    order = list(range(N))
    random.Random(seed).shuffle(order)
    for i in order[: N - 2]:  # two stay unused
        url = f"/i/{tokens[i]}"
        fields = hidden_fields(client.get(url).get_data(as_text=True))
        assert client.post(url, data={**fields, "attitude": "4", "speed": "3"}).status_code == 303
    return [invitations[i].id for i in order[: N - 2]]


def test_invitations_carry_no_time():
    stamped = [c.key for c in Invitation.__table__.columns if isinstance(c.type, DateTime)]
    assert stamped == []


def test_no_join_from_invitations_to_responses(app, client, backend):
    link = make_link(group="member", mode=LinkMode.INVITE)
    used_in_order = _answer_in_random_order(client, link)
    db.session.expire_all()
    responses = db.session.scalars(select(Response).order_by(Response.id)).all()
    assert len(responses) == N - 2
    used = db.session.scalars(
        select(Invitation).where(Invitation.link_id == link.id, Invitation.used)
    ).all()
    assert sorted(i.id for i in used) == sorted(used_in_order)
    if backend == "postgresql":
        # row versions: no invitation shares a transaction with a response
        shared = db.session.execute(
            text("SELECT count(*) FROM invitations i JOIN responses r ON i.xmin = r.xmin")
        ).scalar()
        assert shared == 0
        # ...and every invitation of the link carries the same version, so the order of
        # versions cannot be matched with the order of the responses
        versions = db.session.execute(
            text("SELECT count(DISTINCT xmin::text) FROM invitations WHERE link_id = :l"),
            {"l": link.id},
        ).scalar()
        assert versions == 1
        physical = "ctid"
        # commit timestamps are off (they would time-stamp every claim)
        assert db.session.execute(text("SHOW track_commit_timestamp")).scalar() == "off"
    else:
        physical = "rowid"
    # physical row order is the order the invitations were made, not the order of use
    by_place = (
        db.session.execute(
            text(f"SELECT id FROM invitations WHERE link_id = :l ORDER BY {physical}"),
            {"l": link.id},
        )
        .scalars()
        .all()
    )
    # (or a rotation of it: after autovacuum frees space, one rewrite in table order may put
    # the first rows' new versions behind the rest — the cyclic order, which says nothing of
    # the order of use, is kept)
    start = by_place.index(min(by_place))
    assert by_place[start:] + by_place[:start] == sorted(by_place)
    assert used_in_order != sorted(used_in_order)  # the test would otherwise prove nothing


def test_a_failed_store_gives_the_invitation_back(app, client, monkeypatch):
    """Storing failed after the claim: the member can still answer, once."""
    from evalsurvey.domain.collecting import responses as collect

    link = make_link(group="member", mode=LinkMode.INVITE)
    inv = link_domain.create_invitations(link, [{"name": "赵六"}])[0]
    db.session.commit()
    url = f"/i/{inv.token}"
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    real = collect._insert_once

    def broken(row):
        raise RuntimeError("disk full")

    monkeypatch.setattr(collect, "_insert_once", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post(url, data={**fields, "attitude": "4", "speed": "3"}).status_code == 500
    db.session.expire_all()
    assert not db.session.get(Invitation, inv.id).used
    monkeypatch.setattr(collect, "_insert_once", real)
    assert client.post(url, data={**fields, "attitude": "4", "speed": "3"}).status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(Response)) == 1
