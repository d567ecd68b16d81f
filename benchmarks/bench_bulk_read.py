"""A million responses from the database: read, analysed and stored as a run (issue 18).

    python benchmarks/bench_bulk_read.py [--units 500 --per-unit 2000] [--backend postgresql]
                                         [--url postgresql://…/evalsurvey_bench_1m] [--repeat 3]

Fills (once; kept for the next run) a database with ``units × per_unit`` citizen responses
through the domain's own row builder (``benchmarks/fill.py``): PostgreSQL in a database of
its own (``evalsurvey_bench_<n>`` on the test server, or ``--url``), SQLite in
``benchmarks/data/``. Then, each in a child process so peak memory is its own:

- ``response_table``: the typed table read in bulk (COPY on PostgreSQL, a plain cursor on
  SQLite), best of ``--repeat``;
- ``evalsurvey analyze --cycle BENCH``: read, analysed and stored as a run, as the office
  runs it, wall time and the child's peak RSS. Targets: ≤ 8 s, ≤ 1 GB;
- the staff analysis page showing that stored run (the test client, signed in as admin),
  best of ``--repeat``. Target: ≤ 300 ms.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SERVER = os.environ.get(
    "EVALSURVEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def database(backend: str, n: int, url: str | None) -> str:
    if url:
        return url
    if backend == "sqlite":
        return f"sqlite:///{HERE / 'data' / f'bench-{n}.sqlite3'}"
    return f"{SERVER.rsplit('/', 1)[0]}/evalsurvey_bench_{n}"


def filled(url: str, units: int, per_unit: int) -> None:
    """Fill ``url`` unless it already holds the cycle BENCH with the right count."""
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql"):
        import psycopg

        server, name = url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    else:
        (HERE / "data").mkdir(exist_ok=True)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM responses JOIN cycles ON cycles.id = cycle_id "
                    "WHERE cycles.code = 'BENCH'"
                )
            ).scalar()
    except Exception:  # no schema yet
        count = None
    engine.dispose()
    if count == units * per_unit:
        return
    if count is not None:
        raise SystemExit(f"{url} holds another data set ({count} responses): drop it first")
    from benchmarks.fill import citizen_cycle

    started = time.perf_counter()
    citizen_cycle(units, per_unit, url=url)
    print(f"filled {units * per_unit:,} responses in {time.perf_counter() - started:.0f} s")


def child(url: str, repeat: int) -> None:
    """In the child: time response_table, then the staff page of the newest stored run."""
    from evalsurvey import create_app
    from evalsurvey.domain.results import analysis
    from evalsurvey.domain.staff import create_staff
    from evalsurvey.extensions import db
    from evalsurvey.models import Cycle, StaffUser

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        cycle = db.session.query(Cycle).filter_by(code="BENCH").one()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            table = analysis.response_table(cycle)
            times.append(time.perf_counter() - t)
            db.session.rollback()
        print(f"response_table: {min(times):.2f} s best of {repeat} ({table.n:,} rows)")
        del table
        if db.session.query(StaffUser).filter_by(username="bench").first() is None:
            create_staff("bench", "bench-password-1", "admin", None)
            db.session.commit()
        cycle_id = cycle.id
    client = app.test_client()
    client.post("/auth/login", data={"username": "bench", "password": "bench-password-1"})
    page = f"/admin/cycles/{cycle_id}/analysis"
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = client.get(page)
        times.append(time.perf_counter() - t)
    assert response.status_code == 200, response.status_code
    print(
        f"staff analysis page of the stored run: {min(times) * 1000:.0f} ms best of {repeat} "
        f"({len(response.data) / 1e3:.0f} kB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--per-unit", type=int, default=2000)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--url")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat)
        return
    n = args.units * args.per_unit
    url = database(args.backend, n, args.url)
    filled(url, args.units, args.per_unit)
    cores, python = os.cpu_count(), platform.python_version()
    print(f"machine: {platform.machine()}, {cores} cores, Python {python}")
    print(f"{n:,} responses on {args.backend}")
    env = {**os.environ, "EVALSURVEY_DATABASE_URL": url}
    exe = Path(sys.executable).with_name("evalsurvey")
    for attempt in range(args.repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        subprocess.run(
            [str(exe), "analyze", "--cycle", "BENCH", "--top", "3"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        note = "" if attempt == 0 or peak > before else " (peak: the largest child so far)"
        print(
            f"analyze --cycle (read, analyse, store the run): {wall:.2f} s, peak RSS "
            f"{peak / 1024:.0f} MB{note} (targets 8 s, 1024 MB): "
            f"{'PASS' if wall <= 8 and peak / 1024 <= 1024 else 'FAIL'}"
        )
    subprocess.run(
        [sys.executable, __file__, "--child", url, "--repeat", str(args.repeat)], check=True
    )


if __name__ == "__main__":
    main()
