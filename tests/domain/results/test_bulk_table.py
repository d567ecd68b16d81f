"""The bulk reader (PostgreSQL's COPY, SQLite's plain cursor) gives exactly the table the
row-tuple reader it replaced gave, on both databases: nulls, comments with CR/LF and emoji,
invitation answers, paper responses, every status and review decision, text and empty
items, a subset of units."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from evalsurvey.analysis.reader import Columns, ResponseTable
from evalsurvey.domain.collecting.questionnaires import format_value
from evalsurvey.domain.collecting.responses import add_response, set_status
from evalsurvey.domain.results import analysis, bulk
from evalsurvey.extensions import db
from evalsurvey.models import (
    Channel,
    Cycle,
    LinkMode,
    Questionnaire,
    RaterGroup,
    Response,
    ResponseStatus,
    Unit,
)
from tests.analysis.test_reader import assert_same_table
from tests.factories import make_cycle, make_link, make_questionnaire, make_unit

T0 = datetime(2026, 9, 1, 1, 0, 0, 123456, tzinfo=UTC)


def _epoch(value) -> float:
    return value.timestamp() if value is not None else math.nan


# The reader as it was before the bulk path (ebd1b3c's domain/analysis.py), kept as the
# reference the bulk reader must agree with.
def reference_table(cycle: Cycle, unit_ids: Iterable[int] | None = None) -> ResponseTable:
    """The cycle's responses (``excluded`` left out) as the analysis's typed table.

    Reads plain column tuples (no ORM objects: a million rows stay a matter of seconds);
    units, groups and questionnaire versions are looked up once each.
    """
    query = (
        select(
            Response.public_id,
            Response.questionnaire_id,
            Response.unit_id,
            Response.rater_group_id,
            Response.rater,
            Response.device,
            Response.network,
            Response.rater_unit,
            Response.started_at,
            Response.submitted_at,
            Response.status,
            Response.reviewed,
            Response.answers,
            Response.channel,
        )
        .where(Response.cycle_id == cycle.id, Response.status != ResponseStatus.EXCLUDED)
        .order_by(Response.id)
    )
    if unit_ids is not None:
        query = query.where(Response.unit_id.in_(list(unit_ids)))
    unit_code = dict(db.session.execute(select(Unit.id, Unit.code)).all())
    group_code = dict(db.session.execute(select(RaterGroup.id, RaterGroup.code)).all())
    label = {
        qid: f"{code}@{version}"
        for qid, code, version in db.session.execute(
            select(Questionnaire.id, Questionnaire.code, Questionnaire.version)
        )
    }
    columns = Columns()
    ids: list[str] = []
    started: list[float] = []
    submitted: list[float] = []
    decision: list[int] = []
    answers: list[dict] = []
    rows = db.session.execute(query.execution_options(yield_per=5000))
    networks: dict[str, int] = {}
    network: list[int] = []
    invited: list[bool] = []
    for rid, qid, uid, gid, rater, device, net, rater_unit, start, end, status, reviewed, \
            ans, channel in rows:  # fmt: skip
        ids.append(rid)
        invited.append(channel == Channel.INVITE)
        network.append(networks.setdefault(net, len(networks)) if net else -1)
        columns.add(label[qid], unit_code[uid], group_code[gid], rater, device, rater_unit)
        started.append(_epoch(start))
        submitted.append(_epoch(end))
        # a person's decision: suspect stays out until made valid; a reviewed valid stays in
        decision.append(-1 if status == ResponseStatus.SUSPECT else 1 if reviewed else 0)
        answers.append(ans)
    scales = analysis.item_scales(cycle)
    scored = [c for c in scales if any(a.get(c) is not None for a in answers)]
    empty = [c for c in scales if c not in scored]
    items = np.full((len(ids), len(scored)), np.nan)
    for j, code in enumerate(scored):
        for i, a in enumerate(answers):
            value = a.get(code)
            if isinstance(value, int | float) and not isinstance(value, bool):
                items[i, j] = float(value)
    text_items = sorted(
        {c for a in answers for c, v in a.items() if c not in scales and format_value(v) != ""}
    )
    return columns.table(
        response_id=ids,
        started=np.array(started, np.float64),
        submitted=np.array(submitted, np.float64),
        items=items,
        network=np.array(network, np.int64),
        item_names=scored,
        text_items=text_items,
        empty_items=empty,
        row=np.arange(2, len(ids) + 2, dtype=np.int64),
        decision=np.array(decision, np.int8),
        invited=np.array(invited, dtype=bool),
    )


def _fill():
    """Two questionnaires' versions, units, public and invitation links, paper answers."""
    cycle = make_cycle(code="BULK")
    other = make_cycle(code="OTHER")
    q = make_questionnaire()
    units = [make_unit(f"W{i}") for i in range(3)]
    public = [make_link(unit=u, cycle=cycle, questionnaire=q) for u in units]
    invite = make_link(
        unit=units[0], cycle=cycle, questionnaire=q, group="member", mode=LinkMode.INVITE
    )
    panel = make_link(unit=units[1], cycle=cycle, questionnaire=q, group="panel")
    elsewhere = make_link(unit=units[2], cycle=other, questionnaire=q)
    comments = ["", "好\r\n很好 👍", "line\rbreak\n", '引号"和,逗号']
    answers = [
        {"attitude": 5, "speed": 4, "chan": "a", "topics": ["x", "z"], "note": "多\n行"},
        {"attitude": 3, "speed": None, "nps": 7, "topics": []},
        {"attitude": 4.5, "speed": 2, "pts": 6.5, "note": ""},
        {"attitude": 1, "speed": 1, "chan": None},
        {"speed": 5},
    ]
    n = 0
    for k in range(40):
        link = [*public, invite, panel][k % 5]
        when = T0 + timedelta(hours=k, microseconds=k * 7919)
        channel = Channel.INVITE if link is invite else Channel.QR
        if k % 9 == 4:
            channel = Channel.PAPER
        add_response(
            link=link,
            channel=channel,
            started_at=None
            if channel == Channel.PAPER or k % 11 == 0
            else when - timedelta(seconds=80 + k),
            submitted_at=when,
            answers=answers[k % len(answers)],
            comment=comments[k % len(comments)],
            device="" if channel != Channel.QR else f"d{k % 13}",
            network="" if channel != Channel.QR else f"n{k % 4}",
            rater=f"E{k % 3}" if link is panel else "",
            rater_unit=units[k % 3].code if link is panel else "",
            status=ResponseStatus.EXCLUDED if k % 17 == 3 else ResponseStatus.VALID,
            submission_key=f"key{k}",
        )
        n += 1
    add_response(
        link=elsewhere,
        channel="qr",
        started_at=None,
        submitted_at=T0,
        answers={"attitude": 2},
        submission_key="elsewhere",
    )
    db.session.commit()
    rows = db.session.scalars(select(Response).where(Response.cycle_id == cycle.id)).all()
    set_status(rows[5], ResponseStatus.SUSPECT)  # a person left it out
    set_status(rows[6], ResponseStatus.VALID)  # a person kept it
    rows[7].status = ResponseStatus.SUSPECT  # the rules flagged it, nobody reviewed
    db.session.commit()
    return cycle, units


def test_bulk_reader_gives_the_reference_table(app):
    cycle, units = _fill()
    table = analysis.response_table(cycle)
    assert_same_table(table, reference_table(cycle))
    assert table.n == 37 and set(table.decision.tolist()) == {-1, 0, 1}  # 3 excluded
    assert 0 < table.invited.sum() < table.n and np.isnan(table.started).sum() > 4
    assert table.text_items == ["chan", "note", "topics"]
    assert table.item_names == ["attitude", "speed", "nps", "pts"]
    some = [units[0].id, units[2].id]
    assert_same_table(analysis.response_table(cycle, some), reference_table(cycle, some))


def test_many_chunks_and_an_empty_selection(app, monkeypatch):
    cycle, _units = _fill()
    monkeypatch.setattr(bulk, "CHUNK", 3)
    assert_same_table(analysis.response_table(cycle), reference_table(cycle))
    assert_same_table(analysis.response_table(cycle, []), reference_table(cycle, []))
    empty = make_cycle(code="EMPTY")
    assert_same_table(analysis.response_table(empty), reference_table(empty))
