"""Why a unit has no score for a part of its result, as codes and numbers: a rater group with
fewer scored responses than the cycle's minimum for it ("专家评分份数 4，少于本周期设定的 5
份"), a group with none, an inspection not complete, another cycle without a composite.

Read from the runs the cycle's result stands on (:func:`.results.cycle_result`: the
published one once published): its composite run and the satisfaction analysis that run
read, with the minimum that analysis used. Runs are never changed, so a published result's
reasons stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, Cycle, RaterGroup

TOO_FEW = "too_few"  # fewer scored responses than the minimum
NO_RESPONSES = "no_responses"  # none from the group
NOT_ASSESSED = "not_assessed"  # the inspection is not complete
NO_COMPOSITE = "no_composite"  # another cycle (a roll-up) has no composite for the unit
DEFAULT_MIN_N = 5  # the analysis's own default (Options.min_n)


@dataclass(frozen=True)
class Gap:
    component: str  # inspection, a rater group's code, cycle:CODE
    reason: str
    n: int = 0  # scored responses the analysis used
    minimum: int = 0  # the minimum it applied


def _analysis_of(composite: AnalysisRun | None) -> AnalysisRun | None:
    """The analysis a composite read, its document not read (megabytes: callers pick parts)."""
    from evalsurvey.domain.assessment.composite import run_of

    analysis_id = (composite.options or {}).get("analysis_run") if composite else None
    return run_of(analysis_id) if analysis_id else None


def minimums(analysis: AnalysisRun | None) -> tuple[int, dict[str, int]]:
    """The minimum an analysis applied: its default and each group's own."""
    from evalsurvey.domain.results.cycle import run_parts

    settings = run_parts(analysis, "settings", "units")["settings"] or {}
    return int(settings.get("min_n", DEFAULT_MIN_N)), dict(settings.get("group_min_n") or {})


@dataclass(frozen=True)
class Seen:
    """What the analysis a composite read saw: its minimums and each unit's groups."""

    default: int
    own: dict[str, int]
    groups: dict[str, dict]  # unit code -> group code -> the analysis's entry

    def unit_gaps(self, unit: str, terms) -> dict[str, Gap]:
        """Why each part of one unit's result has no score; ``terms`` are the composite's
        terms of the unit (objects or dicts with ``component`` and ``score``)."""
        from evalsurvey.domain.assessment.composite import CYCLE_PREFIX, INSPECTION

        seen = self.groups.get(unit, {})
        found: dict[str, Gap] = {}
        for group, entry in seen.items():
            least = int(self.own.get(group, self.default))
            if entry.get("n_used", 0) < least:
                found[group] = Gap(group, TOO_FEW, int(entry.get("n_used", 0)), least)
        for term in terms:
            component, score = (
                (term["component"], term["score"])
                if isinstance(term, dict)
                else (term.component, term.score)
            )
            if score is not None or component in found:
                continue
            if component == INSPECTION:
                found[component] = Gap(component, NOT_ASSESSED)
            elif component.startswith(CYCLE_PREFIX):
                found[component] = Gap(component, NO_COMPOSITE)
            elif component not in seen:
                least = int(self.own.get(component, self.default))
                found[component] = Gap(component, NO_RESPONSES, 0, least)
        return found


def seen_by(composite_run: int | None) -> Seen:
    """The analysis the composite run ``composite_run`` read (decoded once per caller)."""
    from evalsurvey.domain.assessment.composite import run_of

    analysis = _analysis_of(run_of(composite_run)) if composite_run else None
    from evalsurvey.domain.results.cycle import run_parts

    default, own = minimums(analysis)
    units = run_parts(analysis, "settings", "units")["units"] or []
    return Seen(default, own, {u["unit"]: u.get("groups") or {} for u in units})


def gaps(cycle: Cycle, unit_type: str) -> dict[str, dict[str, Gap]]:
    """Unit → component → why it has no score: every part of the composite without one,
    and every rater group the analysis saw for the unit below its minimum."""
    from evalsurvey.domain.results.cycle import cycle_result

    result = cycle_result(cycle, unit_type)
    if result is None or result.composite_run is None:
        return {}
    seen = seen_by(result.composite_run)
    out: dict[str, dict[str, Gap]] = {}
    for unit in result.units:
        found = seen.unit_gaps(unit.unit, unit.terms)
        if found:
            out[unit.unit] = found
    return out


def minimums_changed(cycle: Cycle, unit_type: str) -> bool:
    """The cycle's minimum per group differs from the one the stored result's analysis
    applied (a new analysis and composite would apply it)."""
    from evalsurvey.domain.assessment.composite import latest_composite
    from evalsurvey.domain.results.cycle import run_parts

    # the latest composite is the one the current result stands on: no need to build it
    analysis = _analysis_of(latest_composite(cycle, unit_type))
    parts = run_parts(analysis, "settings", "units")
    if not parts["settings"] and not parts["units"]:
        return False
    default, own = minimums(analysis)
    wanted = cycle.group_min_n or {}
    groups = db.session.scalars(db.select(RaterGroup.code))
    return any(int(own.get(g, default)) != int(wanted.get(g, DEFAULT_MIN_N)) for g in groups)
