"""Scheme validation names the node; the JSON form round-trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from evalsurvey.scoring import SchemeError, parse_scheme, scheme_to_json

DATA = Path(__file__).resolve().parents[2] / "evalsurvey/data/schemes"
BASE = {
    "code": "X",
    "title": "方案",
    "total": 10,
    "indicators": [
        {
            "code": "1",
            "title": "一",
            "points": 10,
            "children": [
                {
                    "code": "1.1",
                    "title": "甲",
                    "points": 4,
                    "methods": ["document"],
                    "rule": {"type": "checklist", "deduct": 1},
                },
                {
                    "code": "1.2",
                    "title": "乙",
                    "points": 6,
                    "methods": ["visit", "interview"],
                    "rule": {"type": "tiers", "tiers": [[0, 2], [90, 6]]},
                },
            ],
        }
    ],
}


def broken(change) -> SchemeError:
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(SchemeError) as caught:
        parse_scheme(data)
    return caught.value


def _el(data, i):
    return data["indicators"][0]["children"][i]


def test_every_mistake_is_named_by_its_node():
    cases = [
        (lambda d: _el(d, 0).update(points=5), "1", "children_sum"),
        (lambda d: d.update(total=12), "scheme", "total_sum"),
        (lambda d: _el(d, 1)["rule"].update(tiers=[[0, 2], [90, 7]]), "1.2", "tier_above_element"),
        (lambda d: _el(d, 0)["rule"].update(deduct=0), "1.1", "not_positive"),
        (lambda d: _el(d, 0)["rule"].update(deduct=-1), "1.1", "not_positive"),
        (lambda d: _el(d, 0).update(methods=["guess"]), "1.1", "unknown_method"),
        (lambda d: _el(d, 0).update(methods=[]), "1.1", "no_methods"),
        (lambda d: _el(d, 0).pop("rule"), "1.1", "no_rule"),
        (lambda d: _el(d, 0).update(rule={"type": "magic"}), "1.1", "unknown_rule"),
        (lambda d: _el(d, 1).update(code="1.1"), "1.1", "duplicate_code"),
        (lambda d: d["indicators"][0].update(rule={"type": "manual"}), "1", "rule_on_indicator"),
        (
            lambda d: _el(d, 0).update(
                children=[
                    {
                        "code": "1.1.1",
                        "title": "丙",
                        "points": 4,
                        "children": [
                            {
                                "code": "1.1.1.1",
                                "title": "丁",
                                "points": 4,
                                "methods": ["document"],
                                "rule": {"type": "manual"},
                            }
                        ],
                    }
                ]
            ),
            "1.1.1.1",
            "too_deep",
        ),
        (
            lambda d: _el(d, 1).update(rule={"type": "rank_tiers", "tiers": [[None, 1], [5, 6]]}),
            "1.2",
            "rest_not_last",
        ),
        (
            lambda d: d.update(
                bonus=[
                    {
                        "code": "B1",
                        "title": "加",
                        "rule": {"type": "per_occurrence", "points": {"x": -1}},
                    }
                ]
            ),
            "B1",
            "bonus_sign",
        ),
        (
            lambda d: d.update(
                penalties=[
                    {
                        "code": "P1",
                        "title": "减",
                        "rule": {"type": "per_occurrence", "points": {"x": 3}},
                    }
                ]
            ),
            "P1",
            "penalty_sign",
        ),
    ]
    for change, where, code in cases:
        error = broken(change)
        assert (error.where, error.code) == (where, code), (where, code, error)


def test_the_shipped_schemes_parse_and_round_trip():
    for path in DATA.glob("*.json"):
        scheme = parse_scheme(json.loads(path.read_text(encoding="utf-8")))
        assert scheme.total == 100
        assert parse_scheme(scheme_to_json(scheme)) == scheme
        assert json.loads(json.dumps(scheme_to_json(scheme))) == scheme_to_json(scheme)


def test_the_seed_004_rubric_has_its_eleven_indicators():
    scheme = parse_scheme(json.loads((DATA / "agency_branch_004.json").read_text(encoding="utf-8")))
    assert [(n.title, n.points) for n in scheme.indicators] == [
        ("组织建设", 17),
        ("民主生活会", 5),
        ("党员教育管理", 15),
        ("三会一课", 5),
        ("民主评议党员", 5),
        ("发展党员工作", 6),
        ("党风廉政建设", 13),
        ("兵役工作", 4),
        ("党费收缴", 5),
        ("调研信息", 4),
        ("其他工作", 21),
    ]
    assert scheme.bonus_cap == 5 and [v.deduct for v in scheme.vetoes] == [20]


def test_the_seed_002_community_scheme_has_its_shape():
    scheme = parse_scheme(json.loads((DATA / "community_002.json").read_text(encoding="utf-8")))
    levels: dict[int, int] = {}
    for _node, level, _parent in scheme.nodes():
        levels[level] = levels.get(level, 0) + 1
    assert levels == {1: 5, 2: 14, 3: 50} and len(scheme.elements()) == 50
    assert [n.title for n in scheme.indicators] == [
        "领导班子建设",
        "党组织和党员队伍建设",
        "工作机制",
        "工作业绩",
        "群众反映",
    ]
    plan = scheme.item("1.1.1")
    assert plan.points == 2 and plan.rule.params == {"deduct": 0.5}  # −0.5 each, until 2 used up
    assert {e.rule.type for e in scheme.elements()} == {
        "checklist",
        "tiers",
        "rank_tiers",
        "per_occurrence",
        "survey",
        "manual",
    }
