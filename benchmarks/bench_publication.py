"""Benchmark publication, one unit's feedback PDF and the composite page (issue 16).

    python benchmarks/bench_publication.py [--db sqlite|postgresql] [--units 1000]
        [--repeat 5] [--root PATH] [--json FILE] [--profile DIR]

A district of ``--units`` communities (one unit type) under 20 streets, built through the
demo's own domain functions: the demo's resident questionnaire on a public link (20 citizens
per community) and a department link (6 per community), inserted in bulk as the demo does;
the seed-002 community scheme and the demo's inspection findings for every community (the
demo's ``_assess_communities``, its findings checked by the rule check and inserted in bulk:
see :func:`bulk_findings`); the stored satisfaction analysis; composite weights, star grades
and a stored composite; the cycle closed. Then, median of ``--repeat`` runs after one
warm-up, wall time and this process's CPU time (other processes on a busy machine move the
first more than the second):

- the staff's feedback PDF of one community (``/admin/cycles/<c>/units/<u>/report.pdf``
  through the test client as admin), and ``report_of`` alone, before publication (the live
  preview) and after it (the frozen report); the "reports built" column counts the feedback
  reports built for it: one unit's PDF should build one;
- the composite page ``/admin/cycles/<c>/composite?type=community``, before and after;
- ``publish_results`` of the unit type plus the commit (the publication is deleted again
  between runs), and its peak Python heap (tracemalloc, a run of its own).

``--root`` runs the same file against another checkout (an older commit in a git worktree),
so both are measured by identical code: it uses only what both commits have
(``publish_results(cycle, unit_type, actor, days)``, the demo module in
``evalsurvey/demo.py`` or, before d532881, ``evalsurvey/domain/demo.py``). PostgreSQL: a
database of its own on 127.0.0.1:5432 (user postgres), dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import logging
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN = ("bench-admin", "bench-admin-pass-2026")
TIMES: dict[str, float] = {}  # setup steps worth naming
PROFILE: Path | None = None  # --profile


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--root",
        default=str(Path(__file__).resolve().parent.parent),
        help="the project tree to measure (default: this file's)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile", type=Path, help="keep a cProfile of one more run of each measure here"
    )
    return parser.parse_args()


def _demo():
    """The demo module: evalsurvey.demo now, evalsurvey.domain.demo before d532881."""
    try:
        return importlib.import_module("evalsurvey.demo")
    except ImportError:
        return importlib.import_module("evalsurvey.domain.demo")


def _domain(path: str):
    """A domain module by its path now (``assessment.publication``), or by its name in the
    flat ``evalsurvey.domain`` of trees before the split (a5af7ef), for ``--root``."""
    try:
        return importlib.import_module(f"evalsurvey.domain.{path}")
    except ModuleNotFoundError:
        return importlib.import_module(f"evalsurvey.domain.{path.rsplit('.', 1)[-1]}")


def _rater_groups():
    try:
        from evalsurvey.domain.units import ensure_rater_groups
    except ImportError:
        ensure_rater_groups = _demo().ensure_rater_groups
    return ensure_rater_groups()


def build(units: int, seed: int = 2026):
    """The district, its closed cycle and stored results (see the module docstring);
    committed. Returns ``(cycle_id, unit_id)`` of the community whose PDF is measured."""
    import numpy as np
    from sqlalchemy import insert

    from evalsurvey.domain import cycles, staff
    from evalsurvey.domain.units import create_unit
    from evalsurvey.extensions import db
    from evalsurvey.models import Channel, CycleStatus, LinkMode, Response, Role
    from evalsurvey.models.types import utcnow

    composite, grades = _domain("assessment.composite"), _domain("assessment.grades")
    link_domain = _domain("collecting.links")
    qdomain = _domain("collecting.questionnaires")
    response_row = _domain("collecting.responses").response_row
    analysis = _domain("results.analysis")
    demo = _demo()
    rng = np.random.default_rng(seed)
    groups = _rater_groups()
    staff.create_staff(ADMIN[0], ADMIN[1], Role.ADMIN, name="bench")
    district = create_unit("D01", "基准区", "district")
    communities = []
    streets = 20
    for s in range(streets):
        street = create_unit(f"S{s:02d}", f"第{s}街道", "street", district.code)
        for c in range(s, units, streets):
            communities.append(create_unit(f"C{c:04d}", f"第{c}社区", "community", street.code))
    communities.sort(key=lambda u: u.code)
    q = qdomain.create_draft(demo.RESIDENT_QUESTIONNAIRE)
    # a frozen version was "published" before the two meanings were named apart
    (getattr(qdomain, "freeze_version", None) or qdomain.publish)(q)
    now = utcnow()
    cycle = cycles.create_cycle(
        "BENCH", "基准周期", "half", opens_at=now - timedelta(days=60), closes_at=now
    )
    cycles.transition(cycle, CycleStatus.OPEN)
    quality = {u.id: rng.normal(0.0, 0.5) for u in communities}
    items = [i["code"] for i in demo.RESIDENT_QUESTIONNAIRE["items"]]
    rows = []
    for group, mode, channel, per_unit in (
        ("citizen", LinkMode.PUBLIC, Channel.QR, 20),
        ("department", LinkMode.INVITE, Channel.INVITE, 6),
    ):
        for unit in communities:
            link, _ = link_domain.create_link(
                cycle=cycle, questionnaire=q, unit=unit, rater_group=groups[group], mode=mode
            )
            for _ in range(per_unit):
                latent = 4.0 + quality[unit.id] + rng.normal(0, 0.5)
                when = now - timedelta(days=float(rng.uniform(1, 55)))
                rows.append(
                    response_row(
                        link=link,
                        channel=channel,
                        started_at=when - timedelta(seconds=float(rng.lognormal(4.4, 0.4))),
                        submitted_at=when,
                        answers={
                            c: int(np.clip(round(latent + rng.normal(0, 0.5)), 1, 5)) for c in items
                        },
                        comment=["", "", "希望多办活动。", "服务很好。"][int(rng.integers(4))],
                        device=f"d{rng.integers(1 << 40)}" if channel == Channel.QR else "",
                    )
                )
    for start in range(0, len(rows), 1000):  # the demo's bulk path (insert_rows is this)
        db.session.execute(insert(Response), rows[start : start + 1000])
    db.session.commit()
    with bulk_findings(cycle):
        demo._assess_communities(cycle, communities, rng, quality)
    db.session.commit()
    analysis.run_analysis(cycle, "bench")
    composite.set_weights(
        cycle, "community", {"inspection": 0.7, "citizen": 0.2, "department": 0.1}
    )
    grades.set_rules(cycle, "community", grades.DEFAULT_STARS)
    db.session.commit()
    started = time.perf_counter()
    composite.run_composite(cycle, "community", "bench")
    TIMES["run_composite (setup)"] = time.perf_counter() - started
    cycles.transition(cycle, CycleStatus.CLOSED)
    db.session.commit()
    return cycle.id, communities[len(communities) // 2].id


@contextmanager
def bulk_findings(cycle):
    """The demo's findings with the first unit's through ``record_finding`` and the rest
    checked by the same rule check (``check_finding``) and inserted in one statement:
    ``record_finding`` one by one (a query, a scheme parse and a flush each) took 7 minutes
    for 1,000 units' 47,000 findings."""
    from sqlalchemy import insert

    from evalsurvey.extensions import db
    from evalsurvey.models import Finding
    from evalsurvey.models.types import utcnow
    from evalsurvey.scoring import Finding as ScoringFinding
    from evalsurvey.scoring.findings import check_finding

    schemes = _domain("assessment.schemes")
    real = schemes.record_finding
    version = scheme = None  # the demo assigns the scheme: read at the second unit
    first: list[int] = []
    rows: list[dict] = []

    def record(cycle_, unit, element, value, note, actor, reason=""):
        nonlocal version, scheme
        if not first or first[0] == unit.id:
            first[:] = [unit.id]
            return real(cycle_, unit, element, value, note, actor, reason)
        if scheme is None:
            version = schemes.cycle_scheme(cycle, "community")
            scheme = schemes.scheme_of(version)
        value, note = value.strip(), note.strip()
        check_finding(scheme, ScoringFinding(unit.code, element, value, note, 0))
        rows.append(
            {
                "cycle_id": cycle.id,
                "unit_id": unit.id,
                "scheme_id": version.id,
                "element": element,
                "value": value,
                "note": note,
                "reason": "",
                "evidence": "",
                "recorded_by": actor,
                "recorded_at": utcnow(),
            }
        )

    schemes.record_finding = record
    try:
        yield
    finally:
        schemes.record_finding = real
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(Finding), rows[start : start + 2000])


class Counter:
    """SQL statements run, and feedback reports built (by wrapping ``unit_reports`` where
    the publication module calls it)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import event

        publication = _domain("assessment.publication")
        self.statements = 0
        self.reports = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        inner = publication.unit_reports

        def counted(*args, **kwargs):
            out = inner(*args, **kwargs)
            self.reports += len(out or {})
            return out

        publication.unit_reports = counted

    def _statement(self, *_args) -> None:
        self.statements += 1

    def reset(self) -> None:
        self.statements = self.reports = 0


def measure(name: str, fn, repeat: int, counter: Counter, after=None) -> dict:
    """Median, min and max wall time of ``repeat`` runs after one warm-up; statements and
    reports of the last run. With ``--profile DIR``, one more run under cProfile, kept as
    ``DIR/<name>.prof``."""
    times, cpu = [], []
    for i in range(repeat + 1):
        counter.reset()
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
        counted = counter.statements, counter.reports
        if i:
            times.append(elapsed)
            cpu.append(cpu_used)
        if after is not None:
            after()
    if PROFILE is not None:
        profile = cProfile.Profile()
        profile.runcall(fn)
        profile.dump_stats(PROFILE / f"{name}.prof")
        if after is not None:
            after()
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "cpu": statistics.median(cpu),
        "statements": counted[0],
        "reports": counted[1],
    }


def login(client) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    reply = client.post(
        "/auth/login", data={"csrf_token": token, "username": ADMIN[0], "password": ADMIN[1]}
    )
    assert reply.status_code in (302, 303), f"sign-in refused: {reply.status_code}"


def run(args: argparse.Namespace, url: str, folder: str) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import delete

    from evalsurvey import create_app
    from evalsurvey.extensions import db
    from evalsurvey.models import Cycle, Publication, Unit

    publication = _domain("assessment.publication")
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DEVICE_SALT": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "PUBLIC_BASE_URL": "http://testserver",
            "EVIDENCE_FOLDER": os.path.join(folder, "evidence"),
            "RATELIMIT_ENABLED": False,
        }
    )
    # the migrations' and WeasyPrint's chatter (unsupported screen CSS) would hide the table
    logging.disable(logging.WARNING)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        cycle_id, unit_id = build(args.units)
        db.session.remove()
        counter = Counter(db.engine)
    setup = time.perf_counter() - started
    client = app.test_client()
    login(client)
    pdf_url = f"/admin/cycles/{cycle_id}/units/{unit_id}/report.pdf"
    page_url = f"/admin/cycles/{cycle_id}/composite?type=community"

    def get_pdf() -> None:
        reply = client.get(pdf_url)
        assert reply.status_code == 200 and reply.mimetype == "application/pdf", reply.status
        assert reply.data.startswith(b"%PDF")

    def get_page() -> None:
        reply = client.get(page_url)
        assert reply.status_code == 200, reply.status

    def report_alone() -> None:
        with app.app_context():
            cycle = db.session.get(Cycle, cycle_id)
            report, _published = publication.report_of(cycle, db.session.get(Unit, unit_id))
            assert report is not None
            db.session.remove()

    def publish() -> None:
        with app.app_context():
            cycle = db.session.get(Cycle, cycle_id)
            publication.publish_results(cycle, "community", "bench", 7)
            db.session.commit()
            db.session.remove()

    def unpublish() -> None:
        with app.app_context():
            db.session.execute(delete(Publication).where(Publication.cycle_id == cycle_id))
            db.session.commit()
            db.session.remove()

    out: dict = {"setup_s": setup, "run_composite_s": TIMES["run_composite (setup)"]}
    n = args.repeat
    out["pdf_preview"] = measure("pdf_preview", get_pdf, n, counter)
    out["report_of_preview"] = measure("report_of_preview", report_alone, n, counter)
    out["composite_preview"] = measure("composite_preview", get_page, n, counter)
    out["publish"] = measure("publish", publish, n, counter, after=unpublish)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    publish()
    out["publish"]["peak_mb"] = (tracemalloc.get_traced_memory()[1] - base) / 2**20
    tracemalloc.stop()
    out["pdf_published"] = measure("pdf_published", get_pdf, n, counter)
    out["report_of_published"] = measure("report_of_published", report_alone, n, counter)
    out["composite_published"] = measure("composite_published", get_page, n, counter)
    with app.app_context():
        db.engine.dispose()
    return out


ROWS = (
    ("publish", "(a) publish_results + commit"),
    ("pdf_preview", "(b) one unit's PDF, before publication"),
    ("report_of_preview", "    report_of alone, before publication"),
    ("pdf_published", "(b) one unit's PDF, published"),
    ("report_of_published", "    report_of alone, published"),
    ("composite_preview", "(c) composite page, before publication"),
    ("composite_published", "(c) composite page, published"),
)


def table(result: dict) -> str:
    lines = [
        "| measure | median s | min s | max s | median CPU s | SQL statements | reports built |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, title in ROWS:
        m = result[key]
        lines.append(
            f"| {title} | {m['median']:.3f} | {m['min']:.3f} | {m['max']:.3f} | {m['cpu']:.3f} "
            f"| {m['statements']} | {m['reports']} |"
        )
    lines.append(f"| (a) peak Python heap (tracemalloc) | {result['publish']['peak_mb']:.1f} MB |")
    return "\n".join(lines)


def main() -> None:
    global PROFILE
    args = _args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE = args.profile
    root = str(Path(args.root).resolve())
    sys.path.insert(0, root)
    import evalsurvey

    assert Path(evalsurvey.__file__).resolve().is_relative_to(root), evalsurvey.__file__
    folder = tempfile.mkdtemp(prefix="evalsurvey-bench-publication-")
    if args.db == "sqlite":
        url, name = f"sqlite:///{folder}/bench.sqlite3", None
    else:
        import psycopg

        name = f"evalsurvey_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        result = run(args, url, folder)
    finally:
        if name is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)
    result |= {
        "root": root,
        "db": args.db,
        "units": args.units,
        "repeat": args.repeat,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
    }
    print(f"tree: {root}; {args.db}; {args.units} communities; {result['machine']}")
    print(
        f"setup {result['setup_s']:.1f} s (run_composite once: {result['run_composite_s']:.1f} s);"
        f" median of {args.repeat} after one warm-up"
    )
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
