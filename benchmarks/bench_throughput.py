"""Respondent throughput: evalsurvey against a minimal Flask app, in the same run.

    python benchmarks/bench_throughput.py [--backend sqlite|postgresql] [--seconds 30]
        [--concurrency 32] [--workers 4] [--rounds 6] [--limits redis|memory]

Both apps run under gunicorn with the same settings (sync workers, ``--workers``) on the
same database kind, and a load generator on loopback plays respondents: a fresh phone
(no cookies), GET the questionnaire, POST the answers, follow the redirect. It reports
sessions per second and the p50/p99 of a session's time, for each app and as ratios
(targets: evalsurvey ≥ 60 % of the minimal app's sessions/s, p99 ≤ 2 × its p99).
The load generator runs in its own processes (so the GIL of one does not cap it); on a
2-core machine it competes with the servers for the CPU, as on a real small server.
Rate limits stay on with thresholds raised, since every request comes from one address.
Their counters live in Redis by default (``--limits redis``): gunicorn's workers are several
processes, which must share the counters for a limit to mean what it says (per-process
memory counters let each worker allow the whole limit); ``--limits memory`` measures those.
It also reports the CPU time each kind of process spent per session (the app's workers,
the database, Redis), read from ``/proc``, which shows where a difference comes from.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ITEMS8 = [f"q{i}" for i in range(1, 9)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port, method, path, body=None, cookie=""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    cookies = [v.split(";")[0] for k, v in resp.getheaders() if k.lower() == "set-cookie"]
    location = resp.getheader("Location", "")
    conn.close()
    return resp.status, data.decode("utf-8", "replace"), "; ".join(cookies), location


HIDDEN = re.compile(r'<input[^>]*name="(csrf_token|ticket)"[^>]*value="([^"]*)"')


def _respondent(args) -> list[float]:
    port, path, until, seed = args
    times = []
    n = 0
    while time.time() < until:
        start = time.perf_counter()
        status, html, cookie, _loc = _request(port, "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        fields = dict(HIDDEN.findall(html))
        fields |= {k: str(1 + (seed + n + i) % 5) for i, k in enumerate(ITEMS8)}
        status, _html, more, location = _request(port, "POST", path, urlencode(fields), cookie)
        if status != 303:
            raise RuntimeError(f"POST {path}: {status} {_html[:200]}")
        location = location.replace(f"http://127.0.0.1:{port}", "")
        status, _html, _c, _l = _request(port, "GET", location, cookie="; ".join([cookie, more]))
        if status != 200:
            raise RuntimeError(f"GET {location}: {status}")
        times.append(time.perf_counter() - start)
        n += 1
    return times


def _load(port: int, path: str, seconds: float, concurrency: int) -> list[float]:
    """Each session's time, in seconds, of ``concurrency`` respondents for ``seconds``."""
    until = time.time() + seconds
    with mp.Pool(concurrency) as pool:
        results = pool.map(_respondent, [(port, path, until, i) for i in range(concurrency)])
    return [t for r in results for t in r]


def _summary(times: list[float], seconds: float) -> dict:
    times = sorted(times)
    return {
        "sessions": len(times),
        "per_s": len(times) / seconds,
        "p50_ms": 1000 * times[len(times) // 2],
        "p99_ms": 1000 * times[min(len(times) - 1, int(len(times) * 0.99))],
    }


def _cpu_seconds() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process, by pid, with its command line."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        found[int(pid)] = (command, (int(fields[11]) + int(fields[12])) / tick)
    return found


def _cpu_by_kind(before: dict, after: dict, port: int) -> dict[str, float]:
    """CPU seconds spent between two readings by the app on ``port``, PostgreSQL and Redis
    (the load generator's processes end before the second reading: not counted)."""
    kinds = {"app": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid, (command, seconds) in after.items():
        spent = seconds - before.get(pid, (command, 0.0))[1]
        if f"127.0.0.1:{port}" in command:
            kinds["app"] += spent
        elif command.startswith("postgres"):
            kinds["postgres"] += spent
        elif command.startswith("redis-server"):
            kinds["redis"] += spent
    return kinds


def _wait(port: int, path: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if _request(port, "GET", path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def _gunicorn(app: str, port: int, workers: int, env: dict, log) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    return subprocess.Popen(
        [gunicorn, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", app],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT / "benchmarks"),
    )  # fmt: skip


def _setup_evalsurvey(url: str, instance: str) -> str:
    from flask_migrate import upgrade

    from evalsurvey import create_app
    from evalsurvey.domain import cycles
    from evalsurvey.domain.collecting import links, questionnaires
    from evalsurvey.domain.units import create_unit, ensure_rater_groups
    from evalsurvey.extensions import db
    from evalsurvey.models import CycleStatus
    from evalsurvey.models.types import utcnow

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EVALSURVEY_INSTANCE_PATH": instance})
    with app.app_context():
        upgrade()
        groups = ensure_rater_groups()
        unit = create_unit("W1", "窗口", "service_window", None)
        q = questionnaires.create_draft({
            "code": "BENCH", "title": "满意度",
            "items": [{"code": k, "text": f"题目{k}", "type": "satisfaction5"} for k in ITEMS8],
        })  # fmt: skip
        questionnaires.freeze_version(q)
        from datetime import timedelta

        cycle = cycles.create_cycle(
            "B1", "基准", "year", utcnow() - timedelta(days=1), utcnow() + timedelta(days=30)
        )
        cycles.transition(cycle, CycleStatus.OPEN)
        link, _ = links.create_link(cycle=cycle, questionnaire=q, unit=unit,
                                    rater_group=groups["citizen"])  # fmt: skip
        db.session.commit()
        code = link.code
        db.session.remove()
        db.engine.dispose()
    return code


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--limits", choices=["redis", "memory"], default="redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="evalsurvey-bench-")
    if args.backend == "sqlite":
        url = f"sqlite:///{tmp}/bench.sqlite3"
        minimal_url = f"sqlite:///{tmp}/minimal.sqlite3"
    else:
        import psycopg

        database = f"bench_{os.getpid()}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        url = minimal_url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    code = _setup_evalsurvey(url, tmp)
    # the minimal app's table, made once here: its workers starting together would race to
    # create it on PostgreSQL (one loses, dies and is restarted mid-warm-up)
    from sqlalchemy import create_engine

    from benchmarks.minimal_app import metadata

    engine = create_engine(minimal_url)
    metadata.create_all(engine)
    engine.dispose()
    if args.limits == "redis":
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()  # its own database number
    env = {
        **os.environ,
        "EVALSURVEY_DATABASE_URL": url,
        "EVALSURVEY_INSTANCE_PATH": tmp,
        "EVALSURVEY_SECRET_KEY": "bench",
        "EVALSURVEY_RATE_LIMIT_DEVICE": "100000 per minute",
        "EVALSURVEY_RATE_LIMIT_NETWORK": "100000 per minute",
        "EVALSURVEY_RATE_LIMIT_LINK": "100000 per minute",
        "EVALSURVEY_REDIS_URL": args.redis_url if args.limits == "redis" else "",
        "MINIMAL_DATABASE_URL": minimal_url,
        "PYTHONPATH": str(ROOT),
    }
    # Both servers run throughout and take turns in short rounds, so a slow spell of a
    # shared machine falls on both apps rather than on whichever was measured then.
    path = f"/s/{code}"
    servers = {}
    times = {"minimal": [], "evalsurvey": []}
    per_round = {name: [] for name in times}  # sessions in each round
    cpu = {name: dict.fromkeys(("app", "postgres", "redis"), 0.0) for name in times}
    try:
        for name, app in (("minimal", "minimal_app:create_app()"),
                          ("evalsurvey", "evalsurvey:create_app()")):  # fmt: skip
            port = _free_port()
            log = open(Path(tmp) / f"{name}.log", "wb")  # noqa: SIM115 - closed below
            servers[name] = (port, _gunicorn(app, port, args.workers, env, log), log)
        for port, _server, _log in servers.values():
            _wait(port, path)
            _load(port, path, 2, args.concurrency)  # warm up
        for _round in range(args.rounds):
            for name, (port, _server, _log) in servers.items():
                before = _cpu_seconds()
                done = _load(port, path, args.seconds / args.rounds, args.concurrency)
                times[name] += done
                per_round[name].append(len(done))
                for kind, spent in _cpu_by_kind(before, _cpu_seconds(), port).items():
                    cpu[name][kind] += spent
    finally:
        for _port, server, log in servers.values():
            server.send_signal(signal.SIGTERM)
            server.wait(30)
            log.close()
    results = {name: {**_summary(t, args.seconds), "cpu": cpu[name]} for name, t in times.items()}
    if args.backend == "postgresql":
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    m, e = results["minimal"], results["evalsurvey"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, backend {args.backend}, "
          f"{args.workers} gunicorn workers, {args.concurrency} concurrent, "
          f"{args.seconds:g} s each in {args.rounds} rounds, "
          f"rate-limit counters in {args.limits}")  # fmt: skip
    for name, r in results.items():
        cpu = "  ".join(f"{kind} {1000 * s / r['sessions']:.2f}" for kind, s in r["cpu"].items())
        print(f"{name:11s} {r['sessions']:6d} sessions  {r['per_s']:7.1f}/s  "
              f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
              f"CPU ms per session: {cpu}")  # fmt: skip
    print(f"ratio: sessions/s {e['per_s'] / m['per_s']:.2f} (target >= 0.60), "
          f"p99 {e['p99_ms'] / m['p99_ms']:.2f} (target <= 2.00)")  # fmt: skip
    rounds = sorted(
        ev / mi for ev, mi in zip(per_round["evalsurvey"], per_round["minimal"], strict=True)
    )
    print(f"sessions/s ratio by round: min {rounds[0]:.2f}, median "
          f"{statistics.median(rounds):.2f}, max {rounds[-1]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
