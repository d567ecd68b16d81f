"""The responses XLSX export at scale: time and peak memory.

    python benchmarks/bench_export.py [--units 100 --per-unit 10000] [--formats xlsx,sav]
                                      [--long-comment 2000] [--compression zlib|bytecode]

Fills a fresh SQLite database with ``units × per_unit`` citizen responses (the demo's
citizen questionnaire, six items and a comment), then writes the staff page's XLSX export
(:func:`evalsurvey.domain.files.exports.responses_xlsx`) and the SPSS ``.sav`` export to files and
reports each one's time and the process's peak resident memory during it (targets for
1,000,000 rows: ≤ 60 s, ≤ 300 MB). ``--long-comment N`` gives one response a comment of N
Chinese characters (3·N bytes), the widest value of its column: the ``.sav`` export's time
and size must not follow it.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--per-unit", type=int, default=10000)
    parser.add_argument("--formats", default="xlsx,sav", help="xlsx, sav or both")
    parser.add_argument("--database", help="an existing SQLite file to export from")
    parser.add_argument("--long-comment", type=int, default=0, help="characters of one comment")
    parser.add_argument("--compression", default="zlib", help=".sav: zlib or bytecode")
    args = parser.parse_args()

    from sqlalchemy import select

    from benchmarks.fill import citizen_cycle
    from evalsurvey.domain.access import Scope
    from evalsurvey.domain.files import exports
    from evalsurvey.extensions import db
    from evalsurvey.models import Cycle

    started = time.perf_counter()
    if args.database:
        from evalsurvey import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{args.database}"})
        with app.app_context():
            cycle_id = db.session.scalar(select(Cycle.id))
    else:
        app, cycle_id = citizen_cycle(args.units, args.per_unit, comment_share=0.1)
    if args.long_comment:
        from evalsurvey.models import Response

        with app.app_context():
            first = db.session.scalar(select(Response).order_by(Response.id).limit(1))
            first.comment = ("意见很长，" * args.long_comment)[: args.long_comment]
            db.session.commit()
    fill = time.perf_counter() - started
    folder = tempfile.mkdtemp(prefix="evalsurvey-export-")
    labels = {k: k for k in ("sheet", "id", "unit", "unit_name", "parent", "group", "channel",
                             "status", "started", "submitted", "seconds", "comment")}  # fmt: skip
    names = {"status": {}, "channel": {}, "group": {}}
    office = Scope("admin", None, None, True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; database ready in {fill:.1f} s; "
          f"longest comment {args.long_comment} characters")  # fmt: skip
    for kind in args.formats.split(","):
        with app.app_context(), app.test_request_context():
            cycle = db.session.get(Cycle, cycle_id)
            peak = [_rss_mb()]
            before = peak[0]
            done = threading.Event()

            def watch(peak=peak, done=done):
                while not done.is_set():
                    peak[0] = max(peak[0], _rss_mb())
                    time.sleep(0.2)

            watcher = threading.Thread(target=watch)
            watcher.start()
            path = Path(folder) / f"export.{kind}"
            t, cpu = time.perf_counter(), time.process_time()
            with open(path, "wb") as out:
                if kind == "xlsx":
                    written = exports.responses_xlsx(out, cycle, office, labels, names)
                else:
                    written = exports.responses_sav(
                        out, cycle, office, labels, compression=args.compression
                    )
            took, cpu = time.perf_counter() - t, time.process_time() - cpu
            done.set()
            watcher.join()
        print(f"{kind.upper()} export of {written:,} rows: {took:.1f} s ({cpu:.1f} s CPU), "
              f"{path.stat().st_size / 1e6:.1f} MB file; resident memory {before:.0f} MB "
              f"before, peak {peak[0]:.0f} MB")  # fmt: skip
        path.unlink()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ru_maxrss over the run {maxrss:.0f} MB")


if __name__ == "__main__":
    main()
