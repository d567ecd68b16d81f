"""Anomaly rules on synthetic data with planted cases of every reason code."""

from __future__ import annotations

import numpy as np
import pytest

from evalsurvey.analysis.reader import read_responses
from evalsurvey.analysis.report import Options, analyze
from evalsurvey.stats import (
    bursts,
    duplicates,
    outliers,
    rater_flags,
    speeders,
    straightliners,
)
from tests.stats.synthetic import SCALE, make_csv


@pytest.fixture(scope="module", params=[0, 1])
def run(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("synthetic") / "responses.csv"
    planted = make_csv(path, seed=request.param)
    report = analyze(read_responses(str(path)), Options(scale=SCALE))
    return planted, report


def flagged(report, reason):
    return {r["response_id"] for r in report["responses"] if reason in r["reasons"]}


def precision_recall(found: set, truth: set) -> tuple[float, float]:
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0), hits / len(truth)


@pytest.mark.parametrize(
    ("reason", "min_precision"), [("speeder", 0.75), ("duplicate", 0.95), ("burst", 0.9)]
)
def test_response_rules_precision_and_recall(run, reason, min_precision):
    planted, report = run
    truth = getattr(planted, reason)
    precision, recall = precision_recall(flagged(report, reason), truth)
    assert recall >= 0.9, (reason, recall)
    assert precision >= min_precision, (reason, precision)
    suspect = {r["response_id"] for r in report["responses"] if r["suspect"]}
    assert truth <= suspect  # evidence about how it was submitted makes it suspect


def test_straightline_alone_is_reported_not_suspect(run):
    planted, report = run
    found = flagged(report, "straightline")
    assert planted.satisfied_straightliners <= found
    by_id = {r["response_id"]: r for r in report["responses"]}
    for rid in planted.satisfied_straightliners:
        assert not by_id[rid]["suspect"], by_id[rid]


def test_honest_dissatisfied_citizen_is_never_suspect(run):
    planted, report = run
    by_id = {r["response_id"]: r for r in report["responses"]}
    for rid in planted.dissatisfied:
        entry = by_id[rid]
        assert "outlier" in entry["reasons"]  # reported for rectification...
        assert not entry["suspect"]  # ...and still counted


@pytest.mark.parametrize("reason", ["lenient", "severe", "flat_rater", "collusion", "own_unit"])
def test_rater_rules_find_exactly_the_planted_raters(run, reason):
    planted, report = run
    truth = {
        "lenient": {planted.lenient},
        "severe": {planted.severe},
        "flat_rater": {planted.flat},
        "collusion": set(planted.colluders),
        "own_unit": {planted.own_unit},
    }[reason]
    found = {r["rater"] for r in report["raters"] if reason in r["reasons"]}
    assert found == truth


def test_rater_level_suspects_and_conflicts_leave_scores(run):
    planted, report = run
    suspect_reasons = {
        r for entry in report["responses"] if entry["suspect"] for r in entry["reasons"]
    }
    assert {"flat_rater", "collusion", "own_unit"} <= suspect_reasons
    assert report["summary"]["conflicts_excluded"] == 1
    own = next(u for u in report["units"] if u["unit"] == planted.own_unit_code)
    assert own["groups"]["panel"]["n_used"] < own["groups"]["panel"]["n"]
    raters = {r["rater"]: r for r in report["raters"]}
    assert raters[planted.lenient]["severity"] > 5 > -5 > raters[planted.severe]["severity"]


def test_flags_carry_reason_strength_and_sentence(run):
    _, report = run
    for entry in report["responses"]:
        assert entry["reasons"] and entry["explanation"]
        assert set(entry["strength"]) == set(entry["reasons"])


# -- the functions one by one ---------------------------------------------------------------


def test_speeders_need_a_typical_duration():
    d = np.array([80.0] * 30 + [5.0])
    q = np.zeros(31, np.int64)
    assert list(speeders(d, q).index) == [30]
    assert speeders(d[:10], q[:10]).index.size == 0  # too few to know what is typical
    with pytest.raises(ValueError, match="integer codes"):
        speeders(d, q.astype(float))


def test_duplicates_first_submission_is_kept():
    dev = np.array([1, 1, 1, 2, -1, -1])
    unit = np.array([0, 0, 1, 0, 0, 0])
    t = np.array([0.0, 100.0, 200.0, 50.0, 10.0, 11.0])
    found = duplicates(dev, unit, t, window=3600)
    assert list(found.index) == [1]  # unknown devices (-1) are never matched
    assert (
        duplicates(dev, unit, np.array([0.0, 7200, 200, 50, 10, 11]), window=3600).index.size == 0
    )


def test_bursts_catch_surges_over_many_devices_but_not_steady_traffic():
    rng = np.random.default_rng(0)
    steady = np.sort(rng.uniform(0, 30 * 86400, 2000))
    unit = np.zeros(steady.size, np.int64)
    assert bursts(unit, steady).index.size == 0
    surge = 15 * 86400 + rng.uniform(0, 300, 30)
    t = np.concatenate([steady, surge])
    found = bursts(np.zeros(t.size, np.int64), t)
    assert set(range(steady.size, t.size)) <= set(found.index)


def test_straightliners_and_outliers_units():
    items = np.array([[5, 5, 5, 5], [5, 4, 5, 5], [3, 3, np.nan, 3], [2, 2, np.nan, np.nan]])
    assert list(straightliners(items).index) == [0, 2]
    score = np.concatenate([np.full(20, 80.0), [0.0]])
    found = outliers(score, np.zeros(21, np.int64))
    assert list(found.index) == [20]
    assert outliers(score[15:], np.zeros(6, np.int64)).index.size == 0  # unit too small


def test_rater_flags_quiet_on_honest_panel():
    rng = np.random.default_rng(5)
    x = rng.normal(75, 8, (40, 1)) + rng.normal(0, 3, (40, 10))
    report = rater_flags(x)
    assert all(f.index.size == 0 for f in report.flags.values())
