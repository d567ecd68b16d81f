"""Anomalous scoring: flags on responses and on raters, each with a reason code and numbers.

Sentences are made where the reader's language is known (the pages and the command);
here every flag carries its numbers in ``details``.

Reason codes (a fixed vocabulary, used in the analysis JSON):

per response  ``speeder``, ``duplicate``, ``surge``, ``in_surge`` (not suspect),
              ``burst`` (stored runs only), ``network``, ``straightline``, ``outlier``
per rater     ``flat_rater``, ``lenient``, ``severe``, ``collusion``, ``own_unit``

Which flags make a response *suspect* (kept, excluded from scores until reviewed)
is decided in :data:`SUSPECT_RESPONSE_REASONS` and :data:`SUSPECT_RATER_REASONS`:
only evidence about *how* a response was submitted, or about its rater. A straight
line alone is what many honest, satisfied citizens give; being far from the
consensus alone is what an honest dissatisfied citizen gives: both are reported,
neither silences a response. Every rule is O(n log n) (sorting) or better.
See docs/statistics.md for the thresholds and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from evalsurvey.stats.raters import RaterEffects, rater_effects

# ``surge`` and ``in_surge`` come from :mod:`evalsurvey.stats.surges`; ``burst`` (the rule
# that marked every response of a surging window) stays in the vocabulary for stored runs
RESPONSE_REASONS = (
    "speeder",
    "duplicate",
    "surge",
    "in_surge",
    "burst",
    "network",
    "straightline",
    "outlier",
)
RATER_REASONS = ("flat_rater", "lenient", "severe", "collusion", "own_unit")
SUSPECT_RESPONSE_REASONS = frozenset({"speeder", "duplicate", "surge", "burst", "network"})
SUSPECT_RATER_REASONS = frozenset({"flat_rater", "collusion", "own_unit"})
MAD_TO_SD = 1.4826  # MAD of a normal distribution × 1.4826 = its SD


@dataclass(frozen=True)
class Flags:
    """The items (responses or raters) flagged for one reason."""

    reason: str
    index: NDArray[np.int64]
    strength: NDArray[np.float64]
    details: tuple[dict[str, float], ...]  # the numbers behind each flag, by name

    @classmethod
    def empty(cls, reason: str) -> Flags:
        return cls(reason, np.zeros(0, np.int64), np.zeros(0), ())


def _int_codes(values: ArrayLike, name: str) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer codes (use np.unique(..., return_inverse))")
    return arr.astype(np.int64)


def _float_1d(values: ArrayLike, name: str, n: int | None = None) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D")
    if n is not None and arr.size != n:
        raise ValueError(f"{name} has {arr.size} values; expected {n}")
    return arr


def _group_medians(
    values: NDArray[np.float64], groups: NDArray[np.int64], n_groups: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Median and count of ``values`` per group (NaN values ignored), by one sort."""
    ok = ~np.isnan(values)
    v, g = values[ok], groups[ok]
    order = np.lexsort((v, g))
    v, g = v[order], g[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    med = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    med[has] = (v[lo] + v[hi]) / 2
    return med, counts


def speeders(
    duration: ArrayLike, questionnaire: ArrayLike, ratio: float = 0.3, min_responses: int = 20
) -> Flags:
    r"""Responses answered far faster than their questionnaire's typical duration.

    Flag when :math:`d < r \cdot \operatorname{median}(d_q)`, the median taken over
    all responses to the same questionnaire ``q`` (robust to the speeders
    themselves). Strength is :math:`\operatorname{median}(d_q) / d`.

    Parameters
    ----------
    duration : array_like of float, shape (n,)
        Seconds from page served to submission; NaN when unknown (never flagged).
    questionnaire : array_like of int, shape (n,)
        Questionnaire (version) code of each response.
    ratio : float, default 0.3
        Fraction of the typical duration below which a response is a speeder.
    min_responses : int, default 20
        A questionnaire needs this many timed responses for a typical duration.

    References
    ----------
    Greszki, R., Meyer, M., & Schoen, H. (2015). Exploring the effects of removing
    "too fast" responses and respondents from web surveys. Public Opinion Quarterly,
    79(2), 471-503.
    """
    if not 0 < ratio < 1:
        raise ValueError(f"ratio must be between 0 and 1; got {ratio}")
    q = _int_codes(questionnaire, "questionnaire")
    d = _float_1d(duration, "duration", q.size)
    if q.size == 0:
        return Flags.empty("speeder")
    med, counts = _group_medians(np.where(d >= 0, d, np.nan), q, int(q.max()) + 1)
    typical = med[q]
    enough = counts[q] >= min_responses
    hit = enough & ~np.isnan(d) & (d >= 0) & (d < ratio * typical)
    idx = np.nonzero(hit)[0]
    strength = typical[idx] / np.maximum(d[idx], 0.5)
    text = tuple(
        {"seconds": float(d[i]), "typical_seconds": float(typical[i]), "times_faster": float(s)}
        for i, s in zip(idx, strength, strict=True)
    )
    return Flags("speeder", idx, strength, text)


def duplicates(
    device: ArrayLike, unit: ArrayLike, time: ArrayLike, window: float = 24 * 3600
) -> Flags:
    """Later submissions from the same device for the same unit within ``window`` seconds.

    The first submission of a run is not flagged; each later one is, with strength
    the number of earlier submissions in the run.

    Parameters
    ----------
    device : array_like of int, shape (n,)
        Device code; negative for unknown (never flagged).
    unit : array_like of int, shape (n,)
    time : array_like of float, shape (n,)
        Submission times in seconds.
    window : float, default 86400 (one day)
    """
    if window <= 0:
        raise ValueError(f"window must be positive; got {window}")
    dev = _int_codes(device, "device")
    u = _int_codes(unit, "unit")
    t = _float_1d(time, "time", dev.size)
    if u.size != dev.size:
        raise ValueError("device, unit and time must have one length")
    known = np.nonzero(dev >= 0)[0]
    order = known[np.lexsort((t[known], u[known], dev[known]))]
    if order.size < 2:
        return Flags.empty("duplicate")
    same = (dev[order][1:] == dev[order][:-1]) & (u[order][1:] == u[order][:-1])
    close = np.diff(t[order]) <= window
    link = same & close
    # run position: how many linked predecessors in a row
    breaks = np.concatenate(([True], ~link))
    starts = np.nonzero(breaks)[0]
    run = np.arange(order.size) - np.repeat(starts, np.diff(np.append(starts, order.size)))
    hit = run > 0
    idx = order[hit]
    strength = run[hit].astype(np.float64)
    text = tuple({"earlier": float(s), "window_hours": window / 3600} for s in strength)
    back = np.argsort(idx)
    return Flags("duplicate", idx[back], strength[back], tuple(text[i] for i in back))


MIN_BASELINE_DAYS = 5  # fewer days than this: the baseline comes from comparable units
TRIM_DAYS = 0.2  # the busiest share of days left out of a unit's usual hourly rate
PEER_FACTOR = 3.0  # a unit may be this much busier than the typical one of its type
EARLIER_FACTOR = 3.0  # ... and this much busier than it was in the earlier period
FLOOR_PER_HOUR = 0.2  # the least usual rate assumed for any unit and hour
# see bursts: how much of a long window's excess a response's surroundings need, and how
# unlikely under the usual rate they must be themselves
NEAR_SHARE = 0.5
NEAR_P = 0.001


def usual_rates(
    unit: ArrayLike,
    time: ArrayLike,
    day_offset: float = 0.0,
    earlier: ArrayLike | None = None,
) -> NDArray[np.float64]:
    r"""Each unit's usual submissions per hour, for each hour of the day: a baseline that a
    flood cannot move.

    Counts per unit, day and hour of day :math:`N_{udh}`; the usual rate
    :math:`\hat r_{uh}` is their mean over the days with the busiest ``TRIM_DAYS``
    (20 %) left out, so a flood on a few days does not raise it, and each hour keeps its
    own level (opening time is busier than lunchtime). When the data span fewer than
    ``MIN_BASELINE_DAYS`` days, a unit's own days cannot outvote a flood; then the
    baseline is ``PEER_FACTOR`` × the median over comparable units (the units analysed
    together are of one type) of their rate at that hour. Where the unit's rates in an
    earlier period are given, the baseline is at most ``EARLIER_FACTOR`` × those: a flood that
    comes back on most days (every morning at ten, say) raises even the quieter days, but not
    what the unit saw before it started. Never below ``FLOOR_PER_HOUR``.

    Parameters
    ----------
    unit : array_like of int, shape (n,)
    time : array_like of float, shape (n,)
        Submission times in seconds since the epoch (UTC).
    day_offset : float, default 0
        Seconds east of UTC of the local day (28800 for Beijing), for the hour of day.
    earlier : array_like of float, shape (units, 24), optional
        The same units' usual rates in an earlier period (this function on that period's
        data, the units coded alike); a row of NaN for a unit not seen then.

    Returns
    -------
    ndarray, shape (units, 24)
    """
    u = _int_codes(unit, "unit")
    t = _float_1d(time, "time", u.size)
    n_units = int(u.max()) + 1 if u.size else 0
    if n_units == 0:
        return np.zeros((0, 24))
    local = t + day_offset
    day = np.floor(local / 86400).astype(np.int64)
    hour = np.floor((local % 86400) / 3600).astype(np.int64)
    day -= day.min()
    n_days = int(day.max()) + 1
    cells = np.bincount((u * n_days + day) * 24 + hour, minlength=n_units * n_days * 24)
    counts = cells.reshape(n_units, n_days, 24).astype(np.float64)
    keep = max(1, int(np.ceil(n_days * (1 - TRIM_DAYS))))
    usual = np.sort(counts, axis=1)[:, :keep, :].mean(axis=1)  # the quietest days' mean
    if n_days < MIN_BASELINE_DAYS:
        active = np.bincount(u, minlength=n_units) > 0
        peer = np.median(counts.mean(axis=1)[active], axis=0)
        usual = np.broadcast_to(PEER_FACTOR * peer, usual.shape).copy()
    if earlier is not None:
        before = np.full(usual.shape, np.nan)
        given = np.asarray(earlier, dtype=np.float64)
        if given.ndim != 2 or given.shape[1] != 24:
            raise ValueError(f"earlier must be shaped (units, 24); got {given.shape}")
        rows = min(given.shape[0], n_units)
        before[:rows] = given[:rows]
        cap = EARLIER_FACTOR * np.maximum(before, FLOOR_PER_HOUR)
        usual = np.where(np.isnan(cap), usual, np.minimum(usual, cap))
    return np.maximum(usual, FLOOR_PER_HOUR)


def _cumulative(usual: NDArray[np.float64], u: NDArray[np.int64], local: NDArray[np.float64]):
    """The expected number of submissions of unit ``u`` from the epoch to ``local`` time:
    the integral of its usual hourly rate, repeated day after day."""
    per_day = usual.sum(axis=1)
    before_hour = np.concatenate((np.zeros((usual.shape[0], 1)), np.cumsum(usual, axis=1)), axis=1)
    day = np.floor(local / 86400)
    into = local - day * 86400
    hour = np.minimum(np.floor(into / 3600).astype(np.int64), 23)
    return day * per_day[u] + before_hour[u, hour] + usual[u, hour] * (into - hour * 3600) / 3600


def bursts(
    unit: ArrayLike,
    time: ArrayLike,
    window: float = 600,
    alpha: float = 0.01,
    min_count: int = 8,
    day_offset: float = 0.0,
    scales: tuple[float, ...] = (3600.0, 86400.0),
    earlier: ArrayLike | None = None,
    exempt: ArrayLike | None = None,
) -> Flags:
    r"""Responses inside a surge of submissions far above their unit's usual rate.

    For each response and each window length :math:`w` (``window``, then ``scales``: ten
    minutes, an hour, a day, so a flood spread over hours is found as well as a short
    one), :math:`c` counts the unit's submissions within :math:`w` centred on it, and
    :math:`\mu` is what the unit's usual rates give for that span
    (:func:`usual_rates`: its quieter days hour by hour, or comparable units over a short
    span — a flood cannot raise it, however large, so a surge that makes up most of a
    unit's responses is still a surge). Under the usual rate :math:`c - 1 \sim
    \operatorname{Poisson}(\mu)`. Flag when :math:`P(C \ge c) < \alpha / (n k)`
    (Bonferroni over the n responses and the k window lengths) and :math:`c \ge`
    ``min_count``. Devices and networks play no part, so a surge spread over many phones,
    or a script that drops its cookies and changes its address, is caught as well.
    Strength is :math:`-\log_{10} P` at the window where P is smallest.

    Parameters
    ----------
    unit : array_like of int, shape (n,)
    time : array_like of float, shape (n,)
        Submission times in seconds since the epoch.
    window : float, default 600
        The shortest window (seconds).
    alpha : float, default 0.01
        Family-wise error rate over all responses and windows.
    min_count : int, default 8
        Smallest surge worth a person's review.
    day_offset : float, default 0
        Seconds east of UTC of the office's day (for the hour of day).
    scales : tuple of float, default (3600, 86400)
        Longer windows also scanned.
    earlier : array_like of float, shape (units, 24), optional
        The units' usual rates in an earlier period (see :func:`usual_rates`).
    exempt : array_like of bool, shape (n,), optional
        Responses that cannot be stuffed, however close together: one per single-use
        invitation (members, departments, a panel answering when asked). They are neither
        flagged nor counted; the rule looks at the others only.
    """
    if exempt is not None:
        keep = np.flatnonzero(~np.asarray(exempt, dtype=bool))
        found = bursts(
            np.asarray(unit)[keep],
            np.asarray(time)[keep],
            window,
            alpha,
            min_count,
            day_offset,
            scales,
            earlier,
        )
        return Flags("burst", keep[found.index], found.strength, found.details)
    if window <= 0 or not 0 < alpha < 1 or any(w <= 0 for w in scales):
        raise ValueError("windows must be positive and alpha between 0 and 1")
    u = _int_codes(unit, "unit")
    t = _float_1d(time, "time", u.size)
    n = u.size
    if n < min_count:
        return Flags.empty("burst")
    usual = usual_rates(u, t, day_offset, earlier)
    order = np.lexsort((t, u))
    us, ts = u[order], t[order]
    local = ts + day_offset
    offset = float(np.nanmax(np.abs(ts))) * 4 + max(window, *scales) * 4 + 1.0
    keys = us * offset + ts  # search on (unit, time): counts stay within each unit
    windows = (window, *scales)
    best_p = np.ones(n)
    best = np.zeros((n, 3))  # count, window, expected at the smallest P
    previous = None
    for w in windows:
        lo = np.searchsorted(keys, keys - w / 2, side="left")
        hi = np.searchsorted(keys, keys + w / 2, side="right")
        c = hi - lo
        mu = _cumulative(usual, us, local + w / 2) - _cumulative(usual, us, local - w / 2)
        candidates = c >= min_count
        if previous is not None:
            # a long window also holds responses far from the surge: only those whose own
            # neighbourhood (the previous, shorter window) is itself well above the usual
            # rate and carries at least half of the long window's excess belong to it
            c_near, mu_near = previous
            excess = (c - 1) / np.maximum(mu, 1e-12)
            near_p = sps.poisson.sf(c_near - 2, mu_near)
            candidates &= (near_p < NEAR_P) & (c_near - 1 >= NEAR_SHARE * mu_near * excess)
        p = np.ones(n)
        p[candidates] = sps.poisson.sf(c[candidates] - 2, mu[candidates])
        better = p < best_p
        best_p = np.where(better, p, best_p)
        best[better] = np.column_stack((c, np.full(n, w), mu))[better]
        previous = (c, mu)
    hit = best_p < alpha / (n * len(windows))
    idx_sorted = np.nonzero(hit)[0]
    idx = order[idx_sorted]
    strength = -np.log10(np.maximum(best_p[idx_sorted], 1e-300))
    text = tuple(
        {
            "count": float(best[i, 0]),
            "window_minutes": float(best[i, 1] / 60),
            "expected": float(best[i, 2]),
        }
        for i in idx_sorted
    )
    back = np.argsort(idx)
    return Flags("burst", idx[back], strength[back], tuple(text[i] for i in back))


SHARE_FACTOR = 2.0  # one network may hold twice the typical busiest network's share
MIN_SHARE, MAX_SHARE = 0.05, 0.6  # the share baseline is kept between these


def network_repeats(
    network: ArrayLike,
    device: ArrayLike,
    unit: ArrayLike,
    time: ArrayLike,
    alpha: float = 0.01,
    min_count: int = 8,
    windows: tuple[float, ...] = (3600.0, 86400.0, float("inf")),
) -> Flags:
    r"""Responses from new devices on one network prefix that make up far more of a unit's
    submissions than one network does anywhere else: a script that drops its cookies is a
    new device every time, but it keeps its network.

    Only *fresh* responses count: those whose device submitted nothing else (a script's
    dropped cookie), from a known network prefix. For each unit :math:`u` and prefix
    :math:`p` the baseline share :math:`s` is what honest traffic shows across the units
    analysed together (one type): the median over units of their busiest prefix's share of
    fresh responses, times ``SHARE_FACTOR``, kept within [``MIN_SHARE``, ``MAX_SHARE``] — a
    service hall's Wi-Fi carries a share of every window's citizens, and a flood at one
    window does not move a median over all of them. For each fresh response and window
    length :math:`w` (an hour, a day, the whole data), :math:`c_p` counts the fresh
    responses from its prefix to its unit within :math:`w` centred on it and :math:`c_u`
    all of the unit's fresh responses there; under honest traffic
    :math:`c_p \sim \operatorname{Binomial}(c_u, s)`. Flag when
    :math:`P(C \ge c_p) < lpha / (n k)` (Bonferroni over n responses and k windows) and
    :math:`c_p \ge` ``min_count``. Strength is :math:`-\log_{10} P` at the smallest P.

    A flood spread evenly over the whole cycle doubles a unit's usual rate and so escapes
    :func:`bursts`; from one network it is caught here. A flood over many prefixes is
    left to :func:`bursts` (see docs/statistics.md for what neither sees).

    Parameters
    ----------
    network : array_like of int, shape (n,)
        Network prefix code; negative for unknown (never counted).
    device : array_like of int, shape (n,)
        Device code; negative for unknown (never counted: invitations carry none).
    unit : array_like of int, shape (n,)
    time : array_like of float, shape (n,)
        Submission times in seconds.
    alpha : float, default 0.01
    min_count : int, default 8
    windows : tuple of float, default (3600, 86400, inf)
    """
    if not 0 < alpha < 1 or not windows or any(w <= 0 for w in windows):
        raise ValueError("windows must be positive and alpha between 0 and 1")
    net = _int_codes(network, "network")
    dev = _int_codes(device, "device")
    u = _int_codes(unit, "unit")
    t = _float_1d(time, "time", u.size)
    if not net.size == dev.size == u.size:
        raise ValueError("network, device, unit and time must have one length")
    n = u.size
    # minlength 1: with no device known, uses[0] below must still exist (it counts nothing)
    uses = np.bincount(dev[dev >= 0], minlength=1)
    fresh = np.nonzero((net >= 0) & (dev >= 0) & (uses[np.maximum(dev, 0)] == 1))[0]
    if fresh.size < min_count:
        return Flags.empty("network")
    fu, fn, ft = u[fresh], net[fresh], t[fresh]
    # the typical busiest network's share of a unit's fresh responses
    pair = fu.astype(np.int64) * (int(fn.max()) + 1) + fn
    pairs, per_pair = np.unique(pair, return_counts=True)
    pair_unit = pairs // (int(fn.max()) + 1)
    per_unit = np.bincount(fu)
    top = np.zeros(per_unit.size)
    np.maximum.at(top, pair_unit, per_pair)
    active = per_unit > 0
    share = float(np.clip(SHARE_FACTOR * np.median(top[active] / per_unit[active]),
                          MIN_SHARE, MAX_SHARE))  # fmt: skip
    span = float(ft.max() - ft.min()) + 1.0
    order_u = np.lexsort((ft, fu))
    key_u = fu[order_u] * (span * 4 + 1) + (ft[order_u] - ft.min())
    order_p = np.lexsort((ft, pair))
    key_p = pair[order_p] * (span * 4 + 1) + (ft[order_p] - ft.min())
    at_p = np.empty(fresh.size, np.int64)
    at_p[order_p] = np.arange(fresh.size)
    best_p = np.ones(fresh.size)
    best = np.zeros((fresh.size, 3))  # c_p, c_u, window (hours; inf = the whole data)
    for w in windows:
        half = min(w, span * 2) / 2
        kp = key_p[at_p]
        c_p = np.searchsorted(key_p, kp + half, "right") - np.searchsorted(key_p, kp - half)
        mine_u = fu * (span * 4 + 1) + (ft - ft.min())
        c_u = np.searchsorted(key_u, mine_u + half, "right") - np.searchsorted(key_u, mine_u - half)
        candidates = c_p >= min_count
        p = np.ones(fresh.size)
        p[candidates] = sps.binom.sf(c_p[candidates] - 1, c_u[candidates], share)
        better = p < best_p
        best_p = np.where(better, p, best_p)
        reach = min(w, span) / 3600  # hours (the whole data: its span)
        best[better] = np.column_stack((c_p, c_u, np.full(fresh.size, reach)))[better]
    hit = best_p < alpha / (n * len(windows))
    idx = fresh[hit]
    strength = -np.log10(np.maximum(best_p[hit], 1e-300))
    text = tuple(
        {"count": float(b[0]), "of": float(b[1]), "window_hours": float(b[2]),
         "usual_share": share}
        for b in best[hit]
    )  # fmt: skip
    back = np.argsort(idx)
    return Flags("network", idx[back], strength[back], tuple(text[i] for i in back))


def straightliners(items: ArrayLike, min_items: int = 3) -> Flags:
    """Responses giving the same answer to every item (at least ``min_items`` answered).

    Reported, never suspect on its own: many honest, satisfied citizens do exactly
    this. Strength is the number of items answered.
    """
    x = np.asarray(items, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("items must be 2-D, shaped (responses, items)")
    answered = (~np.isnan(x)).sum(axis=1)
    if x.shape[1] == 0:
        return Flags.empty("straightline")
    enough = answered >= min_items
    lo = np.where(enough[:, None], x, 0.0)
    # with NaN ignored: min == max over the answered items
    lo_v = np.nanmin(np.where(np.isnan(lo), np.inf, lo), axis=1)
    hi_v = np.nanmax(np.where(np.isnan(lo), -np.inf, lo), axis=1)
    hit = enough & (lo_v == hi_v)
    idx = np.nonzero(hit)[0]
    text = tuple({"answer": float(lo_v[i]), "items": float(answered[i])} for i in idx)
    return Flags("straightline", idx, answered[idx].astype(np.float64), text)


def outliers(
    score: ArrayLike,
    unit: ArrayLike,
    threshold: float = 3.5,
    min_n: int = 10,
    scale_floor: float = 5.0,
) -> Flags:
    r"""Responses far from their unit's consensus (robust z-score).

    :math:`z = (s - \operatorname{median}_u) / \max(1.4826\,\mathrm{MAD}_u,\ f)`,
    flagged when :math:`|z| >` ``threshold`` (Iglewicz & Hoaglin's 3.5) in a unit with
    at least ``min_n`` scored responses. ``scale_floor`` (points on the 0–100
    scale) stops a unanimous unit (MAD = 0) from flagging every small difference.
    Reported, never suspect on its own: a single very dissatisfied citizen is the
    feedback rectification needs.

    References
    ----------
    Iglewicz, B., & Hoaglin, D. C. (1993). How to Detect and Handle Outliers. ASQC.
    """
    u = _int_codes(unit, "unit")
    s = _float_1d(score, "score", u.size)
    if u.size == 0:
        return Flags.empty("outlier")
    n_units = int(u.max()) + 1
    med, counts = _group_medians(s, u, n_units)
    mad, _ = _group_medians(np.abs(s - med[u]), u, n_units)
    scale = np.maximum(MAD_TO_SD * np.nan_to_num(mad), scale_floor)[u]
    z = (s - med[u]) / scale
    hit = (counts[u] >= min_n) & ~np.isnan(z) & (np.abs(z) > threshold)
    idx = np.nonzero(hit)[0]
    text = tuple(
        {"score": float(s[i]), "unit_median": float(med[u[i]]), "robust_z": float(z[i])}
        for i in idx
    )
    return Flags("outlier", idx, np.abs(z[idx]), text)


@dataclass(frozen=True)
class RaterReport:
    """Rater-level flags for one group of identified raters."""

    effects: RaterEffects | None
    flags: dict[str, Flags]
    conflict: NDArray[np.bool_]  # (units, raters): a rater's own unit


def rater_flags(
    x: ArrayLike,
    own_unit: ArrayLike | None = None,
    alpha: float = 0.05,
    min_effect: float = 10.0,
    robust_z: float = 3.0,
    own_min_effect: float = 3.0,
    flat_ratio: float = 0.5,
    min_units: int = 5,
    collusion_r: float = 0.6,
    min_common: int = 8,
) -> RaterReport:
    r"""Flags on identified raters from their (units, raters) score matrix (0–100).

    Own-unit ratings (``own_unit[j]`` is the row of rater ``j``'s own unit, or -1)
    are conflicts of interest: they are left out of every fit below. Then, with
    the additive fit of :func:`rater_effects`:

    - ``lenient`` / ``severe``: the rater's severity :math:`eta_j` is extreme among
      the panel's raters and large in practical terms. With :math:`m_{-j}` and
      :math:`\mathrm{MAD}_{-j}` the median and median absolute deviation of the *other*
      tested raters' severities (at least three of them),

      .. math:: z_j = rac{eta_j - m_{-j}}{1.4826\,\mathrm{MAD}_{-j}}

      and a rater is flagged when :math:`|z_j| >` ``robust_z`` and
      :math:`|eta_j - m_{-j}| \ge` ``min_effect`` points (default 10, a tenth of the
      scale). A severity that is merely *statistically* non-zero is normal: every
      person scores a little high or low, and on a typical panel a test against zero
      flags half of the honest experts (Myford & Wolfe 2003, on rater severity as a
      matter of degree; Iglewicz & Hoaglin 1993 for the robust z).
    - ``flat_rater`` ("balancing"): the rater's SD across units :math:`s_j` is below
      ``flat_ratio`` times the median rater's :math:`s_0`, and
      :math:`(n_j - 1) s_j^2 / s_0^2` is improbably small under
      :math:`\chi^2_{n_j - 1}` (Bonferroni over the raters at family-wise ``alpha``).
    - ``collusion``: two raters' residuals (deviations from the consensus after
      severity) correlate at :math:`r \ge` ``collusion_r`` over at least
      ``min_common`` shared units, with Fisher's :math:`z = \operatorname{atanh}(r)
      \sqrt{m - 3}` beyond the one-sided Bonferroni critical value. ``details`` name
      the partner raters by column (``partners``) and their correlations.
    - ``own_unit``: the rater's own-unit rating exceeds what the fit expects from
      the others and the rater's own severity, :math:`\hatlpha_u + \hateta_j`,
      by ``own_min_effect`` points and by the one-sided critical value times
      :math:`\hat\sigma \sqrt{1 + 1/n_u}`.

    Returns
    -------
    RaterReport
        ``effects`` is None when the design cannot be fitted (e.g. a single rater).

    Raises
    ------
    ValueError
        ``x`` is not 2-D, ``own_unit`` has the wrong length, or a threshold is not
        positive.
    """
    if not (min_effect >= 0 and robust_z > 0):
        raise ValueError("min_effect must be >= 0 and robust_z > 0")
    arr = np.array(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError("x must be 2-D, shaped (units, raters)")
    n_units, k = arr.shape
    own = np.full(k, -1, np.int64) if own_unit is None else np.asarray(own_unit, np.int64)
    if own.shape != (k,):
        raise ValueError(f"own_unit must have one entry per rater ({k})")
    conflict = np.zeros_like(arr, dtype=bool)
    has_own = (own >= 0) & (own < n_units)
    conflict[own[has_own], np.nonzero(has_own)[0]] = True
    conflict &= ~np.isnan(arr)
    clean = np.where(conflict, np.nan, arr)
    flags = {r: Flags.empty(r) for r in RATER_REASONS}
    keep = (~np.isnan(clean)).sum(axis=0) > 0
    if keep.sum() < 2:
        return RaterReport(None, flags, conflict)
    try:
        sub = rater_effects(clean[:, keep][(~np.isnan(clean[:, keep])).any(axis=1)])
    except ValueError:
        return RaterReport(None, flags, conflict)
    # refit in full index space for reporting
    rows_kept = (~np.isnan(clean[:, keep])).any(axis=1)
    severity = np.full(k, np.nan)
    severity_se = np.full(k, np.nan)
    severity[keep] = sub.severity
    severity_se[keep] = sub.severity_se
    unit_scores = np.full(n_units, np.nan)
    unit_scores[rows_kept] = sub.unit_scores
    residuals = np.full_like(arr, np.nan)
    residuals[np.ix_(rows_kept, keep)] = sub.residuals
    n_rated = (~np.isnan(clean)).sum(axis=0)
    effects = RaterEffects(
        unit_scores,
        severity,
        severity_se,
        sub.sigma,
        sub.df_resid,
        n_rated.astype(np.int64),
        residuals,
    )
    tested = keep & (n_rated >= min_units)
    n_tests = max(int(tested.sum()), 1)

    # lenient / severe: extreme among the others, and large enough to matter
    gap, z = _severity_outliers(severity, tested)
    for reason, sign in (("lenient", 1), ("severe", -1)):
        hit = tested & (sign * z > robust_z) & (sign * gap >= min_effect)
        idx = np.nonzero(hit)[0]
        flags[reason] = Flags(
            reason,
            idx,
            np.abs(z[idx]),
            tuple(
                {
                    "points": float(abs(gap[j])),
                    "severity": float(severity[j]),
                    "robust_z": float(z[j]),
                }
                for j in idx
            ),
        )

    # flat rater
    sd = np.array([np.nanstd(clean[:, j], ddof=1) if n_rated[j] >= 2 else np.nan for j in range(k)])
    s0 = float(np.nanmedian(sd[tested])) if tested.any() else float("nan")
    if s0 > 0:
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            # a ratio first: squaring tiny or huge SDs apart would under- or overflow
            stat = (n_rated - 1) * (sd / s0) ** 2
        p_flat = np.where(tested, sps.chi2.cdf(stat, np.maximum(n_rated - 1, 1)), 1.0)
        hit = tested & (sd < flat_ratio * s0) & (p_flat < alpha / n_tests)
        idx = np.nonzero(hit)[0]
        flags["flat_rater"] = Flags(
            "flat_rater",
            idx,
            s0 / np.maximum(sd[idx], 1e-9),
            tuple({"sd": float(sd[j]), "units": float(n_rated[j]), "typical_sd": s0} for j in idx),
        )

    # collusion: residual correlations between pairs of raters
    present = ~np.isnan(residuals)
    common = present.T.astype(np.float64) @ present.astype(np.float64)
    res0 = np.where(present, residuals, 0.0)
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k) if common[a, b] >= min_common]
    hits: dict[int, list[tuple[int, float]]] = {}
    if pairs:
        crit_c = sps.norm.ppf(1 - alpha / len(pairs))
        for a, b in pairs:
            both = present[:, a] & present[:, b]
            ra, rb = res0[both, a], res0[both, b]
            da, db = ra - ra.mean(), rb - rb.mean()
            with np.errstate(over="ignore", invalid="ignore"):
                denom = np.sqrt(da @ da) * np.sqrt(db @ db)
                r = float(da @ db / denom) if denom > 0 and np.isfinite(denom) else np.nan
            if not np.isfinite(r):
                continue
            m = int(both.sum())
            zc = np.arctanh(min(r, 0.999999)) * np.sqrt(m - 3)
            if r >= collusion_r and zc > crit_c:
                hits.setdefault(a, []).append((b, r))
                hits.setdefault(b, []).append((a, r))
    if hits:
        idx = np.array(sorted(hits), np.int64)
        flags["collusion"] = Flags(
            "collusion",
            idx,
            np.array([max(r for _, r in hits[j]) for j in idx]),
            tuple(
                {
                    "partners": tuple(float(o) for o, _r in hits[j]),
                    "r": tuple(float(r) for _o, r in hits[j]),
                }
                for j in idx
            ),
        )

    # own unit
    if conflict.any() and not np.isnan(effects.sigma):
        n_others = (~np.isnan(clean)).sum(axis=1)
        rows, cols = np.nonzero(conflict)
        expected = unit_scores[rows] + severity[cols]
        dev = arr[rows, cols] - expected
        scale = effects.sigma * np.sqrt(1 + 1 / np.maximum(n_others[rows], 1))
        zo = dev / scale
        crit_o = sps.norm.ppf(1 - alpha / max(rows.size, 1))
        hit = (~np.isnan(zo)) & (zo > crit_o) & (dev >= own_min_effect)
        idx = cols[hit]
        flags["own_unit"] = Flags(
            "own_unit",
            idx,
            zo[hit],
            tuple(
                {"points": float(d), "z": float(zz)}
                for d, zz in zip(dev[hit], zo[hit], strict=True)
            ),
        )
    return RaterReport(effects, flags, conflict)


def _severity_outliers(
    severity: NDArray[np.float64], tested: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each tested rater's gap to the median of the *other* tested raters, and its robust z.

    Leave-one-out, so one extreme rater cannot hide by pulling the median and MAD
    towards itself. Fewer than three others: no judgement (NaN).
    """
    k = severity.size
    gap = np.full(k, np.nan)
    z = np.full(k, np.nan)
    ids = np.nonzero(tested & ~np.isnan(severity))[0]
    if ids.size < 4:
        return gap, z
    for j in ids:
        others = severity[ids[ids != j]]
        median = float(np.median(others))
        mad = float(np.median(np.abs(others - median))) * MAD_TO_SD
        gap[j] = severity[j] - median
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # an MAD of 0 (the others agree exactly) makes any gap extreme; the practical
            # threshold on the gap then decides alone
            z[j] = gap[j] / mad if mad > 0 else np.sign(gap[j]) * np.inf
    return gap, z
