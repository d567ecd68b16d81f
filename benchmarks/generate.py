"""Generate a large interchange CSV: citizens rating windows plus an expert panel.

python benchmarks/generate.py OUT.csv [--units 500] [--per-unit 2000] [--items 8]
                                      [--panel-units 300] [--experts 30]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import numpy as np

from evalsurvey.csvformat import HEAD, TAIL

T0 = datetime(2026, 9, 1, tzinfo=UTC).timestamp()
PANEL_ITEMS = 4  # 4 × 25 points


def _iso(seconds: np.ndarray) -> list[str]:
    # ISO 8601 with offset, one second resolution
    stamps = seconds.astype("datetime64[s]").astype(str)
    return [s + "+00:00" for s in stamps]


def write(
    path: str,
    units: int = 500,
    per_unit: int = 2000,
    items: int = 8,
    panel_units: int = 300,
    experts: int = 30,
    seed: int = 7,
) -> int:
    rng = np.random.default_rng(seed)
    item_names = [f"q{i}" for i in range(1, items + 1)]
    panel_names = [f"p{i}" for i in range(1, PANEL_ITEMS + 1)]
    header = [*HEAD, *item_names, *panel_names, *TAIL]
    n = units * per_unit
    unit = np.repeat(np.arange(units), per_unit)
    quality = rng.normal(4.0, 0.35, units)
    level = quality[unit] + rng.normal(0, 0.5, n)
    answers = np.clip(np.rint(level[:, None] + rng.normal(0, 0.6, (n, items))), 1, 5)
    answers = answers.astype(np.int8)
    days = rng.integers(0, 90, n)
    submitted = (T0 + days * 86400 + 9 * 3600 + rng.uniform(0, 8 * 3600, n)).astype(np.int64)
    duration = rng.lognormal(np.log(75), 0.35, n).astype(np.int64) + 1
    sub_iso = _iso(submitted)
    start_iso = _iso(submitted - duration)
    digits = np.array(list("012345"))
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(header) + "\n")
        empty_panel = "," * PANEL_ITEMS
        for start in range(0, n, 100_000):
            stop = min(n, start + 100_000)
            cells = digits[answers[start:stop]]
            lines = []
            for i in range(start, stop):
                lines.append(
                    f"R{i:08d},CIT@1,W{unit[i]:04d},citizen,,,qr,{i:x}{seed:x},"
                    f"{start_iso[i]},{sub_iso[i]},{','.join(cells[i - start])}"
                    f"{empty_panel},\n"
                )
            out.write("".join(lines))
        true = rng.normal(75, 8, panel_units)
        severity = rng.normal(0, 3, experts)
        lines = []
        for c in range(panel_units):
            for e in range(experts):
                total = np.clip(true[c] + severity[e] + rng.normal(0, 4), 0, 100)
                pts = np.clip(np.round(total / 4 + rng.normal(0, 1, PANEL_ITEMS)), 0, 25)
                t = int(T0 + 30 * 86400 + c * 600 + e)
                lines.append(
                    f"P{c:04d}{e:03d},PAN@1,C{c:04d},panel,E{e:03d},,invite,,"
                    f"{_iso(np.array([t - 900]))[0]},{_iso(np.array([t]))[0]},"
                    + "," * items
                    + ",".join(str(int(p)) for p in pts)
                    + ",\n"
                )
        out.write("".join(lines))
    return n + panel_units * experts


SCALE = "1-5," + ",".join(f"p{i}=0-25" for i in range(1, PANEL_ITEMS + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--per-unit", type=int, default=2000)
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--panel-units", type=int, default=300)
    parser.add_argument("--experts", type=int, default=30)
    args = parser.parse_args()
    rows = write(args.out, args.units, args.per_unit, args.items, args.panel_units, args.experts)
    print(f"{rows} rows written to {args.out}")


if __name__ == "__main__":
    main()
