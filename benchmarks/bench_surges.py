"""Surge model targets at full size (issue 18), on months from benchmarks/floodgen.py.

For each seed: an honest-only month, an ordinary month (resubmitting phones, speeders, short
bursts, members by invitation) and the same month flooded by each bot of tests/stats/
test_surges.py. Prints suspect precision and recall against the truth, honest responses
flagged, honest responses inside surges kept valid, the largest gap between a window's score
(plain mean of the responses not suspect, and bounded-influence score) and its score without
the bots, and the analysis time.

python benchmarks/bench_surges.py [--windows 60] [--per-window 500] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from benchmarks.floodgen import BEIJING, BOT, BOTS, HONEST, month
from evalsurvey.analysis.report import Options, analyze

OPTIONS = Options(scale=(1.0, 5.0), day_offset=BEIJING)


def _analyse(data):
    table = data.table()
    start = time.perf_counter()
    report = analyze(table, OPTIONS)
    seconds = time.perf_counter() - start
    ids = {rid: i for i, rid in enumerate(data.response_id)}
    suspect = np.zeros(data.n, bool)
    inside = np.zeros(data.n, bool)
    for r in report["responses"]:
        i = ids[r["response_id"]]
        suspect[i] = r["suspect"]
        inside[i] = bool({"surge", "in_surge"} & set(r["reasons"]))
    return report, suspect, inside, seconds


def _scores(report, key):
    return {u["unit"]: u["groups"]["citizen"].get(key) for u in report["units"]
            if "citizen" in u["groups"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=60)
    parser.add_argument("--per-window", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, python {platform.python_version()}")
    head = (f"{'seed':>4} {'case':<20} {'rows':>7} {'prec':>6} {'recall':>6} {'honest%':>7} "
            f"{'kept%':>6} {'gap':>5} {'gap_b':>5} {'sec':>5}")  # fmt: skip
    print(head)
    worst = {"prec": 1.0, "recall": 1.0, "honest": 0.0, "gap": 0.0, "gap_b": 0.0}
    for seed in args.seeds:
        honest_only = month(seed, args.windows, args.per_window, ordinary=False)
        _r, suspect, _in, sec = _analyse(honest_only)
        share = suspect.mean()
        worst["honest"] = max(worst["honest"], share)
        print(f"{seed:>4} {'honest-only':<20} {honest_only.n:>7} {'':>6} {'':>6} "
              f"{100 * share:>7.2f} {'':>6} {'':>5} {'':>5} {sec:>5.1f}")  # fmt: skip
        cases = {"ordinary": None, **BOTS}
        clean = None
        for name, bot in cases.items():
            data = month(seed, args.windows, args.per_window, bot=bot)
            report, suspect, inside, sec = _analyse(data)
            truth = data.truth()
            hits = int((suspect & truth).sum())
            prec = hits / max(int(suspect.sum()), 1)
            recall = hits / max(int(truth.sum()), 1)
            honest = data.label == HONEST
            share = (suspect & honest).sum() / honest.sum()
            kept = (inside & honest & ~suspect).sum() / max((inside & honest).sum(), 1)
            if clean is None:
                clean = _analyse(data.without(data.label == BOT))[0]
            gaps = []
            for key in ("score", "bounded_score"):
                base, now = _scores(clean, "score"), _scores(report, key)
                gaps.append(max(abs(now[u] - base[u]) for u in now if now[u] is not None))
            worst["prec"] = min(worst["prec"], prec)
            worst["recall"] = min(worst["recall"], recall)
            worst["gap"] = max(worst["gap"], gaps[0])
            worst["gap_b"] = max(worst["gap_b"], gaps[1])
            print(f"{seed:>4} {name:<20} {data.n:>7} {prec:>6.3f} {recall:>6.3f} "
                  f"{100 * share:>7.2f} {100 * kept:>6.1f} {gaps[0]:>5.2f} {gaps[1]:>5.2f} "
                  f"{sec:>5.1f}")  # fmt: skip
    print(f"worst: precision {worst['prec']:.3f}, recall {worst['recall']:.3f}, honest-only "
          f"flagged {100 * worst['honest']:.2f} %, score gap {worst['gap']:.2f} "
          f"(bounded {worst['gap_b']:.2f}) points")  # fmt: skip


if __name__ == "__main__":
    main()
