"""A month of citizens rating service windows, with ballot-stuffing bots planted, and the truth.

Seeded and deterministic: the same arguments give the same responses. Used by the tests
(``tests/stats/test_surges.py``, small) and by ``benchmarks/bench_surges.py`` (full size).

Honest traffic: each window has its own volume and its own answer distribution (a quality
level), an office-hours profile (a morning peak, a quiet lunch, closed on Sundays, half
days on Saturdays), day-to-day variation beyond Poisson, log-normal durations, a new phone
for most citizens (one in seven is a regular who rates several windows on different days),
300 mobile network prefixes plus each window's hall Wi-Fi. Planted among them, as on any
real month (the ``ordinary`` extras): a few phones that resubmit within hours, a few
speeders, a few short bursts of new phones from one network, and Party members answering
single-use invitations within minutes of each other.

Bots (:class:`Bot`): a script that drops its cookies (a new device every time) and submits
``ratio`` times a window's honest month of ratings over ``days`` days, spread over 24 hours,
confined to office hours, or packed into a hundred minutes; from one network prefix, a few,
or the 300 mobile prefixes the honest citizens use; answers mostly top marks, or the
window's own distribution shifted up one level; brisk but humanly possible durations.

python benchmarks/floodgen.py OUT.csv [--windows 12] [--per-window 150] [--seed 0]
    [--ratio 1.5] [--spread office|day24|minutes] [--prefixes 1] [--answers top|shifted]
"""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from evalsurvey.csvformat import HEAD, TAIL

ITEMS = [f"c{i}" for i in range(1, 6)]
T0 = datetime(2026, 9, 1, tzinfo=UTC).timestamp()  # a Tuesday, midnight UTC
BEIJING = 8 * 3600
DAYS = 30
# an honest window's hour-of-day profile (local time): a morning peak, a quiet lunch, a few
# who finish the questionnaire just before opening or after closing
HOURS = np.arange(8, 19)
HOUR_WEIGHTS = np.array([0.1, 3, 3, 2, 0.5, 1, 2, 2, 1.5, 0.3, 0.1])
# Monday..Sunday: closed on Sundays, half a day on Saturdays
WEEKDAY_WEIGHTS = np.array([1.1, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0])
MOBILE_PREFIXES = 300
HALL_WIFI = 0.1  # share of a window's citizens on its hall's Wi-Fi

# labels: what each response truly is
HONEST, BOT, SPEEDER, RESUBMIT, BURST, MEMBER = 0, 1, 2, 3, 4, 5
SUSPECT_TRUTH = (BOT, SPEEDER, RESUBMIT, BURST)  # what the analysis should make suspect


@dataclass(frozen=True)
class Bot:
    """A cookie-dropping script flooding some windows.

    ratio: its responses to a window ÷ the window's honest responses of the month.
    spread: ``office`` (09:00-17:00 local), ``day24`` (round the clock) or ``minutes``
    (a hundred minutes from 10:00). days: how many consecutive days it runs. prefixes:
    1 or a few of its own network prefixes, or ``0`` for the honest citizens' 300
    mobile prefixes. answers: ``top`` (4 or 5, mostly 5) or ``shifted`` (the window's own
    distribution one level up). windows: how many of the windows it floods (the first
    ones), 0 = all.
    """

    ratio: float = 1.5
    spread: str = "office"
    days: int = 2
    prefixes: int = 1
    answers: str = "top"
    duration: float = 45.0  # median seconds: brisk but humanly possible
    windows: int = 0

    def __post_init__(self):
        if self.spread not in ("office", "day24", "minutes"):
            raise ValueError(f"spread must be office, day24 or minutes; got {self.spread!r}")
        if self.answers not in ("top", "shifted"):
            raise ValueError(f"answers must be top or shifted; got {self.answers!r}")
        if not self.ratio > 0 or self.days < 1 or self.prefixes < 0:
            raise ValueError("ratio must be positive, days at least 1, prefixes >= 0")


# the bots the tests and the benchmark measure: every variant issue 18 names
BOTS = {
    "office": Bot(),
    "day24": Bot(spread="day24"),
    "minutes": Bot(spread="minutes"),
    "half": Bot(ratio=0.5),
    "triple": Bot(ratio=3.0),
    "mobile-prefixes": Bot(prefixes=0),
    "few-prefixes": Bot(prefixes=8, ratio=2.0),
    "shifted": Bot(answers="shifted"),
    "shifted-mobile-half": Bot(answers="shifted", prefixes=0, ratio=0.5),
}


@dataclass
class Month:
    """Generated responses as arrays, one entry per response, with the truth in ``label``."""

    response_id: list[str]
    unit: np.ndarray  # window index
    submitted: np.ndarray  # epoch seconds UTC
    duration: np.ndarray  # seconds
    items: np.ndarray  # (n, 5) answers 1-5
    device: list[str]
    network: np.ndarray  # prefix code
    invited: np.ndarray  # bool: a single-use invitation (members)
    label: np.ndarray  # HONEST, BOT, …
    n_windows: int
    members_units: int = 0
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        return self.unit.size

    def truth(self) -> np.ndarray:
        """Responses the analysis should make suspect."""
        return np.isin(self.label, SUSPECT_TRUTH)

    def unit_name(self, u: int) -> str:
        return f"W{u:03d}" if u < self.n_windows else f"M{u - self.n_windows:02d}"

    def without(self, mask: np.ndarray) -> Month:
        """The same month with the responses in ``mask`` left out (e.g. the bots)."""
        keep = ~np.asarray(mask, bool)
        return Month(
            [r for r, k in zip(self.response_id, keep, strict=True) if k],
            self.unit[keep],
            self.submitted[keep],
            self.duration[keep],
            self.items[keep],
            [d for d, k in zip(self.device, keep, strict=True) if k],
            self.network[keep],
            self.invited[keep],
            self.label[keep],
            self.n_windows,
            self.members_units,
            self.quality,
        )

    def write_csv(self, out) -> None:
        """The month as the response interchange CSV (to a path or a text stream)."""
        if isinstance(out, str):
            with open(out, "w", encoding="utf-8", newline="") as fh:
                self.write_csv(fh)
            return
        writer = csv.writer(out)
        writer.writerow(HEAD + ITEMS + TAIL)
        sub = self.submitted.astype("datetime64[s]").astype(str)
        start = np.round(self.submitted - self.duration).astype("datetime64[s]").astype(str)
        for i in range(self.n):
            member = bool(self.invited[i])
            writer.writerow(
                [
                    self.response_id[i],
                    "MEM@1" if member else "CIT@1",
                    self.unit_name(int(self.unit[i])),
                    "member" if member else "citizen",
                    "",
                    "",
                    "invite" if member else "qr",
                    self.device[i],
                    start[i] + "+00:00",
                    sub[i] + "+00:00",
                    *(str(int(v)) for v in self.items[i]),
                    "",
                ]
            )

    def table(self):
        """The analysis's response table (through the interchange CSV reader), with the
        network prefixes only the database knows."""
        from evalsurvey.analysis.reader import read_responses

        text = io.StringIO()
        self.write_csv(text)
        text.seek(0)
        table = read_responses(text)
        table.network = self.network.astype(np.int64).copy()
        return table


def _local_times(rng, n: int, days: np.ndarray) -> np.ndarray:
    """``n`` honest submission times (UTC seconds) on the given local days, office profile."""
    hour = rng.choice(HOURS, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    local = T0 + days * 86400 + hour * 3600 + rng.uniform(0, 3600, n)
    return local - BEIJING


def _answers(rng, level: np.ndarray) -> np.ndarray:
    noisy = level[:, None] + rng.normal(0, 0.6, (level.size, len(ITEMS)))
    return np.clip(np.rint(noisy), 1, 5)


def month(
    seed: int = 0,
    windows: int = 12,
    per_window: int = 150,
    bot: Bot | None = None,
    ordinary: bool = True,
    members: bool = True,
) -> Month:
    """Generate one month. ``per_window`` is the mean honest volume of a window (each window
    gets between half and twice that). ``ordinary`` plants resubmitting phones, speeders and
    short bursts; ``members`` adds branches whose members answer invitations within minutes."""
    rng = np.random.default_rng(seed)
    quality = rng.uniform(3.3, 4.4, windows)
    volume = np.maximum(20, np.rint(per_window * rng.uniform(0.5, 2.0, windows))).astype(int)
    # day-to-day variation beyond Poisson (a market day, rain): a gamma multiplier per day
    weekday = (np.arange(DAYS) + 1) % 7  # T0 is a Tuesday: Monday = 0
    day_weight = WEEKDAY_WEIGHTS[weekday][None, :] * rng.gamma(40, 1 / 40, (windows, DAYS))
    day_weight /= day_weight.sum(axis=1, keepdims=True)

    parts: dict[str, list] = {k: [] for k in ("unit", "t", "dur", "items", "net", "label")}
    devices: list[str] = []

    def add(unit, t, dur, items, net, label, devs):
        parts["unit"].append(np.asarray(unit, np.int64))
        parts["t"].append(np.asarray(t, float))
        parts["dur"].append(np.asarray(dur, float))
        parts["items"].append(np.asarray(items, float).reshape(-1, len(ITEMS)))
        parts["net"].append(np.asarray(net, np.int64))
        parts["label"].append(np.full(np.size(unit), label, np.int8))
        devices.extend(devs)

    hall = MOBILE_PREFIXES + np.arange(windows)
    n_regulars = max(1, int(volume.sum() * 0.03))
    seen: set[tuple[int, int]] = set()
    for w in range(windows):
        n = int(volume[w])
        days = rng.choice(DAYS, size=n, p=day_weight[w])
        t = _local_times(rng, n, days)
        level = quality[w] + rng.normal(0, 0.5, n)
        dur = rng.lognormal(np.log(80), 0.35, n)
        net = np.where(rng.random(n) < HALL_WIFI, hall[w], rng.integers(0, MOBILE_PREFIXES, n))
        # one in seven is a regular: a phone that also rates other windows on other days
        regular = rng.random(n) < 1 / 7
        reg_id = rng.integers(0, n_regulars, n)
        devs = []
        for i, (g, r) in enumerate(zip(regular, reg_id, strict=True)):
            # a regular rates each window once at most (twice would be a resubmission)
            fresh = not g or (r, w) in seen
            seen.add((r, w))
            devs.append(f"h{seed}-{w}-{i}" if fresh else f"reg{seed}-{r}")
        add(np.full(n, w), t, dur, _answers(rng, level), net, HONEST, devs)
    if ordinary:
        total = int(volume.sum())
        # resubmitting phones: rated, then again within a few hours
        for k in range(max(3, total // 300)):
            w = int(rng.integers(windows))
            t0 = _local_times(rng, 1, rng.integers(0, DAYS, 1))[0]
            again = int(rng.integers(1, 3))
            level = np.full(1 + again, quality[w] + 0.5)
            add(np.full(1, w), [t0], rng.lognormal(np.log(80), 0.3, 1),
                _answers(rng, level[:1]), [int(rng.integers(MOBILE_PREFIXES))], HONEST,
                [f"dup{seed}-{k}"])  # fmt: skip
            add(np.full(again, w), t0 + 600 * np.arange(1, again + 1),
                rng.lognormal(np.log(70), 0.3, again), _answers(rng, level[1:]),
                rng.integers(0, MOBILE_PREFIXES, again), RESUBMIT,
                [f"dup{seed}-{k}"] * again)  # fmt: skip
        # speeders: a few seconds for five questions
        n_fast = max(5, total // 200)
        fw = rng.integers(0, windows, n_fast)
        add(fw, _local_times(rng, n_fast, rng.integers(0, DAYS, n_fast)),
            rng.uniform(4, 15, n_fast), _answers(rng, quality[fw]),
            rng.integers(0, MOBILE_PREFIXES, n_fast), SPEEDER,
            [f"fast{seed}-{k}" for k in range(n_fast)])  # fmt: skip
        # short bursts: 30-40 new phones from one network within ten minutes, top marks
        for k in range(min(3, windows)):
            w = int(rng.integers(windows))
            m = int(rng.integers(30, 41))
            start = T0 + int(rng.integers(0, DAYS)) * 86400 + float(rng.uniform(0, 86400))
            add(np.full(m, w), start - BEIJING + rng.uniform(0, 600, m),
                rng.lognormal(np.log(60), 0.3, m), _answers(rng, np.full(m, 4.7)),
                np.full(m, 5000 + k), BURST,
                [f"burst{seed}-{k}-{j}" for j in range(m)])  # fmt: skip
    members_units = 0
    if members:
        # Party branches: thirty members answer their single-use invitations within minutes
        members_units = 3
        for b in range(members_units):
            start = T0 + (5 + 7 * b) * 86400 + 14 * 3600 - BEIJING
            m = 30
            add(np.full(m, windows + b), start + rng.uniform(0, 900, m),
                rng.lognormal(np.log(120), 0.3, m), _answers(rng, np.full(m, 4.2)),
                np.full(m, -1), MEMBER, [""] * m)  # fmt: skip
    if bot is not None:
        targets = range(windows if bot.windows == 0 else min(bot.windows, windows))
        for w in targets:
            m = int(round(bot.ratio * volume[w]))
            first = int(rng.integers(3, DAYS - bot.days - 2))
            day = first + rng.integers(0, bot.days, m)
            if bot.spread == "office":
                local = day * 86400 + 9 * 3600 + rng.uniform(0, 8 * 3600, m)
            elif bot.spread == "day24":
                local = day * 86400 + rng.uniform(0, 86400, m)
            else:
                local = first * 86400 + 10 * 3600 + rng.uniform(0, 100 * 60, m)
            if bot.answers == "top":
                items = rng.choice([4, 5], size=(m, len(ITEMS)), p=[0.2, 0.8])
            else:
                items = np.minimum(_answers(rng, quality[w] + rng.normal(0, 0.5, m)) + 1, 5)
            if bot.prefixes == 0:
                net = rng.integers(0, MOBILE_PREFIXES, m)
            else:
                net = 6000 + 10 * w + rng.integers(0, bot.prefixes, m)
            add(np.full(m, w), T0 + local - BEIJING, rng.lognormal(np.log(bot.duration), 0.3, m),
                items, net, BOT, [f"bot{seed}-{w}-{j}" for j in range(m)])  # fmt: skip

    unit = np.concatenate(parts["unit"])
    t = np.concatenate(parts["t"])
    order = np.argsort(t, kind="stable")
    label = np.concatenate(parts["label"])[order]
    return Month(
        response_id=[f"R{i:07d}" for i in range(unit.size)],
        unit=unit[order],
        submitted=np.round(t[order]),
        duration=np.round(np.concatenate(parts["dur"])[order]),
        items=np.concatenate(parts["items"])[order],
        device=[devices[i] for i in order],
        network=np.concatenate(parts["net"])[order],
        invited=label == MEMBER,
        label=label,
        n_windows=windows,
        members_units=members_units,
        quality=quality,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--windows", type=int, default=12)
    parser.add_argument("--per-window", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ratio", type=float, default=0.0, help="0: no bot")
    parser.add_argument("--spread", default="office")
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--prefixes", type=int, default=1)
    parser.add_argument("--answers", default="top")
    args = parser.parse_args()
    bot = (
        Bot(args.ratio, args.spread, args.days, args.prefixes, args.answers)
        if args.ratio > 0
        else None
    )
    data = month(args.seed, args.windows, args.per_window, bot)
    data.write_csv(args.out)
    print(f"{data.n} responses, {int(data.truth().sum())} to be found, written to {args.out}")


if __name__ == "__main__":
    main()
