"""Zero loss at full scale: many respondents for a minute while a worker is SIGKILLed every
few seconds and the whole server is killed and restarted twice; every acknowledged response
must be stored exactly once.

    python benchmarks/bench_zero_loss.py [--clients 64] [--seconds 60] [--kill-every 3]

The suite's small version is ``tests/test_serve.py`` (same server, client and checks).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-every", type=float, default=3)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    from tests.test_serve import Server, _free_port, _port_free, _respondent, site

    site_info = site.__wrapped__(Path(tempfile.mkdtemp(prefix="zero-loss-")))
    port = _free_port()
    server = Server(site_info, port, workers=args.workers)
    acknowledged: list[str] = []
    stop = threading.Event()
    clients = [
        threading.Thread(
            target=_respondent, args=(lambda: port, site_info["code"], acknowledged, stop)
        )
        for _ in range(args.clients)
    ]
    for c in clients:
        c.start()
    start = time.time()
    kills = restarts = 0
    restart_at = {args.seconds / 3, 2 * args.seconds / 3}
    while time.time() - start < args.seconds:
        time.sleep(args.kill_every)
        elapsed = time.time() - start
        due = [t for t in restart_at if elapsed >= t]
        if due:
            restart_at -= set(due)
            server.kill()
            while not _port_free(port):
                time.sleep(0.05)
            server = Server(site_info, port, workers=args.workers)
            restarts += 1
        else:
            for worker in server.workers()[:1]:
                os.kill(worker, signal.SIGKILL)
                kills += 1
    stop.set()
    for c in clients:
        c.join(120)
    server.stop()
    engine = create_engine(site_info["uri"])
    with engine.connect() as conn:
        stored = [k for (k,) in conn.execute(text("SELECT submission_key FROM responses"))]
    engine.dispose()
    lost = set(acknowledged) - set(stored)
    extra = set(stored) - set(acknowledged)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {args.clients} respondents, {args.workers} workers, "
          f"{args.seconds:g} s, a worker SIGKILLed every {args.kill_every:g} s")  # fmt: skip
    print(f"acknowledged {len(acknowledged)}, stored {len(stored)} "
          f"({len(set(stored))} distinct keys), lost {len(lost)}, unacknowledged extra "
          f"{len(extra)}; {kills} workers killed, {restarts} full restarts")  # fmt: skip
    sys.exit(0 if not lost and not extra and len(stored) == len(set(stored)) else 1)


if __name__ == "__main__":
    main()
