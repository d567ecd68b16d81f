"""API ingestion: one batch of 10,000 responses through POST /api/v1/cycles/{code}/responses.

    python benchmarks/bench_ingest.py [--db postgresql|sqlite] [--batch 10000] [--repeat 3]

A district of 100 communities, the demo's resident questionnaire (10 items), an open cycle
and an admin's write token, in a database of its own (PostgreSQL: 127.0.0.1:5432, user
postgres, dropped at the end). Each run posts a batch of fresh responses (every item
answered, a comment on one in five) through the app's whole request path in this process
(Flask's test client: JSON parsing, the pydantic model, the interchange record checks, the
row builder, INSERT … ON CONFLICT, the commit and the JSON answer), then the same batch
again (idempotent: compared, nothing stored). Target: the first post ≤ 2 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def _setup():
    """Units, questionnaire, cycle and a write token; committed. Returns (cycle code,
    questionnaire label, item codes, community codes, token)."""
    from evalsurvey import demo
    from evalsurvey.domain import api_tokens, cycles, staff
    from evalsurvey.domain.collecting import questionnaires as qdomain
    from evalsurvey.domain.units import create_unit, ensure_rater_groups
    from evalsurvey.extensions import db
    from evalsurvey.models import CycleStatus, Role
    from evalsurvey.models.types import utcnow

    ensure_rater_groups()
    admin = staff.create_staff("bench-admin", "bench-admin-pass-2026", Role.ADMIN)
    district = create_unit("D01", "基准区", "district")
    street = create_unit("S01", "基准街道", "street", district.code)
    communities = [
        create_unit(f"C{c:04d}", f"第{c}社区", "community", street.code).code for c in range(100)
    ]
    q = qdomain.create_draft(demo.RESIDENT_QUESTIONNAIRE)
    qdomain.freeze_version(q)
    now = utcnow()
    cycle = cycles.create_cycle(
        "BENCH", "基准周期", "half", now - timedelta(days=30), now + timedelta(days=30)
    )
    cycles.transition(cycle, CycleStatus.OPEN)
    _token, secret = api_tokens.create_token(admin, "write", "bench")
    db.session.commit()
    items = [(i.code, i.type, i.options) for i in q.items]
    return cycle.code, q.label, items, communities, secret


def _batch(run: int, n: int, label: str, items, communities) -> dict:
    import random

    rng = random.Random(run)
    records = []
    for k in range(n):
        record = {
            "response_id": f"B{run}-{k:06d}",
            "questionnaire": label,
            "unit": communities[k % len(communities)],
            "rater_group": "citizen",
            "channel": "import",
            "device": f"mp-{rng.randrange(10**9):09d}",
            "started_at": "2026-11-23T09:02:00+08:00",
            "submitted_at": f"2026-11-23T09:{k % 60:02d}:{(k * 7) % 60:02d}+08:00",
            "comment": "窗口服务很好，办事效率高。" if k % 5 == 0 else "",
        }
        for code, kind, options in items:
            if kind == "satisfaction5":
                record[code] = rng.randint(1, 5)
            elif kind == "scale10":
                record[code] = rng.randint(0, 10)
            elif kind in ("single", "multiple") and options:
                pick = rng.choice(options)["code"]
                record[code] = [pick] if kind == "multiple" else pick
        records.append(record)
    return {"responses": records}


def main() -> None:
    args = _args()
    from sqlalchemy import text

    from evalsurvey import create_app
    from evalsurvey.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        name = None
        if args.db == "postgresql":
            import psycopg

            name = f"evalsurvey_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        else:
            url = f"sqlite:///{tmp}/bench.sqlite3"
        config = {
            "SECRET_KEY": "bench",
            "DEVICE_SALT": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_BASE_URL": "http://bench",
        }
        app = create_app(config)
        try:
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                code, label, items, communities, secret = _setup()
                client = app.test_client()
                headers = {"Authorization": f"Bearer {secret}"}
                first, again, sizes = [], [], []
                for run in range(args.repeat):
                    body = json.dumps(_batch(run, args.batch, label, items, communities))
                    sizes.append(len(body.encode()))
                    for times, status in ((first, 201), (again, 200)):
                        start = time.perf_counter()
                        r = client.post(
                            f"/api/v1/cycles/{code}/responses",
                            data=body,
                            headers=headers,
                            content_type="application/json",
                        )
                        times.append(time.perf_counter() - start)
                        assert r.status_code == status, r.get_data(as_text=True)[:500]
                stored = db.session.scalar(text("SELECT count(*) FROM responses"))
                assert stored == args.batch * args.repeat, stored
                db.session.remove()
                db.engine.dispose()
        finally:
            if name is not None:
                import psycopg

                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"machine: {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"database: {args.db}; batch: {args.batch} responses, "
        f"{statistics.median(sizes) / 1e6:.1f} MB of JSON"
    )
    print(
        "first post (stored):   "
        + ", ".join(f"{t:.2f} s" for t in first)
        + f"  median {statistics.median(first):.2f} s"
    )
    print(
        "same batch again (0):  "
        + ", ".join(f"{t:.2f} s" for t in again)
        + f"  median {statistics.median(again):.2f} s"
    )


if __name__ == "__main__":
    main()
