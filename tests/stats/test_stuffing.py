"""Ballot stuffing that outnumbers the honest: a bot that drops its cookies submits more
than all honest citizens of a window together. Its responses are suspect with precision
and recall ≥ 0.95, honest citizens are not, and the window's score stays within 2 points of
its honest score — whether the flood lasts a hundred minutes or is spread over two days.

The surge model's baseline is each window's ordinary hourly rate on its days that are not
surges (:func:`evalsurvey.stats.surge_suspicion`), which a flood cannot raise; within a surge
each response is judged on its own evidence (tests/stats/test_surges.py for the full set).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pytest

from evalsurvey.analysis.reader import read_responses
from evalsurvey.analysis.report import Options, analyze
from evalsurvey.csvformat import HEAD

ITEMS = [f"c{i}" for i in range(1, 6)]
T0 = datetime(2026, 9, 1, tzinfo=UTC).timestamp()  # a Tuesday
BEIJING = 8 * 3600
# the hour-of-day profile of an honest service window: a morning peak, a quiet lunch
HOURS = np.array([9, 10, 11, 12, 13, 14, 15, 16])
WEIGHTS = np.array([3, 3, 2, 0.5, 1, 2, 2, 1.5])
TARGET = "W05"


def _write(path, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAD + ITEMS + ["comment"])
        writer.writerows(rows)


def _row(rid, unit, answers, submitted, duration, device):
    def iso(t):
        return datetime.fromtimestamp(t, UTC).isoformat()

    return [rid, "CIT@1", unit, "citizen", "", "", "qr", device, iso(submitted - duration),
            iso(submitted), *map(str, answers), ""]  # fmt: skip


def _bot_response(rows: list, bot: set, rng, rid: str, local: float) -> None:
    """One bot response to the target window at ``local`` time: mostly top marks, quick,
    and a new device every time (the script drops its cookies)."""
    answers = [int(rng.choice([4, 5], p=[0.2, 0.8])) for _ in ITEMS]
    bot.add(rid)
    rows.append(_row(rid, TARGET, answers, local - BEIJING,
                     float(rng.lognormal(np.log(45), 0.3)), f"bot{rid}"))  # fmt: skip


def _cycle(seed: int, flood: str | None):
    """12 windows × 150 honest citizens over 30 days; the bot's rows; the honest ones."""
    rng = np.random.default_rng(seed)
    rows, bot = [], set()
    n = iter(range(10**9))
    quality = rng.uniform(3.5, 4.3, 12)
    for w in range(12):
        for _ in range(150):
            day = int(rng.integers(0, 30))
            hour = int(rng.choice(HOURS, p=WEIGHTS / WEIGHTS.sum()))
            local = T0 + day * 86400 + hour * 3600 + float(rng.uniform(0, 3600))
            level = quality[w] + rng.normal(0, 0.5)
            answers = [int(np.clip(round(level + rng.normal(0, 0.6)), 1, 5)) for _ in ITEMS]
            rid = f"R{next(n):06d}"
            rows.append(_row(rid, f"W{w:02d}", answers, local - BEIJING,
                             float(rng.lognormal(np.log(80), 0.35)), f"d{rid}"))  # fmt: skip
    if flood is not None:
        for _ in range(200):  # more than the window's 150 honest citizens together
            if flood == "minutes":  # from 10:00 for a hundred minutes on day 12
                local = T0 + 12 * 86400 + 10 * 3600 + float(rng.uniform(0, 100 * 60))
            else:  # spread over two working days, office hours only
                day = 15 + int(rng.integers(0, 2))
                local = T0 + day * 86400 + 9 * 3600 + float(rng.uniform(0, 8 * 3600))
            _bot_response(rows, bot, rng, f"B{next(n):06d}", local)
    return rows, bot


def _report(tmp_path, rows):
    path = tmp_path / "responses.csv"
    _write(path, rows)
    options = Options(scale=(1.0, 5.0), day_offset=BEIJING)
    return analyze(read_responses(str(path)), options)


@pytest.mark.parametrize("flood", ["minutes", "days"])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_bot_that_outnumbers_the_honest_is_caught(tmp_path, seed, flood):
    rows, bot = _cycle(seed, flood)
    report = _report(tmp_path, rows)
    suspect = {r["response_id"] for r in report["responses"] if r["suspect"]}
    found = suspect & {r[0] for r in rows if r[2] == TARGET}
    precision = len(found & bot) / len(found)
    recall = len(found & bot) / len(bot)
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    honest = {r[0] for r in rows} - bot
    assert len(suspect & honest) / len(honest) <= 0.01  # honest citizens are not suspect...
    # ...except the few who rated the window while the flood ran, whom time cannot tell apart
    times = {r[0]: datetime.fromisoformat(r[9]).timestamp() for r in rows}
    start, end = min(times[b] for b in bot), max(times[b] for b in bot)
    bursty = {r["response_id"] for r in report["responses"] if "surge" in r["reasons"]}
    assert all(start - 43200 <= times[h] <= end + 43200 for h in bursty & honest)

    honest_rows, _none = _cycle(seed, None)
    clean = _report(tmp_path, honest_rows)

    def score(rep):
        unit = next(u for u in rep["units"] if u["unit"] == TARGET)
        return unit["groups"]["citizen"]["score"]

    assert abs(score(report) - score(clean)) <= 2.0, (score(report), score(clean))


def test_honest_traffic_alone_raises_no_burst(tmp_path):
    rows, _bot = _cycle(7, None)
    report = _report(tmp_path, rows)
    assert not [r for r in report["responses"] if "surge" in r["reasons"]]


def _networks(rows, bot, seed: int, bot_prefixes: int = 1):
    """A network prefix for every row: honest citizens on one of 300 mobile prefixes, one in
    ten on their window's hall Wi-Fi; the bot on ``bot_prefixes`` prefixes of its own."""
    rng = np.random.default_rng(seed + 100)
    out = []
    for r in rows:
        if r[0] in bot:
            out.append(1000 + int(rng.integers(bot_prefixes)))
        elif rng.random() < 0.1:
            out.append(500 + int(r[2][1:]))  # the window's hall Wi-Fi
        else:
            out.append(int(rng.integers(300)))
    return np.array(out, np.int64)


def _even_flood(seed: int):
    """A slow flood: as many bot responses as the window's honest citizens, spread evenly
    over the whole 30 days in office hours, so the window's rate is doubled every day and
    no day stands out."""
    rows, _bot = _cycle(seed, None)
    rng = np.random.default_rng(seed + 50)
    bot = set()
    for k in range(150):
        day = k % 30
        local = T0 + day * 86400 + 9 * 3600 + float(rng.uniform(0, 8 * 3600))
        _bot_response(rows, bot, rng, f"E{k:06d}", local)
    return rows, bot


@pytest.mark.parametrize("seed", [0, 1])
def test_an_even_flood_from_one_network_is_caught_by_its_network(tmp_path, seed):
    from evalsurvey.stats import network_repeats

    rows, bot = _even_flood(seed)
    path = tmp_path / "responses.csv"
    _write(path, rows)
    table = read_responses(str(path))
    alone = analyze(table, Options(scale=(1.0, 5.0), day_offset=BEIJING))
    seen = {r["response_id"] for r in alone["responses"] if r["suspect"]}
    assert len(seen & bot) / len(bot) < 0.1  # no burst: every day is evenly busier
    table.network = _networks(rows, bot, seed)
    flags = network_repeats(table.network, table.device, table.unit, table.submitted)
    flagged = {table.response_id[i] for i in flags.index}
    assert len(flagged & bot) / len(flagged) >= 0.95 and len(flagged & bot) / len(bot) >= 0.95
    assert all(d["usual_share"] < 0.5 for d in flags.details)
    # through the analysis: the flood is suspect, honest citizens are not, the score holds
    report = analyze(table, Options(scale=(1.0, 5.0), day_offset=BEIJING))
    suspect = {r["response_id"] for r in report["responses"] if r["suspect"]}
    assert len(suspect & bot) / len(bot) >= 0.95
    honest = {r[0] for r in rows} - bot
    assert len(suspect & honest) / len(honest) <= 0.01
    clean_rows, _none = _cycle(seed, None)
    _write(path, clean_rows)
    clean = analyze(read_responses(str(path)), Options(scale=(1.0, 5.0), day_offset=BEIJING))

    def score(rep):
        unit = next(u for u in rep["units"] if u["unit"] == TARGET)
        return unit["groups"]["citizen"]["score"]

    assert abs(score(report) - score(clean)) <= 2.0, (score(report), score(clean))


def test_honest_networks_alone_raise_no_network_flag(tmp_path):
    from evalsurvey.stats import network_repeats

    rows, _bot = _cycle(3, None)
    path = tmp_path / "responses.csv"
    _write(path, rows)
    table = read_responses(str(path))
    flags = network_repeats(_networks(rows, set(), 3), table.device, table.unit, table.submitted)
    assert flags.index.size == 0


def _every_morning(seed: int):
    """A bot that comes back every morning: twenty responses between 10:00 and 10:20 on 27
    of the 30 days, from changing devices and networks (540, over three times the 150
    honest). The
    window's quieter days are flooded too, so its own baseline at ten o'clock is raised."""
    rows, _bot = _cycle(seed, None)
    rng = np.random.default_rng(seed + 70)
    bot = set()
    for day in range(27):
        for k in range(20):
            local = T0 + day * 86400 + 10 * 3600 + float(rng.uniform(0, 20 * 60))
            _bot_response(rows, bot, rng, f"M{day:02d}{k:04d}", local)
    return rows, bot


def test_a_bot_every_morning_is_caught_against_the_earlier_period(tmp_path):
    from evalsurvey.stats import usual_rates

    rows, bot = _every_morning(4)
    path = tmp_path / "responses.csv"
    _write(path, rows)
    table = read_responses(str(path))
    options = Options(scale=(1.0, 5.0), day_offset=BEIJING)
    alone = analyze(table, options)
    caught = {r["response_id"] for r in alone["responses"] if r["suspect"]} & bot
    assert len(caught) / len(bot) < 0.5  # against its own (flooded) days, most pass
    # the previous half year: the same windows, honest
    before_rows, _none = _cycle(5, None)
    _write(path, before_rows)
    before = read_responses(str(path))
    rates = usual_rates(before.unit, before.submitted, BEIJING)
    position = [before.units.index(name) for name in table.units]
    table.earlier_rates = rates[position]
    report = analyze(table, options)
    suspect = {r["response_id"] for r in report["responses"] if r["suspect"]}
    found = suspect & {r[0] for r in rows if r[2] == TARGET}
    assert len(found & bot) / len(found) >= 0.95 and len(found & bot) / len(bot) >= 0.95
    honest = {r[0] for r in rows} - bot
    assert len(suspect & honest) / len(honest) <= 0.01


def test_network_repeats_checks_its_input():
    from evalsurvey.stats import network_repeats

    with pytest.raises(ValueError):
        network_repeats([0, 1], [0], [0, 0], [0.0, 1.0])
    with pytest.raises(ValueError):
        network_repeats([0], [0], [0], [0.0], alpha=2)
    # unknown networks or devices (invitations) are never counted
    none = network_repeats([-1] * 20, list(range(20)), [0] * 20, np.arange(20.0))
    assert none.index.size == 0
    # no device known at all (every response through an invitation): nothing, no IndexError
    none = network_repeats(list(range(20)), [-1] * 20, [0] * 20, np.arange(20.0))
    assert none.index.size == 0
    none = network_repeats([0] * 20, [-1] * 20, [0] * 20, np.arange(20.0))
    assert none.index.size == 0
