"""Benchmark `evalsurvey analyze` end to end and the reliability statistics.

    python benchmarks/bench_analyze.py [--units 500 --per-unit 2000]

1. Generates 1,000,000 citizen responses (500 units × 2,000, 8 items) plus a
   300-unit × 30-rater panel as one interchange CSV (benchmarks/data/, git-ignored).
2. Runs `evalsurvey analyze` on it in a child process: wall time and peak memory
   (the child's maximum resident set size). Targets: ≤ 20 s, ≤ 2 GB.
3. On the panel matrix, times icc + kendall_w + krippendorff_alpha against
   pingouin (intraclass_corr, friedman) + the krippendorff package in the same run,
   best of several repeats. Target: ours ≥ 10× faster.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.generate import SCALE, write  # noqa: E402


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def reliability_ratio(repeats: int = 5) -> tuple[float, float]:
    import krippendorff
    import pandas as pd
    import pingouin as pg

    from evalsurvey.stats import icc, kendall_w, krippendorff_alpha

    rng = np.random.default_rng(11)
    x = rng.normal(75, 8, (300, 1)) + rng.normal(0, 3, (1, 30)) + rng.normal(0, 4, (300, 30))
    x = np.round(x)
    long = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(300), 30),
            "rater": np.tile(np.arange(30), 300),
            "score": x.ravel(),
        }
    )

    def ours():
        icc(x)
        kendall_w(x)
        krippendorff_alpha(x, "interval")

    def theirs():
        pg.intraclass_corr(long, "unit", "rater", "score")
        pg.friedman(data=long, dv="score", within="unit", subject="rater")
        krippendorff.alpha(reliability_data=x.T, level_of_measurement="interval")

    ours()
    theirs()  # warm imports and caches on both sides
    return best_of(ours, repeats), best_of(theirs, repeats)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--per-unit", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    csv_path = data / f"responses-{args.units}x{args.per_unit}.csv"
    if not csv_path.exists():
        t = time.perf_counter()
        rows = write(str(csv_path), args.units, args.per_unit)
        print(f"generated {rows} rows in {time.perf_counter() - t:.1f} s")
    exe = Path(sys.executable).with_name("evalsurvey")
    cmd = [
        str(exe),
        "analyze",
        str(csv_path),
        "--scale",
        SCALE,
        "--json",
        str(data / "report.json"),
        "--top",
        "3",
    ]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ours, theirs = reliability_ratio(args.repeats)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}"
    )
    print(
        f"analyze end to end: {wall:.2f} s wall, peak RSS {peak_mb:.0f} MB "
        f"(targets 20 s, 2048 MB): {'PASS' if wall <= 20 and peak_mb <= 2048 else 'FAIL'}"
    )
    print(
        f"reliability on 300x30: ours {ours * 1000:.2f} ms, pingouin+krippendorff "
        f"{theirs * 1000:.2f} ms, ratio {theirs / ours:.1f}x (target 10x): "
        f"{'PASS' if theirs / ours >= 10 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
