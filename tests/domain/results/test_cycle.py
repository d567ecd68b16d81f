"""One result per cycle and unit type (issue 16): the typed result round-trips through
storage unchanged; an input changed after the composite shows the result stale on the pages
and keeps it from being published until recomputed or a reason is given; a proposal or
review made against an older composite does not stand until confirmed again; and every page
and file that shows a score reads the same result (the department's penalty case)."""

from __future__ import annotations

import csv
import html as htmllib
import io
import json
import re

import pypdf
import pytest
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.domain.assessment import consultation, grade_review
from evalsurvey.domain.assessment import publication as publication_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results.cycle import (
    ADJUSTMENTS,
    FINDINGS,
    RESPONSES,
    computed_scores,
    current_result,
    cycle_result,
    staleness,
)
from evalsurvey.domain.units import create_unit
from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, Cycle, CycleStatus, Publication, Response, Unit
from evalsurvey.scoring.result import STALE, CycleResult
from tests.factories import hidden_fields, login

KIND = "community"


def _demo(app):
    demo.load(n_responses=700, seed=11)
    cycle = db.session.scalar(select(Cycle).where(Cycle.code == "2026H2"))
    admin = app.test_client()
    login(admin, *demo.DEMO_ADMIN)
    return cycle, admin


def _unit(code: str) -> Unit:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def _pts(x: float) -> str:
    return f"{round(float(x), 2):g}"


def _lowest_of_first_street(cycle) -> str:
    """A community the demo's street contact proposes for, outside the top two grades."""
    computed = computed_scores(composite_domain.latest_composite(cycle, KIND))
    mine = [c for c, s in computed.items() if c.startswith("C01") and s is not None]
    return min(mine, key=lambda c: computed[c])


def test_the_typed_result_round_trips_through_storage_unchanged(app):
    cycle, _admin = _demo(app)
    unit = _unit(_lowest_of_first_street(cycle))
    computed = computed_scores(composite_domain.latest_composite(cycle, KIND))[unit.code]
    grade_review.propose(cycle, unit, computed + 2, None, "", demo.DEMO_STREET)
    db.session.commit()
    result = current_result(cycle, KIND)
    assert result.unit_result(unit.code).standing.source == "proposed"
    assert any(u.groups for u in result.units) and any(u.inspection for u in result.units)
    stored = json.loads(json.dumps(result.to_json()))
    assert CycleResult.from_json(stored) == result
    with pytest.raises(ValueError):
        CycleResult.from_json({**stored, "format": 99})


def _rows_by_code(text: str, pattern: str, names: dict[str, str]) -> dict[str, tuple]:
    return {
        names[htmllib.unescape(name)]: (int(rank), float(score))
        for rank, name, score in re.findall(pattern, text)
    }


def _everywhere(app, admin, cycle) -> dict[str, dict[str, tuple]]:
    """unit → (rank, score) as each page and file shows it."""
    names = {u.name: u.code for u in db.session.scalars(select(Unit).where(Unit.type == KIND))}
    seen: dict[str, dict[str, tuple]] = {}
    page = admin.get(f"/admin/cycles/{cycle.id}/composite?type={KIND}").get_data(as_text=True)
    seen["composite"] = {}
    for rank, code, score in re.findall(
        r'<tr><td>(\d+)</td><td>[^<]*<span class="muted">(\w+)</span>.*?'
        r'<td class="num standing"><strong>([\d.]+)</strong>',
        page,
        re.S,
    ):
        seen["composite"][code] = (int(rank), float(score))
    reply = admin.get(f"/admin/cycles/{cycle.id}/results.csv?type={KIND}")
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    seen["results.csv"] = {r[1]: (int(r[0]), float(r[3])) for r in rows[1:]}
    dash = admin.get(f"/admin/cycles/{cycle.id}/dashboard?type={KIND}").get_data(as_text=True)
    row = r'<tr><td>(\d+)</td><td><a href="[^"]*">([^<]+)</a></td><td class="num">([\d.]+)</td>'
    seen["dashboard"] = _rows_by_code(dash, row, names)
    public = app.test_client().get(f"/p/{cycle.code}/{KIND}").get_data(as_text=True)
    seen["public"] = _rows_by_code(
        public, r'<tr><td>(\d+)</td><td>([^<]+)</td><td class="r">([\d.]+)</td>', names
    )
    return seen


def test_an_approved_penalty_reaches_every_published_number(app):
    cycle, admin = _demo(app)
    code = _lowest_of_first_street(cycle)
    unit = _unit(code)
    before = computed_scores(composite_domain.latest_composite(cycle, KIND))[code]
    # the street confirms the computed score: a fresh demo has nothing stale
    grade_review.propose(cycle, unit, before, None, "", demo.DEMO_STREET)
    db.session.commit()
    assert not staleness(cycle, KIND)

    # a department's penalty is approved: the stored composite no longer stands for it
    adjustment = consultation.submit_adjustment(
        cycle, unit, "P1", "case:1", "信访件属实", demo.DEMO_DEPARTMENT
    )
    consultation.decide(adjustment, True, "核实属实", "admin")
    db.session.commit()
    stale = staleness(cycle, KIND)
    assert FINDINGS in stale.changed and ADJUSTMENTS in stale.changed
    page = admin.get(f"/admin/cycles/{cycle.id}/composite?type={KIND}").get_data(as_text=True)
    assert "结果已过时" in page and "征求意见调整" in page
    english = admin.get(f"/admin/cycles/{cycle.id}/composite?type={KIND}&lang=en")
    assert (
        "these inputs have changed: the inspection findings, consultation adjustments."
        in english.get_data(as_text=True)
    )
    admin.get("/?lang=zh")
    unit_page = admin.get(f"/admin/cycles/{cycle.id}/units/{unit.id}").get_data(as_text=True)
    assert "结果已过时" in unit_page and "重新计算并保存" in unit_page

    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    grade_review.draw_sample(cycle, KIND, "admin", rate=0, seed=1)
    db.session.commit()
    with pytest.raises(DomainError, match="依据已有变动"):
        publication_domain.publish_results(cycle, KIND, "admin")
    db.session.rollback()
    publish = f"/admin/cycles/{cycle.id}/publish?type={KIND}"
    shown = admin.get(publish).get_data(as_text=True)
    assert "依据已有变动" in shown and "将要公示的结果" in shown

    # recomputed: the penalty is in the composite; the street's proposal predates it
    composite_domain.run_composite(cycle, KIND, "admin")
    after = computed_scores(composite_domain.latest_composite(cycle, KIND))[code]
    assert after < before - 0.5
    stale = staleness(cycle, KIND)
    assert stale.changed == () and stale.stale_proposals == (code,)
    standing = current_result(cycle, KIND).unit_result(code).standing
    assert (standing.score, standing.source) == (after, STALE)  # not the older 'before'
    with pytest.raises(DomainError, match="须重新确认"):
        publication_domain.publish_results(cycle, KIND, "admin")
    db.session.rollback()

    # confirmed again on the new composite: published, the penalty in every number
    grade_review.propose(cycle, unit, after, None, "", demo.DEMO_STREET)
    db.session.commit()
    assert not staleness(cycle, KIND)
    sent = admin.post(publish, data=hidden_fields(admin.get(publish).get_data(as_text=True)))
    assert sent.status_code == 302
    published = db.session.scalar(select(Publication).where(Publication.unit_type == KIND))
    frozen = CycleResult.from_json(published.result)
    assert frozen.unit_result(code).standing.score == round(after, 2)
    expected = {s.unit: (s.rank, round(s.score, 2)) for s in frozen.ranking()}
    for where, found in _everywhere(app, admin, cycle).items():
        assert {u: (r, round(s, 2)) for u, (r, s) in found.items()} == expected, where
    # the review page and every unit's report (and the penalised unit's PDF) agree
    review = admin.get(f"/admin/cycles/{cycle.id}/review?type={KIND}").get_data(as_text=True)
    for unit_code, (_rank, score) in expected.items():
        row = re.search(rf'<span class="muted">{unit_code}</span>.*?</tr>', review, re.S)
        assert f"<strong>{_pts(score)}</strong>" in row.group(0), unit_code
        u = _unit(unit_code)
        report = admin.get(f"/admin/cycles/{cycle.id}/units/{u.id}/report")
        assert f"{_pts(score)} 分" in report.get_data(as_text=True), unit_code
    pdf = admin.get(f"/admin/cycles/{cycle.id}/units/{unit.id}/report.pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert _pts(after) in text and _pts(before) not in text.split("较上期")[0]


def test_a_review_made_on_an_older_composite_must_be_confirmed_again(app):
    cycle, _admin = _demo(app)
    code = _lowest_of_first_street(cycle)
    unit = _unit(code)
    computed = computed_scores(composite_domain.latest_composite(cycle, KIND))[code]
    proposal = grade_review.propose(cycle, unit, computed, None, "", demo.DEMO_STREET)
    grade_review.review(proposal, computed - 1, "复核", "admin")
    db.session.commit()
    assert current_result(cycle, KIND).unit_result(code).standing.source == "reviewed"
    # a finding changes the unit's composite: the review no longer stands
    scheme_domain.record_finding(cycle, unit, "P1", "case:2", "复查", "admin", "复查")
    db.session.commit()
    composite_domain.run_composite(cycle, KIND, "admin")
    now = computed_scores(composite_domain.latest_composite(cycle, KIND))[code]
    standing = current_result(cycle, KIND).unit_result(code).standing
    assert (standing.score, standing.source) == (now, STALE)
    assert staleness(cycle, KIND).stale_proposals == (code,)
    # the upper level confirms its review on the new composite: it stands again
    grade_review.review(proposal, now - 1, "复核", "admin")
    db.session.commit()
    standing = current_result(cycle, KIND).unit_result(code).standing
    assert (standing.score, standing.source) == (round(now - 1, 2), "reviewed")
    assert not staleness(cycle, KIND)


def test_a_review_decision_on_responses_shows_the_analysis_out_of_date(app):
    cycle, _admin = _demo(app)
    assert not staleness(cycle, KIND)
    response = db.session.scalar(
        select(Response).join(Unit).where(Unit.type == KIND, Response.cycle_id == cycle.id)
    )
    response.status, response.reviewed = "excluded", True
    db.session.commit()
    assert RESPONSES in staleness(cycle, KIND).changed


def test_a_unit_added_after_the_composite_is_published_only_with_a_stated_reason(app):
    cycle, admin = _demo(app)
    create_unit("C0199", "新设社区", KIND, "S01")
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    assert staleness(cycle, KIND).missing_units == ("C0199",)
    publish = f"/admin/cycles/{cycle.id}/publish?type={KIND}"
    page = admin.get(publish).get_data(as_text=True)
    assert "不在综合结果中" in page and 'name="reason"' in page
    fields = hidden_fields(page)
    refused = admin.post(publish, data=fields)
    assert refused.status_code == 400 and db.session.scalar(select(Publication)) is None
    sent = admin.post(publish, data={**fields, "reason": "新设社区下期参加考核"})
    assert sent.status_code == 302
    published = db.session.scalar(select(Publication).where(Publication.unit_type == KIND))
    assert published.override_reason == "新设社区下期参加考核"
    assert published.overridden == ["missing_units"]
    audit = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "Publication", AuditLog.action == "override")
    )
    assert audit.changes["reason"][1] == "新设社区下期参加考核"
    public = app.test_client().get(f"/p/{cycle.code}/{KIND}").get_data(as_text=True)
    assert "新设社区下期参加考核" in public
    assert cycle_result(cycle, KIND).unit_result("C0199") is None


def test_analyze_cycle_says_the_stored_composite_is_now_out_of_date(app):
    cycle, _admin = _demo(app)
    assert not staleness(cycle, KIND)
    result = app.test_cli_runner().invoke(
        args=["analyze", "--cycle", cycle.code, "--unit-type", KIND]
    )
    assert result.exit_code == 0, result.output
    assert f"the stored composite of {KIND} is now out of date (analysis)" in result.stderr
    db.session.commit()  # a new transaction sees the command's run
    assert staleness(cycle, KIND).changed == ("analysis",)
