"""Benchmark a cycle's analysis on the database (the staff page's recompute, `analyze --cycle`).

    python benchmarks/bench_cycle_analysis.py [--units 100 --per-unit 1000]

Fills a fresh SQLite database (in a temporary folder) with ``units × per_unit`` citizen
responses through the domain's own row builder, then times, best of 3:

- ``response_table``: the typed table read straight from the database;
- ``analyze``: the statistics on it;
- ``run_analysis``: both, plus storing the run.

The interchange-CSV path (``bench_analyze.py``) is the reference for the statistics.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--per-unit", type=int, default=1000)
    args = parser.parse_args()

    from benchmarks.fill import citizen_cycle
    from evalsurvey.analysis.report import analyze
    from evalsurvey.domain.results import analysis
    from evalsurvey.extensions import db
    from evalsurvey.models import Cycle

    started = time.perf_counter()
    app, cycle_id = citizen_cycle(args.units, args.per_unit)
    fill = time.perf_counter() - started
    n = args.units * args.per_unit
    with app.app_context():
        cycle = db.session.get(Cycle, cycle_id)

        def best(fn, repeat=3):
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - t)
                db.session.rollback()
            return min(times), out

        t_table, table = best(lambda: analysis.response_table(cycle))
        options = analysis.cycle_options(cycle)
        t_stats, _report = best(lambda: analyze(analysis.response_table(cycle), options))
        t_run, _runs = best(lambda: analysis.run_analysis(cycle, "bench"))
        print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
        print(f"{n:,} responses ({args.units} units × {args.per_unit}); filled in {fill:.1f} s")
        print(f"response_table (database → typed table): {t_table:.2f} s ({table.n:,} rows)")
        print(f"response_table + analyze:                 {t_stats:.2f} s")
        print(f"run_analysis (the page's recompute):      {t_run:.2f} s")


if __name__ == "__main__":
    main()
