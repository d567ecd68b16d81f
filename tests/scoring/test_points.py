"""Every rule with its edges, and the seed-004 rubric on a worked example computed by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalsurvey.scoring import FindingsError, parse_scheme, read_findings, score_units
from evalsurvey.scoring.findings import Finding
from evalsurvey.scoring.result import rank_units

RUBRIC = Path(__file__).resolve().parents[2] / "evalsurvey/data/schemes/agency_branch_004.json"


def scheme_with(rule: dict, points: float = 10, **extra) -> object:
    return parse_scheme(
        {
            "code": "T",
            "title": "测试",
            "total": points,
            "indicators": [
                {
                    "code": "1",
                    "title": "一",
                    "points": points,
                    "children": [
                        {
                            "code": "1.1",
                            "title": "要素",
                            "points": points,
                            "methods": ["document"],
                            "rule": rule,
                        }
                    ],
                }
            ],
            **extra,
        }
    )


def points_of(scheme, values: dict[str, str], element: str = "1.1", note: str = "") -> dict:
    findings = [Finding(u, element, v, note, i + 2) for i, (u, v) in enumerate(values.items())]
    return {r.unit: r.elements[element].points for r in score_units(scheme, findings)}


def test_checklist_deducts_per_missing_item_and_floors_at_zero():
    s = scheme_with({"type": "checklist", "deduct": 0.5}, points=2)
    assert points_of(s, {"a": "0", "b": "1", "c": "3", "d": "4", "e": "9"}) == {
        "a": 2,
        "b": 1.5,
        "c": 0.5,
        "d": 0,
        "e": 0,  # "until the element's 2 points are used up"
    }


def test_tiers_take_the_highest_bound_reached_and_bounds_are_inclusive():
    # attendance 100% → 25, 90–99 → 20, 80–89 → 15, below 80 → 10 (004 篇五)
    s = scheme_with({"type": "tiers", "tiers": [[0, 10], [80, 15], [90, 20], [100, 25]]}, 25)
    got = points_of(s, {"a": "100", "b": "99.9", "c": "90", "d": "89.99", "e": "80", "f": "5"})
    assert got == {"a": 25, "b": 20, "c": 20, "d": 15, "e": 15, "f": 10}
    below = scheme_with({"type": "tiers", "tiers": [[60, 5]]}, 5)
    assert points_of(below, {"a": "59", "b": "60"}) == {"a": 0, "b": 5}


def test_rank_tiers_share_the_best_rank_on_ties():
    # top 5 → 10, 6–10 → 8, 11–15 → 5, the rest → 3 (004 篇五)
    rule = {"type": "rank_tiers", "order": "desc", "tiers": [[5, 10], [10, 8], [15, 5], [None, 3]]}
    s = scheme_with(rule)
    values = {f"u{i:02d}": str(100 - i) for i in range(20)}
    values["u05"] = values["u04"]  # a tie across the 5th place: both rank 5
    got = points_of(s, values)
    assert [got[f"u{i:02d}"] for i in range(20)] == [10] * 6 + [8] * 4 + [5] * 5 + [3] * 5
    assert rank_units({"a": 9, "b": 7, "c": 7, "d": 1}) == {"a": 1, "b": 2, "c": 2, "d": 4}
    asc = scheme_with({"type": "rank_tiers", "order": "asc", "tiers": [[1, 10], [None, 0]]})
    assert points_of(asc, {"a": "3", "b": "1"}) == {"a": 0, "b": 10}


def test_per_occurrence_counts_categories_and_is_bounded_by_the_element():
    rule = {"type": "per_occurrence", "points": {"city": 1, "province": 4, "central": 6}}
    s = scheme_with(rule, points=10)
    got = points_of(
        s, {"a": "city:2;province:1", "b": "central:1;central:1", "c": "", "d": "central:3"}
    )
    assert got == {"a": 6, "b": 10, "c": None, "d": 10}  # 12 and 18 bounded to the element
    capped = scheme_with({**rule, "cap": 5}, points=10)
    assert points_of(capped, {"a": "central:1"}) == {"a": 5}


def test_survey_scales_the_element_and_manual_needs_a_reason():
    s = scheme_with({"type": "survey", "rater_group": "citizen"}, points=8)
    assert points_of(s, {"a": "87.5", "b": "0"}) == {"a": 7.0, "b": 0.0}
    m = scheme_with({"type": "manual"}, points=3)
    assert points_of(m, {"a": "2.5"}, note="现场查看档案不全") == {"a": 2.5}
    with pytest.raises(FindingsError) as caught:
        points_of(m, {"a": "2.5"})
    assert (caught.value.column, caught.value.code) == ("note", "note_required")
    with pytest.raises(FindingsError) as caught:
        points_of(m, {"a": "3.5"}, note="多给了")
    assert caught.value.code == "out_of_range"


def test_bonus_cap_uncapped_penalties_vetoes_and_not_assessed():
    s = parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    only = [
        Finding("U", "B1", "central:2", "", 2),  # 12 → capped at 5
        Finding("U", "P1", "criticised:4", "", 3),  # −12: beyond any element, never capped
        Finding("U", "V1", "1", "", 4),
        Finding("U", "1.1", "0", "", 5),
    ]
    (r,) = score_units(s, only)
    assert r.bonus_raw == 12 and r.bonus == 5 and r.penalties == -12
    assert r.vetoes == ("V1",) and r.barred == ("advanced", "excellent")
    assert not r.complete and r.total is None and r.rank is None
    assert len(r.not_assessed) == 21 and "1.1" not in r.not_assessed
    assert r.partial == 3 + 5 - 12 - 20  # what was assessed, stated as partial
    assert r.indicators["1"] is None  # an indicator with an element not assessed


def _complete(unit: str, overrides: dict[str, str]) -> list[Finding]:
    """Full marks everywhere (0 missing, 1 = meets), then the overrides."""
    s = parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    values = {e.code: ("1" if e.rule.type == "tiers" else "0") for e in s.elements()} | overrides
    return [Finding(unit, code, value, "", 0) for code, value in values.items()]


def test_seed_004_rubric_worked_example():
    """Hand-computed, element by element (the rubric's rules are in its JSON):

    unit A                                   unit B
    1.1 missing 1 × 1      → 3 − 1  = 2      everything in order       → 100
    1.2 2 items × 1        → 5 − 2  = 3      P2 warning once           →  −5
    1.3 meets (1)          → 4               V1 major incident         → −20
    1.4 0                  → 5               total                     =  75
    2.1 1 × 2              → 5 − 2  = 3
    3.1 2 × 1 → 3; 3.2 → 5; 3.3 1 × 1 → 4   (indicator 3 = 12)
    4.1 → 5; 5.1 3 × 1 → 2; 6.1 7 × 1 → 0 (floored, not −1)
    7.1 → 3; 7.2 → 3; 7.3 1 × 1 → 2; 7.4 1 × 2 → 2   (indicator 7 = 10)
    8.1 → 4; 9.1 1 × 2.5 → 2.5; 10.1 1 × 1 → 3
    11.1 → 4; 11.2 2 × 1 → 2; 11.3 meets → 4; 11.4 meets → 9   (indicator 11 = 19)
    elements: 14 + 3 + 12 + 5 + 2 + 0 + 10 + 4 + 2.5 + 3 + 19 = 74.5
    bonus: B1 city 2 × 1 + province 1 × 4 = 6, B2 province 1 × 2 = 2 → 8, capped at 5
    penalties: P1 criticised 2 × −3 = −6            total A = 74.5 + 5 − 6 = 73.5
    """
    s = parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    a = _complete(
        "A",
        {
            "1.1": "1",
            "1.2": "2",
            "2.1": "1",
            "3.1": "2",
            "3.3": "1",
            "5.1": "3",
            "6.1": "7",
            "7.3": "1",
            "7.4": "1",
            "9.1": "1",
            "10.1": "1",
            "11.2": "2",
            "B1": "city:2;province:1",
            "B2": "province:1",
            "P1": "criticised:2",
        },
    )
    b = _complete("B", {"P2": "warning:1", "V1": "1"})
    results = {r.unit: r for r in score_units(s, a + b)}
    ra, rb = results["A"], results["B"]
    assert ra.indicators == {
        "1": 14,
        "2": 3,
        "3": 12,
        "4": 5,
        "5": 2,
        "6": 0,
        "7": 10,
        "8": 4,
        "9": 2.5,
        "10": 3,
        "11": 19,
    }
    assert (ra.bonus_raw, ra.bonus, ra.penalties) == (8, 5, -6)
    assert ra.total == 73.5 and ra.complete
    assert rb.total == 75 and rb.barred == ("advanced", "excellent")
    assert (rb.rank, ra.rank) == (1, 2)
    assert ra.elements["6.1"].points == 0 and ra.elements["6.1"].details["missing"] == 7


def test_findings_file_names_row_and_column():
    s = parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    good = "unit,element,value,note\nU1,1.1,1,缺少分工记录\nU1,B1,city:1,\n"
    assert len(read_findings(good, s)) == 2
    cases = {
        "unit,element,value,note\nU1,9.9,1,\n": (2, "element", "unknown_element"),
        "unit,element,value,note\nU1,1,1,\n": (2, "element", "unknown_element"),  # an indicator
        "unit,element,value,note\nU1,1.1,-1,\n": (2, "value", "not_a_count"),
        "unit,element,value,note\nU1,1.1,x,\n": (2, "value", "not_a_count"),
        "unit,element,value,note\nU1,B1,county:1,\n": (2, "value", "unknown_category"),
        "unit,element,value,note\nU1,V1,yes,\n": (2, "value", "veto_value"),
        "unit,element,value,note\nU1,1.1,1,\nU1,1.1,2,\n": (3, "element", "duplicate"),
        "unit,element,note\nU1,1.1,\n": (1, "value", "missing_column"),
        "unit,element,value,note\n,1.1,1,\n": (2, "unit", "empty"),
    }
    for text, expected in cases.items():
        with pytest.raises(FindingsError) as caught:
            read_findings(text, s)
        assert (caught.value.row, caught.value.column, caught.value.code) == expected, text
    with pytest.raises(FindingsError) as caught:
        read_findings(good, s, units={"U2"})
    assert (caught.value.row, caught.value.code) == (2, "unknown_unit")


def test_the_terms_add_up_to_the_total():
    s = parse_scheme(json.loads(RUBRIC.read_text(encoding="utf-8")))
    findings = _complete("A", {"1.1": "2", "B1": "central:1", "P1": "criticised:1", "V1": "1"})
    (r,) = score_units(s, findings)
    assert r.element_points == 98
    # 98 + min(6, 5) − 3 − 20
    assert r.element_points + r.bonus + r.penalties - r.veto_deduction == r.total == 80
    assert sum(v for v in r.indicators.values()) == r.element_points
