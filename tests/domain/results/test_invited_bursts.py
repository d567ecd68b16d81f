"""Invitation answers are never burst-flagged by their timing alone: each single-use
invitation carries one response, so thirty members answering within minutes of the branch
meeting is not stuffing. The same pattern through a public link still is."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np

from evalsurvey import stats
from evalsurvey.analysis.reader import read_responses
from evalsurvey.analysis.report import Options, analyze
from evalsurvey.domain.collecting.responses import add_response
from evalsurvey.domain.files.interchange import export_responses
from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models import LinkMode
from tests.factories import make_cycle, make_link, make_unit

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def _answers(link, channel: str, when: datetime, tag: str) -> None:
    add_response(
        link=link,
        channel=channel,
        started_at=when - timedelta(seconds=120),
        submitted_at=when,
        answers={"attitude": 4, "speed": 4},
        device=f"d{tag}",
        submission_key=f"k{tag}",
    )


def _cycle(mode: str, channel: str):
    """A unit's usual trickle over two weeks, then thirty answers in ten minutes."""
    cycle = make_cycle(code=f"B{mode}")
    unit = make_unit("W1")
    link = make_link(unit=unit, cycle=cycle, group="member", mode=mode)
    for day in range(14):
        _answers(link, channel, START + timedelta(days=day, hours=5), f"u{day}")
    meeting = START + timedelta(days=14, hours=6)
    for k in range(30):
        _answers(link, channel, meeting + timedelta(seconds=20 * k), f"m{k}")
    db.session.commit()
    return cycle


def _bursts(report: dict) -> int:
    # the surge model (stats.surges) replaced the burst rule: its suspects carry ``surge``
    return sum("surge" in r["reasons"] for r in report["responses"])


def test_thirty_members_answering_their_invitations_within_minutes_are_not_a_burst(app):
    report = analysis.analyze_cycle(_cycle(LinkMode.INVITE, "invite"))
    assert _bursts(report) == 0
    assert report["summary"]["flags"].get("surge", 0) == 0
    assert report["summary"]["flags"].get("in_surge", 0) == 0  # not even counted


def test_the_same_pattern_through_a_public_link_is_still_a_burst(app):
    report = analysis.analyze_cycle(_cycle(LinkMode.PUBLIC, "qr"))
    assert _bursts(report) >= 20


def test_the_rule_leaves_exempt_responses_out_and_keeps_the_others():
    unit = np.zeros(60, np.int64)
    trickle = np.arange(30) * 86400.0 / 2  # two a day
    surge = 40 * 86400.0 + np.arange(30) * 20.0
    time = np.concatenate((trickle, surge))
    flagged = stats.bursts(unit, time)
    assert set(flagged.index.tolist()) >= set(range(40, 60))
    exempt = np.zeros(60, bool)
    exempt[30:] = True
    assert stats.bursts(unit, time, exempt=exempt).index.size == 0
    # only some exempt: the others keep their own indices
    exempt[45:] = False
    kept = stats.bursts(unit, time, exempt=exempt).index
    assert set(kept.tolist()) <= set(range(45, 60)) and kept.size >= 10


def test_the_interchange_csv_says_which_answers_came_by_invitation(app):
    cycle = _cycle(LinkMode.INVITE, "invite")
    buffer = io.StringIO()
    export_responses(buffer, cycle=cycle)
    table = read_responses(io.StringIO(buffer.getvalue()))
    assert table.invited is not None and table.invited.all()
    assert _bursts(analyze(table, analysis.cycle_options(cycle))) == 0
    # the same file with the channel changed to a public link's: a burst
    public = buffer.getvalue().replace(",invite,", ",qr,")
    assert _bursts(analyze(read_responses(io.StringIO(public)), Options())) >= 20
