"""Evidence per response, not per window (issue 18): the surge model on months from
``benchmarks/floodgen.py`` (small enough for CI; the benchmark runs them full size).

Targets: suspect precision and recall >= 0.95 on flooded and on ordinary data; every
window's score within 2 points of its honest-only score; honest-only data flags <= 1 %;
honest responses inside a surge stay valid; invitation answers are never flagged by timing;
the bounded-influence score holds whatever the flags.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.floodgen import BEIJING, BOT, BOTS, HONEST, MEMBER, Bot, month
from evalsurvey.analysis.report import Options, analyze
from evalsurvey.stats import bounded_scores, surge_suspicion

OPTIONS = Options(scale=(1.0, 5.0), day_offset=BEIJING)


def _run(data):
    report = analyze(data.table(), OPTIONS)
    ids = {rid: i for i, rid in enumerate(data.response_id)}
    suspect = np.zeros(data.n, bool)
    for r in report["responses"]:
        if r["suspect"]:
            suspect[ids[r["response_id"]]] = True
    return report, suspect


def _scores(report, key="score"):
    return {
        u["unit"]: u["groups"]["citizen"][key] for u in report["units"] if "citizen" in u["groups"]
    }


def _precision_recall(suspect, truth):
    hits = int((suspect & truth).sum())
    return hits / max(int(suspect.sum()), 1), hits / max(int(truth.sum()), 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", sorted(BOTS))
def test_a_flood_is_found_response_by_response_and_the_scores_hold(seed, name):
    flooded = month(seed, bot=BOTS[name])
    report, suspect = _run(flooded)
    precision, recall = _precision_recall(suspect, flooded.truth())
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    honest_report, _ = _run(flooded.without(flooded.label == BOT))
    clean = _scores(honest_report)
    for key in ("score", "bounded_score"):
        moved = {u: abs(s - clean[u]) for u, s in _scores(report, key).items() if s is not None}
        assert max(moved.values()) <= 2.0, (key, moved)
    # what the surge would have done to the plain mean is shown: far more than 2 points here
    shift = [u["groups"]["citizen"]["surge_shift"] for u in report["units"] if u["surges"]]
    assert max(shift) > 2.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ordinary_data_keeps_its_precision(seed):
    """A month with a few planted bursts, resubmitting phones and speeders: the honest
    citizens who rated a window while a burst ran stay valid."""
    data = month(seed)
    report, suspect = _run(data)
    precision, recall = _precision_recall(suspect, data.truth())
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    assert report["summary"]["flags"]["burst"] == 0  # the window-wide rule is gone


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_honest_data_alone_is_hardly_flagged(seed):
    data = month(seed, ordinary=False, per_window=300)
    _report, suspect = _run(data)
    assert suspect.mean() <= 0.01, suspect.sum()


@pytest.mark.parametrize("seed", [0, 1])
def test_honest_responses_inside_a_surge_stay_valid(seed):
    data = month(seed, bot=Bot(ratio=1.0))
    report, suspect = _run(data)
    by_id = {r["response_id"]: r for r in report["responses"]}
    inside = [
        i
        for i, rid in enumerate(data.response_id)
        if data.label[i] == HONEST and rid in by_id and {"surge", "in_surge"} & set(
            by_id[rid]["reasons"])
    ]  # fmt: skip
    assert len(inside) >= 50
    kept = [i for i in inside if not suspect[i]]
    assert len(kept) / len(inside) >= 0.9
    # each kept one says why: on a surge day, but like the unit's ordinary responses
    entry = by_id[data.response_id[kept[0]]]
    assert "in_surge" in entry["reasons"] and not entry["suspect"]
    assert entry["details"]["in_surge"]["posterior"] < 0.5


def test_a_surge_that_looks_ordinary_is_reported_without_condemning_anyone():
    """A market day: three times a window's usual citizens, answering as its citizens
    always do. The surge is reported; nobody is suspect; the day counts as a busy day."""
    data = month(8, ordinary=False, members=False)
    rng = np.random.default_rng(8)
    w = 2
    mine = np.flatnonzero(data.unit == w)
    # copy forty of the window's own responses (new phones) onto one Wednesday
    pick = rng.choice(mine, 40, replace=False)
    local_day = np.floor((data.submitted[pick] + BEIJING) / 86400)
    moved = data.submitted[pick] - local_day * 86400 + (20697 + 15) * 86400
    from benchmarks.floodgen import Month

    extra = Month(
        data.response_id + [f"X{k}" for k in range(40)],
        np.concatenate((data.unit, data.unit[pick])),
        np.concatenate((data.submitted, moved)),
        np.concatenate((data.duration, data.duration[pick])),
        np.concatenate((data.items, data.items[pick])),
        data.device + [f"market{k}" for k in range(40)],
        np.concatenate((data.network, data.network[pick])),
        np.concatenate((data.invited, np.zeros(40, bool))),
        np.concatenate((data.label, np.full(40, HONEST, np.int8))),
        data.n_windows,
    )
    report, suspect = _run(extra)
    unit = next(u for u in report["units"] if u["unit"] == "W002")
    assert unit["surges"] and not any(s["distinct"] for s in unit["surges"])
    assert not suspect.any()
    citizen = unit["groups"]["citizen"]
    assert abs(citizen["bounded_score"] - citizen["score"]) <= 2.0


@pytest.mark.parametrize("seed", [0, 1])
def test_invitation_answers_are_never_flagged_by_timing(seed):
    data = month(seed, bot=Bot(spread="minutes"))
    report, suspect = _run(data)
    members = data.label == MEMBER
    assert members.sum() == 90  # thirty members of three branches within fifteen minutes
    assert not suspect[members].any()
    flagged = {
        r["response_id"] for r in report["responses"] if {"surge", "in_surge"} & set(r["reasons"])
    }
    assert not flagged & {data.response_id[i] for i in np.flatnonzero(members)}


def test_weights_bound_every_day_whatever_the_flags():
    data = month(2, bot=Bot(ratio=3.0, answers="shifted", prefixes=0), ordinary=False)
    score = (data.items.mean(axis=1) - 1) * 25
    device = np.unique(np.array(data.device), return_inverse=True)[1]
    found = surge_suspicion(data.unit, data.submitted, score, data.duration, device=device,
                            network=data.network, invited=data.invited, day_offset=BEIJING,
                            items=data.items)  # fmt: skip
    day = np.floor((data.submitted + BEIJING) / 86400).astype(np.int64)
    pub = ~data.invited
    key = data.unit[pub] * 100_000 + day[pub]
    cells, where = np.unique(key, return_inverse=True)
    held = np.bincount(where, weights=found.weight[pub])
    expected = np.zeros(cells.size)
    expected[where] = found.day_expected[pub]
    cap = expected + 2 * np.sqrt(expected + found.overdispersion * expected**2)
    assert (held <= cap + 1e-9).all()
    assert ((found.weight >= 0) & (found.weight <= 1)).all()
    # a unit's surge days together weigh what ordinary days do, not what the flood does
    bounded = bounded_scores(score, data.unit, found.weight)
    assert np.nanmax(np.abs(bounded.shift)) > 5  # the plain mean moved ...
    honest = data.label != BOT
    clean = bounded_scores(score[honest], data.unit[honest], np.ones(honest.sum()))
    gap = np.abs(bounded.bounded - clean.plain)[: data.n_windows]
    assert gap.max() <= 2.0, gap  # ... the bounded one did not


def test_bounded_scores_equal_the_plain_mean_with_equal_weights():
    rng = np.random.default_rng(0)
    score = rng.uniform(0, 100, 50)
    unit = np.repeat([0, 1], 25)
    found = bounded_scores(score, unit, np.ones(50))
    np.testing.assert_allclose(found.bounded, found.plain)
    np.testing.assert_allclose(found.bounded_half, found.plain_half)
    np.testing.assert_allclose(found.effective_n, [25, 25])
    np.testing.assert_allclose(found.plain[0], score[:25].mean())


def test_the_model_checks_its_input():
    with pytest.raises(ValueError):
        surge_suspicion([0, 1], [0.0], [50.0, 50.0], [60.0, 60.0])
    with pytest.raises(ValueError):
        surge_suspicion([0.5], [0.0], [50.0], [60.0])
    with pytest.raises(ValueError):
        surge_suspicion([0], [0.0], [50.0], [60.0], alpha=1.5)
    with pytest.raises(ValueError):
        surge_suspicion([0], [np.nan], [50.0], [60.0])
    with pytest.raises(ValueError):
        bounded_scores([1.0], [0], [-1.0])
    # every response by invitation: nothing counted, nothing suspect
    found = surge_suspicion([0] * 30, np.arange(30.0), [50.0] * 30, [60.0] * 30,
                            invited=[True] * 30)  # fmt: skip
    assert not found.suspect.any() and (found.weight == 1).all() and not found.surges
