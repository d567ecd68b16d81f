"""Schemes stored and pinned to cycles; findings recorded, audited and scored."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models import AuditLog, CycleStatus
from evalsurvey.models.types import utcnow
from tests.factories import make_cycle, make_link, make_response, make_unit

DATA = Path(__file__).resolve().parents[3] / "evalsurvey/data/schemes"


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def published(name: str = "agency_branch_004.json"):
    version = scheme_domain.import_scheme(load(name))
    scheme_domain.freeze_scheme_version(version)
    db.session.commit()
    return version


def test_import_makes_the_next_version_and_bad_schemes_name_the_node(app):
    first = published()
    again = scheme_domain.import_scheme(load("agency_branch_004.json"))
    assert (first.label, again.label) == ("AGENCY-BRANCH@1", "AGENCY-BRANCH@2")
    data = load("agency_branch_004.json")
    data["indicators"][0]["points"] = 18
    with pytest.raises(scheme_domain.SchemeInvalid) as caught:
        scheme_domain.import_scheme(data)
    assert caught.value.error.where == "1" and caught.value.error.code == "children_sum"


def test_findings_are_checked_audited_and_need_a_reason_to_change(app):
    version = published()
    cycle = make_cycle()
    unit = make_unit("B1", type="agency_branch")
    with pytest.raises(DomainError, match="尚未"):
        scheme_domain.record_finding(cycle, unit, "1.1", "1", "", "insp")
    draft = scheme_domain.import_scheme(load("agency_branch_004.json"))
    with pytest.raises(DomainError, match="先发布"):
        scheme_domain.assign_scheme(cycle, "agency_branch", draft)
    scheme_domain.assign_scheme(cycle, "agency_branch", version)
    with pytest.raises(DomainError) as caught:
        scheme_domain.record_finding(cycle, unit, "1.1", "x", "", "insp")
    assert caught.value.field == "value"
    with pytest.raises(DomainError) as caught:
        scheme_domain.record_finding(cycle, unit, "9.9", "1", "", "insp")
    assert caught.value.field == "element"
    scheme_domain.record_finding(cycle, unit, "1.1", "1", "缺分工记录", "insp")
    db.session.commit()
    with pytest.raises(DomainError) as caught:
        scheme_domain.record_finding(cycle, unit, "1.1", "0", "已补", "insp")
    assert caught.value.field == "reason"
    db.session.rollback()
    scheme_domain.record_finding(cycle, unit, "1.1", "0", "已补", "insp", reason="复查时补齐记录")
    db.session.commit()
    change = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "Finding", AuditLog.action == "update")
    ).one()
    assert change.changes["value"] == ["1", "0"]
    assert change.changes["reason"] == ["", "复查时补齐记录"]
    # a published cycle never changes
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    cycle_domain.transition(cycle, CycleStatus.PUBLISHED)
    with pytest.raises(DomainError, match="已公布"):
        scheme_domain.record_finding(cycle, unit, "1.1", "1", "", "insp", reason="改")


def test_unit_results_read_satisfaction_from_the_stored_run(app):
    version = published("community_002.json")
    citizens = make_link(unit=make_unit("C1", type="community"))
    cycle = citizens.cycle
    scheme_domain.assign_scheme(cycle, "community", version)
    for i in range(10):
        make_response(citizens, {"attitude": 5, "speed": 4}, when=utcnow() - timedelta(hours=i))
    db.session.commit()
    analysis.run_analysis(cycle, "test")
    results = scheme_domain.unit_type_results(cycle, "community")
    c1 = results.units["C1"]
    # satisfaction 5 and 4 on 1–5 → (4 + 3) / 8 = 87.5 of 100 → 6 × 0.875 = 5.25
    assert results.survey_scores[("C1", "citizen")] == 87.5
    assert c1.elements["5.1.1"].points == 5.25
    assert c1.elements["5.1.2"].points is None  # no member responses: not assessed
    assert not c1.complete and "5.1.2" in c1.not_assessed


def test_every_scheme_problem_reads_as_a_sentence_in_both_languages(app):
    """Every SchemeError code of the scoring package has a sentence (issue 17: the scheme
    page showed `children_sum`), its numbers and field in words."""
    import re
    from pathlib import Path

    from evalsurvey.i18n import _, in_language
    from evalsurvey.scoring.schemes import SchemeError

    root = Path(scheme_domain.__file__).resolve().parents[2] / "scoring"
    source = (root / "schemes.py").read_text() + (root / "workbook.py").read_text()
    codes = set(re.findall(r'(?:SchemeError|_fail)\(\s*"([a-z_]+)"', source))
    assert {"children_sum", "missing", "bad_rule_text"} <= codes
    assert codes <= set(scheme_domain.SCHEME_MESSAGES)
    error = SchemeError("children_sum", "1", children=18.0, points=20)
    zh = scheme_domain.scheme_error_text(error)
    assert zh == "方案有误（1）：下级指标分值合计 18 分，与本指标的 20 分不符。"
    with in_language("en"):
        en = scheme_domain.scheme_error_text(error, _)
        missing = scheme_domain.scheme_error_text(SchemeError("missing", "1.2", field="points"), _)
    assert "children_sum" not in en and "18" in en and "20" in en
    assert "points" not in missing.replace("Points", "")
