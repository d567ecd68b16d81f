"""Anomaly rules on synthetic data with planted cases of every reason code."""

from __future__ import annotations

import numpy as np
import pytest

from evalsurvey.analysis.reader import read_responses
from evalsurvey.analysis.report import Options, analyze, parse_scale
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
    default, per_item = parse_scale(SCALE)
    report = analyze(read_responses(str(path)), Options(scale=default, item_scales=per_item))
    return planted, report


def flagged(report, reason):
    return {r["response_id"] for r in report["responses"] if reason in r["reasons"]}


def precision_recall(found: set, truth: set) -> tuple[float, float]:
    hits = len(found & truth)
    return (hits / len(found) if found else 1.0), hits / len(truth)


@pytest.mark.parametrize(
    ("reason", "min_precision"), [("speeder", 0.75), ("duplicate", 0.95), ("surge", 0.9)]
)
def test_response_rules_precision_and_recall(run, reason, min_precision):
    planted, report = run
    # the planted burst is found by its surge (stats.surges), response by response
    truth = getattr(planted, "burst" if reason == "surge" else reason)
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
    assert raters[planted.lenient]["severity"] > 10 > -10 > raters[planted.severe]["severity"]


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


def _panel_with_habits(seed: int, habits):
    """40 units rated by raters who each score a constant few points high or low."""
    rng = np.random.default_rng(seed)
    true = rng.normal(75, 8, (40, 1))
    return true + np.asarray(habits)[None, :] + rng.normal(0, 3, (40, len(habits)))


def test_honest_habits_of_a_few_points_are_not_flagged():
    # every person scores a little high or low: significant against zero, but normal
    for seed in range(20):
        habits = np.random.default_rng(100 + seed).normal(0, 3, 10)
        x = _panel_with_habits(seed, habits)
        report = rater_flags(x)
        assert report.flags["lenient"].index.size == 0
        assert report.flags["severe"].index.size == 0
        # the old rule (|severity| / SE beyond a Bonferroni z) cries wolf on the same panels
        z = report.effects.severity / report.effects.severity_se
        if seed == 0:
            assert (np.abs(z) > 2.81).sum() >= 3


def test_extreme_and_large_raters_are_flagged_and_named_by_numbers():
    habits = np.array([0.0, 2, -2, 1, -1, 3, -3, 18, -16, 0.5])
    report = rater_flags(_panel_with_habits(1, habits))
    assert list(report.flags["lenient"].index) == [7]
    assert list(report.flags["severe"].index) == [8]
    found = report.flags["lenient"].details[0]
    assert found["points"] > 14 and found["robust_z"] > 3
    # the practical size is configurable: at 20 points nobody is flagged
    strict = rater_flags(_panel_with_habits(1, habits), min_effect=20)
    assert strict.flags["lenient"].index.size == strict.flags["severe"].index.size == 0
    with pytest.raises(ValueError, match="min_effect"):
        rater_flags(_panel_with_habits(1, habits), min_effect=-1)


def test_rater_flags_survive_tiny_and_huge_spreads():
    # The flaky overflow, found: when most raters' SDs are ~1e-160, the flat-rater
    # statistic sd**2 / s0**2 divided 1 by a subnormal and overflowed. Warnings are errors.
    t = 1e-160
    tiny = np.array(
        [[0, t, 0, 0], [t, 0, t, 2], [0, t, 0, 4], [t, 0, t, 6], [0, t, 0, 8], [t, 0, t, 10]]
    )
    rater_flags(tiny)
    x = np.full((8, 5), 5.0)
    x[0, 0] = 5.0 + 5e-324
    x[:, 4] = np.linspace(0, 10, 8)
    rater_flags(x)
    rater_flags(np.array([[0.0, 1e-300], [1e-300, 0.0], [5.0, 5.0]]))
