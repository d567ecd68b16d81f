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
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--per-unit", type=int, default=1000)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import insert

    from evalsurvey import create_app
    from evalsurvey.analysis.report import analyze
    from evalsurvey.domain import analysis, cycles, links, questionnaires, units
    from evalsurvey.domain.demo import CITIZEN_QUESTIONNAIRE, ensure_rater_groups
    from evalsurvey.domain.responses import response_row
    from evalsurvey.extensions import db
    from evalsurvey.models import Response
    from evalsurvey.models.types import utcnow

    folder = tempfile.mkdtemp(prefix="evalsurvey-bench-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3"})
    rng = np.random.default_rng(7)
    with app.app_context():
        upgrade()
        groups = ensure_rater_groups()
        q = questionnaires.create_draft(CITIZEN_QUESTIONNAIRE)
        questionnaires.publish(q)
        cycle = cycles.create_cycle("BENCH", "基准周期")
        codes = [i["code"] for i in CITIZEN_QUESTIONNAIRE["items"]]
        now = utcnow()
        started = time.perf_counter()
        for u in range(args.units):
            unit = units.create_unit(f"W{u:04d}", f"窗口{u}", "service_window")
            link, _ = links.create_link(
                cycle=cycle, questionnaire=q, unit=unit, rater_group=groups["citizen"]
            )
            quality = rng.normal(4.0, 0.4)
            rows = []
            for _i in range(args.per_unit):
                answers = {
                    c: int(np.clip(round(quality + rng.normal(0, 0.7)), 1, 5)) for c in codes
                }
                when = now - timedelta(minutes=float(rng.uniform(0, 60 * 24 * 90)))
                rows.append(
                    response_row(
                        link=link,
                        channel="qr",
                        started_at=when - timedelta(seconds=float(rng.lognormal(4.2, 0.4))),
                        submitted_at=when,
                        answers=answers,
                        device=f"d{rng.integers(1 << 40)}",
                    )
                )
            db.session.execute(insert(Response), rows)
        db.session.commit()
        fill = time.perf_counter() - started
        n = args.units * args.per_unit

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
