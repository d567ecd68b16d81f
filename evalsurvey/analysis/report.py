"""Turn a :class:`ResponseTable` into the analysis report (a JSON-ready dict).

The statistics themselves live in :mod:`evalsurvey.stats`; this module only
chooses which responses feed which statistic, and names things for people.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from evalsurvey import stats
from evalsurvey.analysis.reader import InputError, ResponseTable

METHODS = ("mean", "trimmed", "adjusted")
DEFAULT_INTERNAL = frozenset({"member", "leader", "department"})


Range = tuple[float, float]


@dataclass(frozen=True)
class Options:
    """What an analysis is asked to do, as typed values (commands parse their strings first).

    ``scale`` gives the range every scored item uses unless ``item_scales`` names it;
    items named nowhere have their range inferred. ``weights`` maps rater groups (or
    ``internal``/``external``) to weights; None weighs every group present equally.
    """

    scale: Range | None = None
    item_scales: Mapping[str, Range] = field(default_factory=dict)
    weights: Mapping[str, float] | None = None
    method: str = "adjusted"  # for identified raters
    min_n: int = 5
    # a rater group's own minimum (a panel of four experts: 4), else ``min_n``
    group_min_n: Mapping[str, int] = field(default_factory=dict)
    internal_groups: frozenset[str] = field(default_factory=lambda: DEFAULT_INTERNAL)
    duplicate_window: float = 24 * 3600
    burst_window: float = 600.0
    day_offset: float = 0.0  # seconds east of UTC of the office's day (bursts: hour of day)
    items: tuple[str, ...] | None = None  # score only these item columns (None: every numeric)
    # a rater is lenient/severe only when extreme among the panel (robust z) and this
    # many points (of 100) away from the others: see docs/statistics.md
    rater_min_effect: float = 10.0
    rater_robust_z: float = 3.0

    def min_for(self, group: str) -> int:
        """The fewest scored responses ``group`` needs for a unit before it has a score."""
        return int(self.group_min_n.get(group, self.min_n))

    def as_json(self) -> dict:
        """The options as stored with a run."""
        return {
            "scale": list(self.scale) if self.scale else None,
            "item_scales": {k: list(v) for k, v in self.item_scales.items()},
            "weights": dict(self.weights) if self.weights is not None else None,
            "method": self.method,
            "min_n": self.min_n,
            "group_min_n": dict(self.group_min_n),
            "internal_groups": sorted(self.internal_groups),
            "items": list(self.items) if self.items is not None else None,
            "rater_min_effect": self.rater_min_effect,
            "rater_robust_z": self.rater_robust_z,
        }


class OptionError(ValueError):
    """An option that cannot be used: ``code`` names the problem, ``detail`` the value."""

    def __init__(self, code: str, detail: str = ""):
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}" if detail else code)


_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")


def _range(text: str) -> Range:
    found = _RANGE.match(text)
    if found is None:
        raise OptionError("scale_syntax", text)
    lo, hi = float(found.group(1)), float(found.group(2))
    if not hi > lo:
        raise OptionError("scale_order", text)
    return lo, hi


def parse_scale(text: str | None) -> tuple[Range | None, dict[str, Range]]:
    """``--scale`` text (``1-5``, ``p_lead=0-20,…`` or both) as (default, per item)."""
    default: Range | None = None
    per_item: dict[str, Range] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        if "=" in part:
            name, rng = part.split("=", 1)
            per_item[name.strip()] = _range(rng)
        else:
            default = _range(part)
    return default, per_item


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``--weights`` text (``citizen=0.4,member=0.2`` or ``internal=0.3,external=0.7``)."""
    if not text:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise OptionError("weights_syntax", part)
        name, value = part.split("=", 1)
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise OptionError("weights_number", value) from None
    return out


def _check_weights(weights: Mapping[str, float] | None) -> dict[str, float] | None:
    if weights is None:
        return None
    out = dict(weights)
    for name, value in out.items():
        if value < 0 or not math.isfinite(value):
            raise OptionError("weights_negative", name)
    if not out or sum(out.values()) <= 0:
        raise OptionError("weights_zero")
    return out


def _infer_scale(values: NDArray[np.float64]) -> tuple[float, float] | None:
    v = values[~np.isnan(values)]
    if v.size == 0:
        return None
    whole = bool(np.all(v == np.round(v)))
    if whole and v.min() >= 1 and v.max() <= 5:
        return (1.0, 5.0)
    if whole and v.min() >= 0 and v.max() <= 10:
        return (0.0, 10.0)
    return None


def _scales(table: ResponseTable, options: Options) -> tuple[np.ndarray, np.ndarray]:
    for name in options.item_scales:
        if name not in table.item_names and name not in table.empty_items:
            raise OptionError("scale_item", name)
    given = dict(options.item_scales)
    if options.scale is not None:
        for name in table.item_names:
            given.setdefault(name, options.scale)
    lo = np.empty(len(table.item_names))
    hi = np.empty(len(table.item_names))
    for j, name in enumerate(table.item_names):
        rng = given.get(name) or _infer_scale(table.items[:, j])
        if rng is None:
            raise OptionError("scale_unknown", name)
        lo[j], hi[j] = rng
        col = table.items[:, j]
        off = np.nonzero(~np.isnan(col) & ((col < rng[0]) | (col > rng[1])))[0]
        if off.size:
            i = int(off[0])
            raise InputError(
                int(table.row[i]), name, f"{col[i]:g} is off the scale {rng[0]:g}-{rng[1]:g}"
            )
    return lo, hi


def _keep_items(table: ResponseTable, names: tuple[str, ...]) -> None:
    """Score only ``names``: other numeric columns (e.g. choice codes) become text items."""
    keep = [j for j, name in enumerate(table.item_names) if name in names]
    dropped = [name for name in table.item_names if name not in names]
    table.items = table.items[:, keep]
    table.item_names = [table.item_names[j] for j in keep]
    table.text_items = table.text_items + dropped


def _round(x: float | None, digits: int = 1) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def _grouped_mean_ci(values, keys, n_keys):
    """Mean, count and 95% t-interval half-width of ``values`` per key."""
    ok = ~np.isnan(values)
    n = np.bincount(keys[ok], minlength=n_keys).astype(float)
    s = np.bincount(keys[ok], weights=values[ok], minlength=n_keys)
    s2 = np.bincount(keys[ok], weights=values[ok] ** 2, minlength=n_keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s / n
        var = np.clip((s2 - n * mean**2) / (n - 1), 0, None)
        t = sps.t.ppf(0.975, np.maximum(n - 1, 1))
        half = np.where(n >= 2, t * np.sqrt(var / n), np.nan)
    return mean, n.astype(np.int64), half


def analyze(table: ResponseTable, options: Options) -> dict:
    """The whole analysis. Raises InputError or OptionError for bad input."""
    if options.method not in METHODS:
        raise OptionError("method", options.method)
    if options.min_n < 1 or any(n < 1 for n in options.group_min_n.values()):
        raise OptionError("min_n", str(options.min_n))
    weights_opt = _check_weights(options.weights)
    n = table.n
    if n == 0:
        raise InputError(2, "-", "the file has no responses to analyze")
    if options.items is not None:
        _keep_items(table, options.items)
    lo, hi = _scales(table, options)
    items = table.items
    present = ~np.isnan(items)
    num = np.where(present, items - lo, 0.0).sum(axis=1)
    den = np.where(present, hi - lo, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1), np.nan)
    five = (lo == 1) & (hi == 5)
    sat_eligible = present.any(axis=1) & ~(present & ~five).any(axis=1)
    with np.errstate(invalid="ignore"):
        raw_mean = np.where(present, items, 0).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    satisfied = sat_eligible & (raw_mean >= 4)

    # -- flags on responses --------------------------------------------------------------
    n_groups = len(table.groups)
    # each public response's own evidence of coming from a surge of its unit; invitations
    # (single-use) are left out: timing alone cannot make them suspect
    surge = stats.surge_suspicion(
        table.unit,
        table.submitted,
        score,
        table.submitted - table.started,
        device=table.device,
        network=table.network,
        invited=table.invited,
        questionnaire=table.questionnaire,
        day_offset=options.day_offset,
        earlier=table.earlier_rates,
        items=items,
    )
    flag_sets = [
        stats.speeders(table.submitted - table.started, table.questionnaire),
        stats.duplicates(table.device, table.unit, table.submitted, options.duplicate_window),
        surge.flags(),
        surge.in_surge(),
        stats.network_repeats(table.network, table.device, table.unit, table.submitted)
        if table.network is not None
        else stats.Flags.empty("network"),
        stats.straightliners(items),
        stats.outliers(score, table.unit * n_groups + table.group),
    ]
    reasons: dict[int, dict[str, tuple[float, dict]]] = {}
    for flags in flag_sets:
        for i, s, found in zip(flags.index, flags.strength, flags.details, strict=True):
            reasons.setdefault(int(i), {})[flags.reason] = (float(s), _plain(found))
    suspect = np.zeros(n, bool)
    for flags in flag_sets:
        if flags.reason in stats.SUSPECT_RESPONSE_REASONS:
            suspect[flags.index] = True
    decision = table.decision if table.decision is not None else np.zeros(n, np.int8)
    kept, dropped = decision == 1, decision == -1
    suspect = (suspect & ~kept) | dropped  # a person's decision beats the rules

    # -- identified raters, group by group -----------------------------------------------
    conflict = (table.rater >= 0) & (table.rater_unit == table.unit)
    raters_out: list[dict] = []
    matrices: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for g in range(n_groups):
        in_group = (table.group == g) & (table.rater >= 0)
        if not in_group.any():
            continue
        raters_out.extend(
            _rater_group(table, g, in_group, score, suspect, reasons, matrices, options)
        )
    # a rater-level suspect reason makes responses suspect too
    for i, found in reasons.items():
        if set(found) & stats.SUSPECT_RATER_REASONS and not kept[i]:
            suspect[i] = True

    # -- scores ----------------------------------------------------------------------------
    n_units = len(table.units)
    used = ~suspect & ~np.isnan(score) & ~conflict
    # the bounded-influence score counts the surge's suspects too, at their weights: it must
    # hold whatever the flags say
    in_flood = np.zeros(n, bool)
    for i, found in reasons.items():
        in_flood[i] = "surge" in found and not dropped[i]
    counted = (used | in_flood) & ~np.isnan(score) & ~conflict
    group_scores: dict[str, dict] = {}
    for g, gname in enumerate(table.groups):
        group_scores[gname] = _group_scores(
            table, g, used, score, satisfied, sat_eligible, options, matrices.get(g), n_units
        )
        mine = counted & (table.group == g)
        group_scores[gname]["bounded"] = stats.bounded_scores(
            score[mine], table.unit[mine], surge.weight[mine], n_units
        )
    unit_n = np.bincount(table.unit, minlength=n_units)
    unit_used = np.bincount(table.unit[used], minlength=n_units)

    composite, comp_half, weights_used, missing = _composite(
        table, group_scores, weights_opt, options, n_units
    )
    ranks = stats.shared_ranks(composite)
    rank_counts: dict[float, int] = {}
    for r in ranks[~np.isnan(ranks)]:
        rank_counts[r] = rank_counts.get(r, 0) + 1

    surge_days: dict[int, list[dict]] = {}
    for found in surge.surges:
        surge_days.setdefault(found.unit, []).append(
            {
                "date": (_EPOCH + timedelta(days=found.day)).isoformat(),
                "count": found.count,
                "expected": round(found.expected, 1),
                "excess": round(found.excess, 1),
                # does the surge differ from the unit's ordinary responses? if not, it is
                # reported and condemns no response
                "distinct": bool(surge.distinct[found.unit]),
            }
        )
    units_out = []
    for u, uname in enumerate(table.units):
        groups = {}
        for gname, gs in group_scores.items():
            if gs["n"][u] == 0:
                continue
            entry = {
                "n": int(gs["n"][u]),
                "n_used": int(gs["n_used"][u]),
                "score": _round(gs["score"][u]),
                "ci95": _ci(gs["score"][u], gs["half"][u]),
                "method": gs["method"],
            }
            if gs["n_used"][u] < options.min_for(gname):
                entry.update(score=None, ci95=None, status="too few responses")
            if gs["method"] == "mean" and entry.get("score") is not None:
                entry.update(_bounded(gs["bounded"], u))
            if gs["sat_n"][u] > 0 and entry.get("score") is not None:
                k, m = int(gs["sat_k"][u]), int(gs["sat_n"][u])
                low, high = stats.wilson_interval(k, m)
                entry["satisfied_rate"] = round(k / m, 4)
                entry["satisfied_ci95"] = [round(low, 4), round(high, 4)]
            groups[gname] = entry
        scored = not np.isnan(composite[u])
        units_out.append(
            {
                "unit": uname,
                "n": int(unit_n[u]),
                "n_used": int(unit_used[u]),
                "score": _round(composite[u]),
                "ci95": _ci(composite[u], comp_half[u]),
                "rank": int(ranks[u]) if scored else None,
                "tied": bool(scored and rank_counts[ranks[u]] > 1),
                "status": "scored" if scored else "too few responses",
                "missing_groups": missing[u],
                "groups": groups,
                "surges": surge_days.get(u, []),
            }
        )
    units_out.sort(key=lambda e: (e["rank"] is None, e["rank"] or 0, e["unit"]))

    responses_out = []
    for i in sorted(reasons):
        found = reasons[i]
        order = sorted(found, key=lambda r: -found[r][0])
        responses_out.append(
            {
                "response_id": table.response_id[i],
                "unit": table.units[table.unit[i]],
                "rater_group": table.groups[table.group[i]],
                "suspect": bool(suspect[i]),
                "reasons": order,
                "strength": {r: round(found[r][0], 3) for r in order},
                "details": {r: found[r][1] for r in order},
                "explanation": "; ".join(describe(r, found[r][1]) for r in order),
            }
        )
    flag_counts = {r: 0 for r in stats.RESPONSE_REASONS}
    for found in reasons.values():
        for r in found:
            if r in flag_counts:
                flag_counts[r] += 1

    scale_out: list[float] | dict[str, list[float]]
    if len(set(zip(lo.tolist(), hi.tolist(), strict=True))) == 1 and lo.size:
        scale_out = [float(lo[0]), float(hi[0])]
    else:
        scale_out = {
            name: [float(a), float(b)] for name, a, b in zip(table.item_names, lo, hi, strict=True)
        }
    return {
        "input": {
            "rows": n,
            "items": table.item_names,
            "scale": scale_out,
            "text_items": table.text_items,
            "empty_items": table.empty_items,
            "groups": table.groups,
        },
        "settings": {
            "method": options.method,
            "min_n": options.min_n,
            "group_min_n": dict(options.group_min_n),
            "weights": weights_used,
            "missing_policy": "renormalize",
            "duplicate_window_s": options.duplicate_window,
            "surge_alpha": stats.SURGE_ALPHA,
            "surge_distinct_alpha": stats.DISTINCT_ALPHA,
            "surge_posterior": stats.SUSPECT_POSTERIOR,
            "rater_min_effect": options.rater_min_effect,
            "rater_robust_z": options.rater_robust_z,
        },
        "summary": {
            "suspect": int(suspect.sum()),
            "used": int(used.sum()),
            "flags": flag_counts,
            "conflicts_excluded": int(conflict.sum()),
            "reviewed_valid": int(kept.sum()),
            "reviewed_out": int(dropped.sum()),
        },
        "responses": responses_out,
        "raters": raters_out,
        "units": units_out,
        "reliability": _reliability(table, matrices),
    }


_EPOCH = date(1970, 1, 1)


def _bounded(found: stats.BoundedScores, u: int) -> dict:
    """A unit's bounded-influence score beside what its surges would have made of the plain
    mean (every surge response counted as an ordinary one)."""
    out = {
        "bounded_score": _round(found.bounded[u]),
        "bounded_ci95": _ci(found.bounded[u], found.bounded_half[u]),
        "effective_n": _round(found.effective_n[u]),
        "with_surge_score": _round(found.plain[u]),
        "with_surge_ci95": _ci(found.plain[u], found.plain_half[u]),
        "surge_shift": _round(found.shift[u]),
    }
    return out


def _plain(found: dict) -> dict:
    """Flag numbers rounded for the JSON (tuples become lists)."""
    out: dict = {}
    for key, value in found.items():
        if isinstance(value, tuple | list):
            out[key] = [round(v, 3) if isinstance(v, float) else v for v in value]
        elif isinstance(value, float):
            out[key] = round(value, 3) if math.isfinite(value) else None
        else:
            out[key] = value
    return out


# English sentences for the command and its JSON; the pages make their own.
_SENTENCES = {
    "speeder": "answered in {seconds:.0f} s; typical for this questionnaire is "
    "{typical_seconds:.0f} s ({times_faster:.1f}x faster)",
    "duplicate": "the same device rated this unit {earlier:.0f} time(s) before within "
    "{window_hours:g} h",
    "burst": "{count:.0f} submissions for this unit within {window_minutes:g} min; its usual "
    "rate gives {expected:.2f}",
    "surge": "one of {count:.0f} submissions for this unit that day, where its ordinary "
    "traffic gives {expected:.1f}; fits the surge's profile with probability {posterior:.0%}",
    "in_surge": "submitted on a surge day ({count:.0f} against {expected:.1f} ordinarily) "
    "but looks like the unit's ordinary responses (surge probability {posterior:.0%})",
    "network": "{count:.0f} of this unit's {of:.0f} submissions from new devices within "
    "{window_hours:.0f} h came from one network (one network usually holds at most "
    "{usual_share:.0%})",
    "straightline": "the same answer ({answer:g}) to all {items:.0f} items",
    "outlier": "score {score:.0f} against this unit's median {unit_median:.0f} "
    "(robust z = {robust_z:.1f})",
    "lenient": "scores {points:.1f} points above the other raters on the same units",
    "severe": "scores {points:.1f} points below the other raters on the same units",
    "flat_rater": "gives every unit about the same score (SD {sd:.1f} across {units:.0f} "
    "units; typical rater {typical_sd:.1f})",
    "own_unit": "rates their own unit {points:.1f} points above how the others rate it "
    "(z = {z:.1f})",
}


def describe(reason: str, details: dict) -> str:
    """One flag as an English sentence."""
    if reason == "collusion":
        pairs = ", ".join(
            f"{p} (r = {r:.2f})" for p, r in zip(details["partners"], details["r"], strict=True)
        )
        text = f"deviates from the consensus in step with rater(s) {pairs}"
    else:
        values = {k: (math.nan if v is None else v) for k, v in details.items()}
        text = _SENTENCES[reason].format(**values)
    return f"rater {details['rater']}: {text}" if "rater" in details else text


def _ci(value: float, half: float) -> list[float] | None:
    """value ± half on the 0–100 scale, clipped to it: a score near 100 with few raters has a
    normal interval past 100 ("93.3–100.5"), which no unit can score."""
    if not (math.isfinite(value) and math.isfinite(half)):
        return None
    return [round(max(0.0, value - half), 1), round(min(100.0, value + half), 1)]


def _rater_group(table, g, in_group, score, suspect, reasons, matrices, options):
    idx = np.nonzero(in_group & ~suspect & ~np.isnan(score))[0]
    all_idx = np.nonzero(in_group)[0]
    rater_codes, r_local_all = np.unique(table.rater[all_idx], return_inverse=True)
    unit_codes = np.unique(table.unit[all_idx])
    u_map = {int(c): i for i, c in enumerate(unit_codes)}
    r_map = {int(c): i for i, c in enumerate(rater_codes)}
    k, m = rater_codes.size, unit_codes.size
    sums = np.zeros((m, k))
    counts = np.zeros((m, k))
    u_loc = np.array([u_map[int(c)] for c in table.unit[idx]], np.int64)
    r_loc = np.array([r_map[int(c)] for c in table.rater[idx]], np.int64)
    np.add.at(sums, (u_loc, r_loc), score[idx])
    np.add.at(counts, (u_loc, r_loc), 1)
    with np.errstate(invalid="ignore"):
        matrix = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
    own = np.full(k, -1, np.int64)
    for i in all_idx:
        ru = int(table.rater_unit[i])
        if ru >= 0 and ru in u_map:
            own[r_map[int(table.rater[i])]] = u_map[ru]
    report = stats.rater_flags(
        matrix, own, min_effect=options.rater_min_effect, robust_z=options.rater_robust_z
    )
    clean = np.where(report.conflict, np.nan, matrix)
    matrices[g] = (clean, unit_codes, rater_codes)
    by_rater: dict[int, list[str]] = {}
    details: dict[int, dict[str, dict]] = {}
    for reason, flags in report.flags.items():
        for j, found in zip(flags.index, flags.details, strict=True):
            found = _plain(found)
            if "partners" in found:  # columns to the raters' own ids
                found["partners"] = [
                    table.raters[int(rater_codes[int(o)])] for o in found["partners"]
                ]
            by_rater.setdefault(int(j), []).append(reason)
            details.setdefault(int(j), {})[reason] = found
            if reason in stats.SUSPECT_RATER_REASONS:
                mine = all_idx[r_local_all == j]
                if reason == "own_unit":
                    mine = mine[table.unit[mine] == unit_codes[own[j]]]
                for i in mine:
                    reasons.setdefault(int(i), {})[reason] = (
                        float(flags.strength[list(flags.index).index(j)]),
                        {"rater": table.raters[int(rater_codes[int(j)])], **found},
                    )
    out = []
    n_per = np.bincount(r_local_all, minlength=k)
    eff = report.effects
    for j, code in enumerate(rater_codes):
        out.append(
            {
                "rater": table.raters[int(code)],
                "group": table.groups[g],
                "n": int(n_per[j]),
                "severity": _round(eff.severity[j], 2) if eff is not None else None,
                "severity_se": _round(eff.severity_se[j], 2) if eff is not None else None,
                "reasons": by_rater.get(j, []),
                "details": details.get(j, {}),
                "explanation": "; ".join(describe(r, d) for r, d in details.get(j, {}).items()),
            }
        )
    return out


def _group_scores(table, g, used, score, satisfied, eligible, options, matrix, n_units):
    mask = table.group == g
    n = np.bincount(table.unit[mask], minlength=n_units)
    sel = mask & used
    keys = table.unit[sel]
    mean, n_used, half = _grouped_mean_ci(score[sel], keys, n_units)
    method = "mean"
    if matrix is not None and options.method != "mean":
        clean, unit_codes, _ = matrix
        if options.method == "trimmed":
            method = "trimmed"
            trimmed = stats.trimmed_mean(clean, drop=1)
            mean = np.full(n_units, np.nan)
            half = np.full(n_units, np.nan)
            for local, u in enumerate(unit_codes):
                row = np.sort(clean[local][~np.isnan(clean[local])])
                kept = row[1:-1]
                mean[u] = trimmed[local]
                if kept.size >= 2:
                    half[u] = stats.mean_interval(kept).high - kept.mean()
        else:
            keep_rows = (~np.isnan(clean)).any(axis=1)
            keep_cols = (~np.isnan(clean)).any(axis=0)
            try:
                fit = stats.rater_effects(clean[np.ix_(keep_rows, keep_cols)])
            except ValueError:
                fit = None
            if fit is not None:
                method = "adjusted"
                per_unit = (~np.isnan(clean[keep_rows][:, keep_cols])).sum(axis=1)
                mean = np.full(n_units, np.nan)
                half = np.full(n_units, np.nan)
                t = sps.t.ppf(0.975, max(fit.df_resid, 1))
                for local, u in enumerate(unit_codes[keep_rows]):
                    mean[u] = fit.unit_scores[local]
                    half[u] = t * fit.sigma / math.sqrt(per_unit[local])
    sat_sel = sel & eligible
    sat_n = np.bincount(table.unit[sat_sel], minlength=n_units)
    sat_k = np.bincount(table.unit[sat_sel & satisfied], minlength=n_units)
    too_few = n_used < options.min_for(table.groups[g])
    return {
        "n": n,
        "n_used": n_used,
        "score": np.where(too_few, np.nan, mean),
        "half": np.where(too_few, np.nan, half),
        "sat_n": sat_n,
        "sat_k": sat_k,
        "method": method,
    }


def _composite(table, group_scores, weights_opt, options, n_units):
    present_groups = [
        gname for gname in table.groups if np.any(~np.isnan(group_scores[gname]["score"]))
    ]
    if weights_opt is None:
        weights_opt = {gname: 1.0 for gname in present_groups} or {table.groups[0]: 1.0}
    parts: dict[str, np.ndarray] = {}
    halves: dict[str, np.ndarray] = {}
    if set(weights_opt) <= {"internal", "external"}:
        for side in weights_opt:
            members = [
                gname
                for gname in table.groups
                if (gname in options.internal_groups) == (side == "internal")
            ]
            if not members:
                raise OptionError("weights_side", side)
            sub = stats.combine(
                {m: group_scores[m]["score"] for m in members}, {m: 1.0 for m in members}
            )
            parts[side] = sub.score
            var = sum(
                (np.nan_to_num(group_scores[m]["half"]) / 1.96) ** 2
                * (~np.isnan(group_scores[m]["score"]))
                for m in members
            )
            cnt = sum((~np.isnan(group_scores[m]["score"])).astype(float) for m in members)
            with np.errstate(invalid="ignore", divide="ignore"):
                halves[side] = 1.96 * np.sqrt(var) / np.where(cnt > 0, cnt, np.nan)
    else:
        unknown = sorted(set(weights_opt) - set(table.groups))
        if unknown:
            raise OptionError("weights_group", ", ".join(unknown))
        for gname in weights_opt:
            parts[gname] = group_scores[gname]["score"]
            halves[gname] = group_scores[gname]["half"]
    result = stats.combine(parts, weights_opt, missing="renormalize")
    var = np.zeros(n_units)
    for name, arr in parts.items():
        w = result.weights[name] / np.where(result.used_weight > 0, result.used_weight, np.nan)
        var += np.where(~np.isnan(arr), (w * np.nan_to_num(halves[name]) / 1.96) ** 2, 0.0)
    half = 1.96 * np.sqrt(var)
    return result.score, half, {k: round(v, 6) for k, v in result.weights.items()}, result.missing


def _reliability(table, matrices) -> dict:
    if not matrices:
        return {"group": None, "note": "no identified raters in the data"}
    g, (clean, _, _) = max(matrices.items(), key=lambda kv: int((~np.isnan(kv[1][0])).sum()))
    out: dict = {
        "group": table.groups[g],
        "units": int(clean.shape[0]),
        "raters": int(clean.shape[1]),
    }
    if clean.shape[1] < 2:
        out["note"] = "agreement needs at least two identified raters"
        return out
    try:
        out["icc"] = {
            name: {
                "value": _round(r.value, 4),
                "f": _round(r.f, 4),
                "df1": r.df1,
                "df2": r.df2,
                "pvalue": _round(r.pvalue, 6),
                "ci95": [_round(r.ci95[0], 4), _round(r.ci95[1], 4)],
            }
            for name, r in stats.icc(clean).items()
        }
    except ValueError as exc:
        out["icc"] = {"error": str(exc)}
    try:
        w = stats.kendall_w(clean)
        out["kendall_w"] = {
            "statistic": _round(w.statistic, 4),
            "chi2": _round(w.chi2, 3),
            "df": w.df,
            "pvalue": _round(w.pvalue, 6),
        }
    except ValueError as exc:
        out["kendall_w"] = {"error": str(exc)}
    try:
        out["krippendorff_alpha"] = _round(stats.krippendorff_alpha(clean, "interval"), 4)
    except ValueError as exc:
        out["krippendorff_alpha"] = None
        out["krippendorff_alpha_error"] = str(exc)
    return out


def render_text(report: dict, limit: int | None = None) -> str:
    """A readable table for the terminal."""
    groups = report["input"]["groups"]
    lines = [
        f"{report['input']['rows']} responses · {len(report['units'])} units · "
        f"items {', '.join(report['input']['items']) or '(none numeric)'} · "
        f"scale {report['input']['scale']}",
        f"suspect {report['summary']['suspect']} · flags "
        + ", ".join(f"{k} {v}" for k, v in report["summary"]["flags"].items())
        + f" · weights {report['settings']['weights']}",
        "",
        f"{'rank':>4}  {'unit':<12} {'n':>6} {'used':>6} {'score':>6}  {'95% CI':<13}"
        + "".join(f" {g[:9]:>9}" for g in groups),
    ]
    rows = report["units"] if limit is None else report["units"][:limit]
    for u in rows:
        rank = "" if u["rank"] is None else f"{u['rank']}{'=' if u['tied'] else ''}"
        ci = "" if u["ci95"] is None else f"{u['ci95'][0]:.1f}-{u['ci95'][1]:.1f}"
        score = "too few" if u["score"] is None else f"{u['score']:.1f}"
        cells = ""
        for g in groups:
            entry = u["groups"].get(g)
            cells += f" {'' if entry is None or entry['score'] is None else entry['score']:>9}"
        lines.append(
            f"{rank:>4}  {u['unit']:<12} {u['n']:>6} {u['n_used']:>6} {score:>6}  {ci:<13}{cells}"
        )
    if limit is not None and len(report["units"]) > limit:
        lines.append(f"… {len(report['units']) - limit} more units in the JSON")
    flagged = [r for r in report["raters"] if r["reasons"]]
    if flagged:
        lines += ["", "raters flagged:"]
        lines += [
            f"  {r['rater']} ({r['group']}): {', '.join(r['reasons'])}: {r['explanation']}"
            for r in flagged
        ]
    rel = report["reliability"]
    if rel.get("group") and "note" in rel:
        lines += ["", f"reliability ({rel['group']}): {rel['note']}"]
    elif rel.get("group"):
        icc = rel.get("icc", {})
        w = rel.get("kendall_w", {})
        lines += [
            "",
            f"reliability ({rel['group']}): ICC2k "
            f"{icc.get('ICC2k', {}).get('value', icc.get('error'))}, Kendall's W "
            f"{w.get('statistic', w.get('error'))}, Krippendorff's alpha "
            f"{rel.get('krippendorff_alpha')}",
        ]
    return "\n".join(lines)
