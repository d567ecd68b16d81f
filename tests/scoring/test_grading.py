"""Grades: star bands and the quota contract, ties, tie-breakers, vetoes, reasons."""

from __future__ import annotations

import pytest

from evalsurvey.scoring.grading import Candidate, GradingError, grade, parse_rules

STARS = {"kind": "stars", "bands": [[90, 5], [80, 4], [70, 3], [60, 2], [None, 1]]}
QUOTA = {
    "kind": "quota",
    "grades": [
        {"code": "excellent", "label": "优秀", "min_score": 90, "max_share": 0.2},
        {"code": "advanced", "label": "先进", "min_score": 85, "max_share": 0.3},
        {"code": "meets", "label": "达标", "min_score": 60},
        {"code": "below", "label": "不达标"},
    ],
}


def graded(rules, scores, **kw):
    units = [Candidate(f"U{i}", s, **kw.get(f"U{i}", {})) for i, s in enumerate(scores)]
    return {g.unit: g for g in grade(parse_rules(rules), units)}


def test_stars_take_the_higher_band_on_a_bound_and_vetoes_pass_down():
    got = graded(STARS, [90, 89.99, 80, 70, 60, 59.9, 100])
    assert [got[f"U{i}"].grade for i in range(7)] == [
        "star5",
        "star4",
        "star4",
        "star3",
        "star2",
        "star1",
        "star5",
    ]
    barred = {
        g.unit: g for g in grade(parse_rules(STARS), [Candidate("V", 95, frozenset({"star5"}))])
    }
    assert barred["V"].grade == "star4" and barred["V"].steps[0][:2] == ("star5", "barred")


def test_quota_fills_in_order_and_respects_minimums():
    scores = [95, 93, 91, 90, 88, 87, 86, 85, 70, 50]  # N = 10: 2 excellent, 3 advanced
    got = graded(QUOTA, scores)
    assert [got[f"U{i}"].grade for i in range(10)] == [
        "excellent",
        "excellent",
        "advanced",
        "advanced",
        "advanced",
        "meets",
        "meets",
        "meets",
        "meets",
        "below",
    ]
    # U2 (91) met the minimum but the 2 excellent places were taken
    assert got["U2"].steps[0][:2] == ("excellent", "quota_full")
    assert got["U5"].steps[1][:2] == ("advanced", "quota_full")
    assert got["U9"].steps[-1][:2] == ("meets", "below_min")


def test_a_tie_that_would_cross_the_quota_goes_down_whole_and_nobody_rises():
    got = graded(QUOTA, [95, 92, 92, 91, 80, 80, 80, 80, 80, 80])
    # excellent has 2 places: U0, then U1 and U2 tie and would make 3: both go to advanced,
    # and U3 (91), ranked below them, may not take the free excellent place
    assert got["U0"].grade == "excellent"
    assert {got["U1"].grade, got["U2"].grade, got["U3"].grade} == {"advanced"}
    assert got["U1"].steps[0][1] == "tie_over_quota"
    assert got["U3"].steps[0][1] == "quota_full"


def test_tie_breakers_decide_before_the_quota():
    rules = {**QUOTA, "tie_break": ["external", "-penalties"]}
    units = [
        Candidate("A", 95, tie={"external": 80, "penalties": 0}),
        Candidate("B", 92, tie={"external": 80, "penalties": 3}),
        Candidate("C", 92, tie={"external": 80, "penalties": 0}),  # fewer penalties wins
        Candidate("D", 70, tie={"external": 90, "penalties": 0}),
        Candidate("E", 70, tie={"external": 90, "penalties": 0}),
    ]
    got = {g.unit: g.grade for g in grade(parse_rules(rules), units)}
    # N = 5: one excellent place (A), one advanced place: C and B tie on score and external
    # satisfaction; C has fewer penalty points, so C takes it and B meets
    assert (got["A"], got["C"], got["B"]) == ("excellent", "advanced", "meets")
    with pytest.raises(GradingError):
        grade(parse_rules(rules), [Candidate("X", 90)])  # a tie-breaker missing


def test_a_barred_unit_passes_its_place_to_the_next():
    got = graded(
        QUOTA,
        [95, 94, 93, 80, 80, 80, 80, 80, 80, 80],
        U0={"barred": frozenset({"excellent", "advanced"})},
    )
    assert got["U0"].grade == "meets"
    assert got["U1"].grade == got["U2"].grade == "excellent"


def test_rules_are_checked():
    bad = [
        {"kind": "stars", "bands": [[80, 4], [90, 5], [None, 1]]},
        {"kind": "stars", "bands": [[90, 5], [80, 4]]},
        {"kind": "quota", "grades": [{"code": "a", "max_share": 1.5}, {"code": "b"}]},
        {"kind": "quota", "grades": [{"code": "a", "min_score": 90}]},
        {"kind": "ranks"},
    ]
    for rules in bad:
        with pytest.raises(GradingError):
            parse_rules(rules)


def test_grade_command_on_files(tmp_path):
    import json

    from click.testing import CliRunner

    from evalsurvey.cli import main

    results = tmp_path / "results.csv"
    results.write_text(
        "unit,score,barred,external\nA,95,,80\nB,92,,85\nC,92,,80\nD,70,,70\nE,50,,60\n",
        encoding="utf-8",
    )
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({**QUOTA, "tie_break": ["external"]}), encoding="utf-8")
    out = tmp_path / "grades.json"
    result = CliRunner().invoke(
        main, ["grade", str(results), "--rules", str(rules), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = {u["unit"]: u for u in json.loads(out.read_text(encoding="utf-8"))["units"]}
    assert doc["A"]["grade"] == "excellent" and doc["B"]["grade"] == "advanced"
    assert (
        doc["C"]["reason"]
        == "score 92; excellent places (1) taken; advanced places (1) taken; graded 达标"
    )
    results.write_text("unit,score,external\nA,x,1\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["grade", str(results), "--rules", str(rules)])
    assert bad.exit_code == 2 and "row 2, column score: not a number" in bad.output


def test_improvement_promotes_by_one_star_when_the_rules_say_so():
    rules = parse_rules({**STARS, "promote_on_improvement": True})
    units = [
        Candidate("up", 84, previous=78),  # four stars, improved: five
        Candidate("same", 84, previous=84),  # no improvement: four
        Candidate("top", 95, previous=90),  # already five: stays five
        Candidate("new", 84),  # nothing to compare: four
        Candidate("vetoed", 84, frozenset({"star5"}), previous=70),  # cannot rise into a bar
    ]
    got = {g.unit: g for g in grade(rules, units)}
    assert {u: g.grade for u, g in got.items()} == {
        "up": "star5",
        "same": "star4",
        "top": "star5",
        "new": "star4",
        "vetoed": "star4",
    }
    assert got["up"].steps[-1] == ("star5", "improved", {"previous": 78})
    plain = {g.unit: g.grade for g in grade(parse_rules(STARS), units)}
    assert plain["up"] == "star4"
