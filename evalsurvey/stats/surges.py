r"""Surges of a unit's public responses, each response's suspicion from its own evidence, and
scores in which no day can outweigh the unit's ordinary share.

The model, per unit (docs/statistics.md, "Surges"):

1. **Ordinary traffic** is each unit's rate per hour of the day, separately for working days
   (Monday-Friday) and weekends, estimated from its days that are not surges (two passes: the
   quieter 80 % of days first, then every day the first pass did not find surging), capped at
   3 × its rate in an earlier period and replaced by 3 × comparable units' over a short span.
   A surge cannot move it: its days are left out of it.
2. **Surge days**: a unit's day, or an hour of it, with more public responses than ordinary
   traffic allows: :math:`P(N \ge n) < \alpha / m` under a negative binomial with the
   ordinary mean :math:`\mu` and variance :math:`\mu + \mu^2/\kappa` (one
   :math:`\kappa` for all units, from their ordinary days; Bonferroni over the m cells
   tested). Its *excess share*
   :math:`\pi = (n - \mu) / n` is the prior probability that one of its responses came from
   the surge.
3. **Suspicion**: within the unit's surge days the responses are a two-component mixture,
   ordinary :math:`f_0` (the unit's own responses on other days: hour of day, answers,
   duration, whether the device is seen elsewhere, whether its network carries a crowd of new
   devices that day) and surge :math:`f_1`, fitted by EM with the mixing share fixed at
   :math:`\pi`. A response's posterior is

   .. math:: \operatorname{logit} p_i = \operatorname{logit} \pi_i
             + \sum_f \log \frac{f_{1f}(x_{if})}{f_{0f}(x_{if})}

   and it is suspect when :math:`p_i \ge 0.5` **and** the unit's surge differs from its
   ordinary traffic: the likelihood-ratio statistic
   :math:`G = 2 \sum_i \log(\pi_i e^{L_i} + 1 - \pi_i)` (:math:`L_i` the summed log ratios)
   exceeds the :math:`\chi^2` critical value at 0.001 / (units with surges) on the surge
   profile's free parameters. A surge that looks like the unit's ordinary traffic is
   reported and condemns nobody.
4. **Bounded influence**: a response's weight is :math:`1 - p_i` in a distinct surge,
   :math:`1 - \pi_i` in one that is not (its day then carries about :math:`\mu`), 1
   elsewhere; each day's total weight is then capped at
   :math:`\mu + 2\sqrt{\mu + \mu^2/\kappa}`,
   the top of its ordinary variation. Whatever the flags, a surge day counts no more than an
   ordinary busy day.

Invitation answers (single-use: members, departments, panels) are never counted nor
suspected here: their timing says nothing about how they were submitted.

References
----------
Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. JRSS B, 39(1), 1-38.
Kulldorff, M. (2001). Prospective time periodic geographical disease surveillance using a
scan statistic. JRSS A, 164(1), 61-72 (excess over a baseline that the cluster does not
enter).
Kish, L. (1965). Survey Sampling. Wiley (effective sample size of weighted means).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy import stats as sps

from evalsurvey.stats.anomalies import (
    EARLIER_FACTOR,
    FLOOR_PER_HOUR,
    MIN_BASELINE_DAYS,
    PEER_FACTOR,
    TRIM_DAYS,
    Flags,
)

FEATURES = ("hour", "answers", "pattern", "duration", "device", "network")
SURGE_ALPHA = 0.01  # family-wise, over a run's unit-days and unit-hours
DISTINCT_ALPHA = 0.001  # family-wise, over the units that surge
SUSPECT_POSTERIOR = 0.5
MAX_OVERDISPERSION = 0.5  # 1/kappa: a day's count may vary by up to 70 % beyond Poisson
KINDS = 3  # kinds of day: Monday-Friday, Saturday, Sunday
MIN_KIND_DAYS = 3  # fewer days of a kind: its baseline comes from comparable units
CROWD = 3  # new devices from one network at one unit in one day
PRIOR_RESPONSES = 10.0  # how many pooled responses a unit's own ordinary profile is mixed with
ANSWER_BINS = 11  # the response's 0-100 score to the nearest 10
MIN_LOG_SD = 0.1
EM_ROUNDS = 40


@dataclass(frozen=True)
class Surge:
    """One surging day of one unit (local day, numbered from the epoch)."""

    unit: int
    day: int
    count: int
    expected: float
    excess: float
    p_value: float


@dataclass(frozen=True)
class Suspicion:
    """Each response's evidence of coming from a surge, and the units' surges.

    Arrays are shaped ``(n,)`` (responses) or ``(units,)``; ``log_lr`` is ``(n, 5)`` in the
    order of :data:`FEATURES` (0 where the feature is unknown or the response is in no
    surge).
    """

    posterior: NDArray[np.float64]  # P(from the surge | evidence); 0 outside surge days
    prior: NDArray[np.float64]  # the excess share of the response's day
    log_lr: NDArray[np.float64]
    suspect: NDArray[np.bool_]
    weight: NDArray[np.float64]  # bounded-influence weight
    day_count: NDArray[np.int64]  # public responses of its unit that day
    day_expected: NDArray[np.float64]  # ordinary traffic's mean for that day
    surges: tuple[Surge, ...]
    distinct: NDArray[np.bool_]  # (units,) the unit's surge differs from its ordinary traffic
    g_stat: NDArray[np.float64]  # (units,) G; NaN for a unit without surges
    p_distinct: NDArray[np.float64]  # (units,)
    overdispersion: float = 0.0  # 1/kappa: a day's ordinary variance is mu + mu^2 / kappa

    def flags(self) -> Flags:
        """The suspect responses as ``surge`` flags (strength: the posterior's log-odds)."""
        idx = np.flatnonzero(self.suspect)
        return Flags("surge", idx, special.logit(np.clip(self.posterior[idx], 1e-9, 1 - 1e-9)),
                     tuple(self.details(int(i)) for i in idx))  # fmt: skip

    def in_surge(self) -> Flags:
        """Responses on a surge day that stay valid: reported, never suspect."""
        idx = np.flatnonzero((self.prior > 0) & ~self.suspect)
        return Flags("in_surge", idx, self.posterior[idx],
                     tuple(self.details(int(i)) for i in idx))  # fmt: skip

    def details(self, i: int) -> dict[str, float]:
        """The numbers behind response ``i``'s suspicion."""
        out = {
            "posterior": float(self.posterior[i]),
            "prior": float(self.prior[i]),
            "count": float(self.day_count[i]),
            "expected": float(self.day_expected[i]),
        }
        for name, value in zip(FEATURES, self.log_lr[i], strict=True):
            out[f"llr_{name}"] = float(value)
        return out


def _probabilities(**values: float) -> None:
    for name, value in values.items():
        if not 0 < value < 1:
            raise ValueError(f"{name} must be between 0 and 1; got {value}")


def _codes(values: ArrayLike, name: str, n: int) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must be 1-D with {n} values; got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer codes")
    return arr.astype(np.int64)


def _floats(values: ArrayLike, name: str, n: int) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must be 1-D with {n} values; got shape {arr.shape}")
    return arr


def _upper_p(count, mean, inv_kappa):
    r"""P(N >= count) for a gamma-Poisson (negative binomial) count with this mean and
    :math:`\operatorname{Var} N = \mu + \mu^2 / \kappa` (Poisson when 1/kappa is 0)."""
    count = np.asarray(count, np.float64)
    mean = np.maximum(np.asarray(mean, np.float64), 1e-9)
    if inv_kappa <= 0:
        return sps.poisson.sf(count - 1, mean)
    kappa = 1.0 / inv_kappa
    return sps.nbinom.sf(count - 1, kappa, kappa / (kappa + mean))


def _rates(counts, kind, n_kinds, leave_out, earlier):
    """Ordinary rate per unit, kind of day and hour: the mean over the days not left out."""
    n_units = counts.shape[0]
    rates = np.zeros((n_units, n_kinds, 24))
    for k in range(n_kinds):
        days = np.flatnonzero(kind == k)
        if days.size == 0:
            continue
        sub = counts[:, days, :]
        use = ~leave_out[:, days]
        use[use.sum(axis=1) == 0] = True  # every day left out: take them all
        rates[:, k, :] = (sub * use[:, :, None]).sum(axis=1) / use.sum(axis=1)[:, None]
        if days.size < (MIN_BASELINE_DAYS if k == 0 else MIN_KIND_DAYS):
            # too few days for a unit's own days to outvote a surge: comparable units
            active = counts.sum(axis=(1, 2)) > 0
            peer = np.median(sub.mean(axis=1)[active], axis=0) if active.any() else 0
            rates[:, k, :] = PEER_FACTOR * np.broadcast_to(peer, (n_units, 24))
    if earlier is not None:
        given = np.asarray(earlier, dtype=np.float64)
        if given.ndim != 2 or given.shape[1] != 24:
            raise ValueError(f"earlier must be shaped (units, 24); got {given.shape}")
        before = np.full((n_units, 24), np.nan)
        rows = min(given.shape[0], n_units)
        before[:rows] = given[:rows]
        cap = EARLIER_FACTOR * np.maximum(before, FLOOR_PER_HOUR)
        rates = np.where(np.isnan(cap)[:, None, :], rates, np.minimum(rates, cap[:, None, :]))
    return rates


def _overdispersion(totals, expected, use):
    r"""One :math:`1/\kappa` for all units: day counts vary as a gamma-Poisson mixture,
    :math:`\operatorname{Var} N = \mu + \mu^2/\kappa` (busy days, rain). Moments over the
    ordinary unit-days: :math:`E[(N - \mu)^2 - N] = \mu^2 / \kappa`; pooled over units, so a
    quiet unit's few responses do not make up their own variation."""
    # a day that is far beyond Poisson is a surge, not variation (a guard for the first pass)
    use = use & (sps.poisson.sf(totals - 1, np.maximum(expected, 1e-9)) >= 1e-3)
    mu = np.where(use, expected, 0.0)
    excess = np.where(use, (totals - expected) ** 2 - totals, 0.0)
    denom = float((mu**2).sum())
    return float(np.clip(excess.sum() / denom, 0.0, MAX_OVERDISPERSION)) if denom > 0 else 0.0


def _surge_days(counts, kind, rates, inv_kappa, alpha):
    """Significant unit-days and unit-hours (half of ``alpha`` for each, Bonferroni over the
    cells with responses), the day's ordinary mean and its excess."""
    hourly = rates[:, kind, :]  # (units, days, 24)
    day_mean = np.maximum(hourly.sum(axis=2), 1.0)
    totals = counts.sum(axis=2)
    hour_mean = np.maximum(hourly, FLOOR_PER_HOUR)
    tested_days = totals > 0
    tested_hours = counts > 0
    p_day = np.ones(totals.shape)
    p_day[tested_days] = _upper_p(totals[tested_days], day_mean[tested_days], inv_kappa)
    p_hour = np.ones(counts.shape)
    p_hour[tested_hours] = _upper_p(counts[tested_hours], hour_mean[tested_hours], inv_kappa)
    hot_day = p_day < alpha / 2 / max(int(tested_days.sum()), 1)
    hot_hour = p_hour < alpha / 2 / max(int(tested_hours.sum()), 1)
    excess_hours = np.where(hot_hour, counts - hour_mean, 0.0).sum(axis=2)
    excess = np.maximum(np.where(hot_day, totals - day_mean, 0.0), excess_hours)
    surge = (hot_day | hot_hour.any(axis=2)) & (excess > 0)
    return surge, day_mean, np.where(surge, excess, 0.0), np.minimum(p_day, p_hour.min(axis=2))


def _categorical_ordinary(x, unit, ordinary, n_units, k, base=None):
    """Each unit's ordinary distribution over ``k`` categories, mixed with the pooled one."""
    ok = ordinary & (x >= 0)
    own = np.bincount(unit[ok] * k + x[ok], minlength=n_units * k).reshape(n_units, k)
    pooled = own.sum(axis=0) + 0.5 if base is None else base
    pooled = pooled / pooled.sum()
    return (own + PRIOR_RESPONSES * pooled) / (own.sum(axis=1, keepdims=True) + PRIOR_RESPONSES)


def _categorical_surge(x, unit, p, n_units, k):
    ok = x >= 0
    got = np.bincount(unit[ok] * k + x[ok], weights=p[ok], minlength=n_units * k)
    got = got.reshape(n_units, k) + 1.0 / k  # one pseudo-response spread evenly
    return got / got.sum(axis=1, keepdims=True)


def surge_suspicion(
    unit: ArrayLike,
    time: ArrayLike,
    score: ArrayLike,
    duration: ArrayLike,
    device: ArrayLike | None = None,
    network: ArrayLike | None = None,
    invited: ArrayLike | None = None,
    questionnaire: ArrayLike | None = None,
    day_offset: float = 0.0,
    earlier: ArrayLike | None = None,
    items: ArrayLike | None = None,
    alpha: float = SURGE_ALPHA,
    distinct_alpha: float = DISTINCT_ALPHA,
    threshold: float = SUSPECT_POSTERIOR,
) -> Suspicion:
    r"""Find each unit's surges and each response's suspicion of belonging to one.

    The model and its thresholds are in this module's docstring and docs/statistics.md.

    Parameters
    ----------
    unit : array_like of int, shape (n,)
        Unit code of each response (the units analysed together are comparable).
    time : array_like of float, shape (n,)
        Submission time, seconds since the epoch (UTC).
    score : array_like of float, shape (n,)
        The response's score on 0-100; NaN when it has none.
    duration : array_like of float, shape (n,)
        Seconds from page to submission; NaN when unknown.
    device, network : array_like of int, shape (n,), optional
        Device and network-prefix codes, negative when unknown.
    invited : array_like of bool, shape (n,), optional
        Answers through a single-use invitation: left out (never counted, never suspect).
    questionnaire : array_like of int, shape (n,), optional
        Questionnaire codes: durations are compared within one questionnaire.
    day_offset : float, default 0
        Seconds east of UTC of the office's day (28800 for Beijing).
    earlier : array_like of float, shape (units, 24), optional
        The units' usual hourly rates in an earlier period (:func:`usual_rates`); NaN rows
        for units not seen then. Ordinary rates may not exceed 3 × these.
    items : array_like of float, shape (n, k), optional
        The answers (NaN when missing), for the answer pattern: how many different answers
        a response gives (one, two, three, four or more).
    alpha : float, default 0.01
        Family-wise error rate of the surge tests over unit-days and unit-hours.
    distinct_alpha : float, default 0.001
        Family-wise error rate of "this unit's surge differs from its ordinary traffic".
    threshold : float, default 0.5
        Posterior at or above which a response in a distinct surge is suspect.

    Returns
    -------
    Suspicion

    Raises
    ------
    ValueError
        Arrays of different lengths or not 1-D, codes that are not integers, a probability
        outside (0, 1).

    Notes
    -----
    Cost: one sort and ``bincount`` passes over the responses, cells of units × days × 24,
    and a fixed number of EM rounds over the responses on surge days only.
    """
    _probabilities(alpha=alpha, distinct_alpha=distinct_alpha, threshold=threshold)
    n = int(np.asarray(unit).size)
    u = _codes(unit, "unit", n)
    t = _floats(time, "time", n)
    s = _floats(score, "score", n)
    d = _floats(duration, "duration", n)
    dev = np.full(n, -1, np.int64) if device is None else _codes(device, "device", n)
    net = np.full(n, -1, np.int64) if network is None else _codes(network, "network", n)
    inv = np.zeros(n, bool) if invited is None else np.asarray(invited, bool)
    if inv.shape != (n,):
        raise ValueError(f"invited must be 1-D with {n} values")
    q = (
        np.zeros(n, np.int64)
        if questionnaire is None
        else _codes(questionnaire, "questionnaire", n)
    )
    pattern_all = np.full(n, -1, np.int64)
    if items is not None:
        x = np.asarray(items, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != n:
            raise ValueError(f"items must be shaped ({n}, items); got {x.shape}")
        if x.shape[1]:
            ordered = np.sort(x, axis=1)  # NaN last
            changes = (np.diff(ordered, axis=1) > 0).sum(axis=1) + 1
            answered = (~np.isnan(x)).sum(axis=1)
            pattern_all = np.where(answered >= 2, np.minimum(changes, 4) - 1, -1)
    if np.isnan(t).any():
        raise ValueError("time must be known for every response")
    n_units = int(u.max()) + 1 if n else 0
    out_post = np.zeros(n)
    out_prior = np.zeros(n)
    llr = np.zeros((n, len(FEATURES)))
    weight = np.ones(n)
    day_count = np.zeros(n, np.int64)
    day_expected = np.zeros(n)
    empty = Suspicion(out_post, out_prior, llr, np.zeros(n, bool), weight, day_count,
                      day_expected, (), np.zeros(n_units, bool), np.full(n_units, np.nan),
                      np.full(n_units, np.nan))  # fmt: skip
    pub = np.flatnonzero(~inv)
    if pub.size == 0:
        return empty

    # -- cells: unit × local day × hour ------------------------------------------------------
    pu = u[pub]
    local = t[pub] + day_offset
    day_abs = np.floor(local / 86400).astype(np.int64)
    hour = np.minimum(np.floor((local - day_abs * 86400) / 3600).astype(np.int64), 23)
    first = int(day_abs.min())
    day = day_abs - first
    n_days = int(day.max()) + 1
    weekday = (np.arange(first, first + n_days) + 3) % 7  # 1 Jan 1970 was a Thursday
    kind = np.clip(weekday - 4, 0, 2)  # 0 Monday-Friday, 1 Saturday, 2 Sunday
    counts = np.bincount((pu * n_days + day) * 24 + hour, minlength=n_units * n_days * 24)
    counts = counts.reshape(n_units, n_days, 24).astype(np.float64)
    totals = counts.sum(axis=2)

    # -- ordinary rates in two passes: the quieter days, then every day that is no surge ---
    busiest = np.zeros_like(totals, dtype=bool)
    for k in range(KINDS):
        days = np.flatnonzero(kind == k)
        # at least one of three or more days: four Saturdays cannot outvote a flooded one
        drop = max(int(np.floor(days.size * TRIM_DAYS)), int(days.size >= 3))
        if drop:
            ranks = np.argsort(np.argsort(-totals[:, days], axis=1, kind="stable"), axis=1)
            busiest[:, days] = ranks < drop
    rates = _rates(counts, kind, KINDS, busiest, earlier)
    inv_kappa = _overdispersion(totals, rates[:, kind, :].sum(axis=2), ~busiest)
    surge, _mean, _excess, _p = _surge_days(counts, kind, rates, inv_kappa, alpha)
    rates = _rates(counts, kind, KINDS, surge, earlier)
    inv_kappa = _overdispersion(totals, rates[:, kind, :].sum(axis=2), ~surge)
    surge, day_mean, excess, p_min = _surge_days(counts, kind, rates, inv_kappa, alpha)

    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(surge, excess / np.maximum(totals, 1), 0.0)
    prior = share[pu, day]
    day_count[pub] = totals[pu, day].astype(np.int64)
    day_expected[pub] = day_mean[pu, day]
    out_prior[pub] = prior
    surges = tuple(
        Surge(int(a), int(b + first), int(totals[a, b]), float(day_mean[a, b]),
              float(excess[a, b]), float(p_min[a, b]))
        for a, b in zip(*np.nonzero(surge), strict=True)
    )  # fmt: skip

    # -- features -------------------------------------------------------------------------------
    in_surge = prior > 0
    ordinary = ~surge[pu, day]
    answer = np.where(np.isnan(s[pub]), -1, np.clip(np.rint(s[pub] / 10), 0, 10)).astype(np.int64)
    logd = np.where(d[pub] > 0, np.log(np.maximum(d[pub], 1.0)), np.nan)
    pdev = dev[pub]
    uses = np.bincount(pdev[pdev >= 0], minlength=1) if (pdev >= 0).any() else np.zeros(1, int)
    all_uses = np.bincount(dev[dev >= 0], minlength=uses.size) if (dev >= 0).any() else uses
    known = np.where(pdev >= 0, (all_uses[np.maximum(pdev, 0)] >= 2).astype(np.int64), -1)
    pnet = net[pub]
    fresh = (pdev >= 0) & (known == 0) & (pnet >= 0)
    crowd = np.full(pub.size, -1, np.int64)
    if (pnet >= 0).any():
        key = (pu * n_days + day) * (int(pnet.max()) + 1) + np.maximum(pnet, 0)
        _, inverse, per_key = np.unique(key[fresh], return_inverse=True, return_counts=True)
        crowd[pnet >= 0] = 0
        crowd[fresh] = (per_key[inverse] >= CROWD).astype(np.int64)

    pool_hours = (counts * (~surge)[:, :, None]).sum(axis=(0, 1))
    # the ordinary hour-of-day profile of each unit and kind of day (closed hours keep a
    # sliver: an honest citizen may finish at 2 a.m.)
    f0_hour = np.zeros((n_units, KINDS, 24))
    for k in range(KINDS):
        f0_hour[:, k, :] = _categorical_ordinary(
            hour, pu, ordinary & (kind[day] == k), n_units, 24, pool_hours + 0.5
        )
    f0_answer = _categorical_ordinary(answer, pu, ordinary, n_units, ANSWER_BINS)
    f0_known = _categorical_ordinary(known, pu, ordinary, n_units, 2)
    f0_crowd = _categorical_ordinary(crowd, pu, ordinary, n_units, 2)
    pq = q[pub]
    n_q = int(pq.max()) + 1
    mu_q = np.full(n_q, np.nan)
    sd_q = np.full(n_q, np.nan)
    for code in range(n_q):
        vals = logd[(pq == code) & ordinary & ~np.isnan(logd)]
        if vals.size >= 5:
            mu_q[code] = np.median(vals)
            sd_q[code] = max(1.4826 * np.median(np.abs(vals - mu_q[code])), MIN_LOG_SD)

    pattern = pattern_all[pub]
    f0_pattern = _categorical_ordinary(pattern, pu, ordinary, n_units, 4)

    # -- EM over the responses on surge days --------------------------------------------
    sel = np.flatnonzero(in_surge)
    if sel.size == 0:
        return Suspicion(out_post, out_prior, llr, np.zeros(n, bool), weight, day_count,
                         day_expected, surges, np.zeros(n_units, bool),
                         np.full(n_units, np.nan), np.full(n_units, np.nan), inv_kappa)  # fmt: skip
    su, sk = pu[sel], kind[day[sel]]
    sh, sa, skn, scr, sld = hour[sel], answer[sel], known[sel], crowd[sel], logd[sel]
    sq, sp = pq[sel], pattern[sel]
    pi = np.clip(prior[sel], 1e-6, 1 - 1e-6)
    has_d = ~np.isnan(sld) & ~np.isnan(mu_q[sq])
    log_f0 = np.zeros((sel.size, len(FEATURES)))
    log_f0[:, 0] = np.log(f0_hour[su, sk, sh])
    log_f0[:, 1] = np.where(sa >= 0, np.log(f0_answer[su, np.maximum(sa, 0)]), 0.0)
    log_f0[:, 2] = np.where(sp >= 0, np.log(f0_pattern[su, np.maximum(sp, 0)]), 0.0)
    log_f0[has_d, 3] = sps.norm.logpdf(sld[has_d], mu_q[sq[has_d]], sd_q[sq[has_d]])
    log_f0[:, 4] = np.where(skn >= 0, np.log(f0_known[su, np.maximum(skn, 0)]), 0.0)
    log_f0[:, 5] = np.where(scr >= 0, np.log(f0_crowd[su, np.maximum(scr, 0)]), 0.0)
    p = pi.copy()
    for _round in range(EM_ROUNDS):
        f1_hour = _categorical_surge(sh, su, p, n_units, 24)
        f1_answer = _categorical_surge(sa, su, p, n_units, ANSWER_BINS)
        f1_pattern = _categorical_surge(sp, su, p, n_units, 4)
        f1_known = _categorical_surge(skn, su, p, n_units, 2)
        f1_crowd = _categorical_surge(scr, su, p, n_units, 2)
        w = np.where(has_d, p, 0.0)
        wsum = np.bincount(su, weights=w, minlength=n_units)
        # the surge's durations: their weighted mean and spread, with one ordinary
        # pseudo-response so a handful cannot make the spread vanish
        ref = np.nanmedian(mu_q) if np.isfinite(mu_q).any() else 0.0
        ld = np.where(has_d, sld, 0.0)
        m1 = (np.bincount(su, weights=w * ld, minlength=n_units) + ref) / (wsum + 1)
        v1 = (np.bincount(su, weights=w * (ld - m1[su]) ** 2, minlength=n_units) + 0.3**2) / (
            wsum + 1
        )
        sd1 = np.maximum(np.sqrt(v1), MIN_LOG_SD)
        log_lr = np.empty_like(log_f0)
        log_lr[:, 0] = np.log(f1_hour[su, sh]) - log_f0[:, 0]
        log_lr[:, 1] = np.where(sa >= 0, np.log(f1_answer[su, np.maximum(sa, 0)]) - log_f0[:, 1], 0)
        log_lr[:, 2] = np.where(
            sp >= 0, np.log(f1_pattern[su, np.maximum(sp, 0)]) - log_f0[:, 2], 0
        )
        log_lr[:, 3] = np.where(has_d, sps.norm.logpdf(np.where(has_d, sld, 0), m1[su], sd1[su])
                                - log_f0[:, 3], 0.0)  # fmt: skip
        log_lr[:, 4] = np.where(
            skn >= 0, np.log(f1_known[su, np.maximum(skn, 0)]) - log_f0[:, 4], 0
        )
        log_lr[:, 5] = np.where(
            scr >= 0, np.log(f1_crowd[su, np.maximum(scr, 0)]) - log_f0[:, 5], 0
        )
        total = np.clip(log_lr.sum(axis=1), -50, 50)
        new = special.expit(special.logit(pi) + total)
        if np.max(np.abs(new - p)) < 1e-4:
            p = new
            break
        p = new

    # -- does each unit's surge differ from its ordinary traffic? ---------------------------------
    g_unit = np.bincount(su, weights=2 * np.log(pi * np.exp(total) + 1 - pi), minlength=n_units)
    df = (23 + (ANSWER_BINS - 1) * (sa >= 0).any() + 3 * (sp >= 0).any() + 2 * has_d.any()
          + (skn >= 0).any() + (scr >= 0).any())  # fmt: skip
    surging = np.bincount(su, minlength=n_units) > 0
    p_distinct = np.where(surging, sps.chi2.sf(g_unit, df), np.nan)
    n_surging = max(int(surging.sum()), 1)
    distinct = surging & (p_distinct < distinct_alpha / n_surging)
    g_out = np.where(surging, g_unit, np.nan)

    post = p
    gi = pub[sel]
    out_post[gi] = post
    llr[gi] = log_lr
    suspect = np.zeros(n, bool)
    suspect[gi] = distinct[su] & (post >= threshold)

    # -- bounded influence: weights, then each day's total capped --------------------------------
    weight[gi] = np.where(distinct[su], 1 - post, 1 - pi)
    cap = day_mean + 2 * np.sqrt(day_mean + inv_kappa * day_mean**2)
    cell = pu * n_days + day
    held = np.bincount(cell, weights=weight[pub], minlength=n_units * n_days)
    limit = cap.reshape(-1)
    scale = np.where(held > limit, limit / np.maximum(held, 1e-12), 1.0)
    weight[pub] *= scale[cell]
    return Suspicion(out_post, out_prior, llr, suspect, weight, day_count, day_expected,
                     surges, distinct, g_out, p_distinct, inv_kappa)  # fmt: skip


@dataclass(frozen=True)
class BoundedScores:
    """Per unit: the plain mean and the bounded-influence (weighted) mean, each with its
    interval; ``shift`` is plain − bounded, how far the surges moved the plain mean."""

    plain: NDArray[np.float64]
    plain_half: NDArray[np.float64]
    bounded: NDArray[np.float64]
    bounded_half: NDArray[np.float64]
    n: NDArray[np.int64]
    effective_n: NDArray[np.float64]
    shift: NDArray[np.float64]


def bounded_scores(
    score: ArrayLike,
    unit: ArrayLike,
    weight: ArrayLike,
    n_units: int | None = None,
    confidence: float = 0.95,
) -> BoundedScores:
    r"""Plain and weighted mean scores per unit, with Student-t intervals.

    The weighted mean :math:`\bar s_w = \sum w_i s_i / \sum w_i` has the linearised variance
    :math:`\hat V = \frac{n}{n-1} \sum w_i^2 (s_i - \bar s_w)^2 / (\sum w_i)^2` and
    :math:`n_{\mathrm{eff}} - 1` degrees of freedom, :math:`n_{\mathrm{eff}} = (\sum w_i)^2 /
    \sum w_i^2` (Kish 1965). With every weight 1 both equal the plain mean's.

    Parameters
    ----------
    score : array_like of float, shape (n,)
        NaN scores are left out.
    unit : array_like of int, shape (n,)
    weight : array_like of float, shape (n,)
        Non-negative (:attr:`Suspicion.weight`).
    n_units : int, optional
        Length of the outputs (default: the largest unit code + 1).
    confidence : float, default 0.95

    Raises
    ------
    ValueError
        Lengths differ, a weight is negative or not finite, confidence outside (0, 1).
    """
    _probabilities(confidence=confidence)
    n = int(np.asarray(unit).size)
    u = _codes(unit, "unit", n)
    s = _floats(score, "score", n)
    w = _floats(weight, "weight", n)
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ValueError("weight must be finite and non-negative")
    size = n_units if n_units is not None else (int(u.max()) + 1 if n else 0)
    ok = ~np.isnan(s)
    u, s, w = u[ok], s[ok], w[ok]
    t_q = 0.5 + confidence / 2
    cnt = np.bincount(u, minlength=size).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        plain = np.bincount(u, weights=s, minlength=size) / cnt
        var = np.bincount(u, weights=(s - plain[u]) ** 2, minlength=size) / (cnt - 1)
        plain_half = np.where(
            cnt >= 2, sps.t.ppf(t_q, np.maximum(cnt - 1, 1)) * np.sqrt(var / cnt), np.nan
        )
        sw = np.bincount(u, weights=w, minlength=size)
        sw2 = np.bincount(u, weights=w * w, minlength=size)
        bounded = np.where(sw > 0, np.bincount(u, weights=w * s, minlength=size) / sw, np.nan)
        n_eff = np.where(sw2 > 0, sw**2 / sw2, 0.0)
        resid = np.bincount(u, weights=(w * (s - bounded[u])) ** 2, minlength=size)
        v = cnt / (cnt - 1) * resid / sw**2
        bounded_half = np.where(
            (n_eff > 1) & (cnt >= 2),
            sps.t.ppf(t_q, np.maximum(n_eff - 1, 1)) * np.sqrt(v),
            np.nan,
        )
    return BoundedScores(plain, plain_half, bounded, bounded_half, cnt.astype(np.int64), n_eff,
                         plain - bounded)  # fmt: skip
