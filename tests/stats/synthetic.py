"""Synthetic interchange CSVs with planted anomalies of every reason code (for tests)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from evalsurvey.csvformat import HEAD

CITIZEN_ITEMS = [f"c{i}" for i in range(1, 7)]
PANEL_ITEMS = [f"p{i}" for i in range(1, 6)]  # 0–20 points each
T0 = datetime(2026, 9, 1, tzinfo=UTC).timestamp()


@dataclass
class Planted:
    speeder: set[str] = field(default_factory=set)
    duplicate: set[str] = field(default_factory=set)
    burst: set[str] = field(default_factory=set)
    satisfied_straightliners: set[str] = field(default_factory=set)
    dissatisfied: set[str] = field(default_factory=set)  # honest and unhappy
    lenient: str = "E01"
    severe: str = "E02"
    flat: str = "E03"
    colluders: tuple[str, str] = ("E04", "E05")
    own_unit: str = "E06"
    own_unit_code: str = "C05"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def make_csv(
    path,
    seed: int = 0,
    n_units: int = 20,
    per_unit: int = 250,
    n_panel_units: int = 40,
    n_experts: int = 12,
) -> Planted:
    rng = np.random.default_rng(seed)
    planted = Planted()
    rows: list[list[str]] = []
    counter = iter(range(10**9))

    def add(
        unit, group, items, answers, submitted, duration, device="", rater="", rater_unit=""
    ) -> str:
        rid = f"R{next(counter):07d}"
        cells = dict(zip(items, answers, strict=True))
        rows.append(
            [
                rid,
                "CIT@1" if group == "citizen" else "PAN@1",
                unit,
                group,
                rater,
                rater_unit,
                "qr" if group == "citizen" else "invite",
                device,
                _iso(submitted - duration),
                _iso(submitted),
            ]
            + [str(cells.get(c, "")) for c in CITIZEN_ITEMS + PANEL_ITEMS]
            + [""]
        )
        return rid

    def office_time() -> float:
        day = int(rng.integers(0, 30))
        return T0 + day * 86400 + 9 * 3600 + float(rng.uniform(0, 8 * 3600))

    def honest_answers(level: float) -> list[int]:
        return [int(np.clip(round(level + rng.normal(0, 0.6)), 1, 5)) for _ in CITIZEN_ITEMS]

    quality = rng.normal(4.0, 0.3, n_units)
    for u in range(n_units):
        unit = f"W{u:02d}"
        for _ in range(per_unit):
            add(
                unit,
                "citizen",
                CITIZEN_ITEMS,
                honest_answers(quality[u] + rng.normal(0, 0.4)),
                office_time(),
                float(rng.lognormal(np.log(80), 0.35)),
                device=f"d{next(counter)}",
            )
    # speeders: answered in a few seconds
    for _ in range(30):
        u = int(rng.integers(n_units))
        planted.speeder.add(
            add(
                f"W{u:02d}",
                "citizen",
                CITIZEN_ITEMS,
                honest_answers(quality[u]),
                office_time(),
                float(rng.uniform(4, 15)),
                device=f"d{next(counter)}",
            )
        )
    # duplicates: one phone rating the same window again within hours
    for _ in range(20):
        u = int(rng.integers(n_units))
        device = f"dup{next(counter)}"
        t = office_time()
        add(f"W{u:02d}", "citizen", CITIZEN_ITEMS, [5] * 6, t, 90.0, device=device)
        for extra in range(int(rng.integers(1, 3))):
            planted.duplicate.add(
                add(
                    f"W{u:02d}",
                    "citizen",
                    CITIZEN_ITEMS,
                    [5] * 6,
                    t + 600 * (extra + 1),
                    85.0,
                    device=device,
                )
            )
    # a burst: 40 submissions for one window in eight minutes, each from a new phone
    start = T0 + 12 * 86400 + 20 * 3600  # 8 pm, when the window is closed
    for _ in range(40):
        planted.burst.add(
            add(
                "W03",
                "citizen",
                CITIZEN_ITEMS,
                [5, 5, 5, 4, 5, 5],
                start + float(rng.uniform(0, 480)),
                float(rng.lognormal(np.log(80), 0.3)),
                device=f"b{next(counter)}",
            )
        )
    # honest, satisfied straight-liners and honest, very dissatisfied citizens
    for _ in range(20):
        u = int(rng.integers(n_units))
        planted.satisfied_straightliners.add(
            add(
                f"W{u:02d}",
                "citizen",
                CITIZEN_ITEMS,
                [5] * 6,
                office_time(),
                float(rng.lognormal(np.log(80), 0.3)),
                device=f"s{next(counter)}",
            )
        )
    for _ in range(10):
        u = int(rng.integers(n_units))
        planted.dissatisfied.add(
            add(
                f"W{u:02d}",
                "citizen",
                CITIZEN_ITEMS,
                [1] * 6,
                office_time(),
                float(rng.lognormal(np.log(90), 0.3)),
                device=f"x{next(counter)}",
            )
        )

    # the panel: experts score communities on a 5 × 20-point rubric
    experts = [f"E{e:02d}" for e in range(1, n_experts + 1)]
    true = rng.normal(75, 8, n_panel_units)
    collusion_noise = rng.normal(0, 6, n_panel_units)
    for c in range(n_panel_units):
        unit = f"C{c:02d}"
        for e in experts:
            total = true[c] + rng.normal(0, 3)
            rater_unit = ""
            if e == planted.lenient:
                total += 15  # a practically large bias: 15 points of 100
            elif e == planted.severe:
                total -= 15
            elif e == planted.flat:
                total = 76 + rng.normal(0, 0.6)
            elif e in planted.colluders:
                total = true[c] + collusion_noise[c] + rng.normal(0, 0.5)
            elif e == planted.own_unit:
                rater_unit = planted.own_unit_code
                if unit == planted.own_unit_code:
                    total += 22
            total = float(np.clip(total, 0, 100))
            points = [round(total / 5 * 4) / 4] * 5
            add(
                unit,
                "panel",
                PANEL_ITEMS,
                points,
                office_time(),
                900.0,
                rater=e,
                rater_unit=rater_unit,
            )

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEAD + CITIZEN_ITEMS + PANEL_ITEMS + ["comment"])
        writer.writerows(rows)
    return planted


SCALE = "1-5," + ",".join(f"{p}=0-20" for p in PANEL_ITEMS)
