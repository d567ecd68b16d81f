"""The statistics on a cycle's stored responses, and the runs that keep their results.

The response table is built straight from the database (the command reads the same
table from the interchange CSV), so review decisions travel with every response:
``excluded`` never counts, ``suspect`` counts only once a person makes it ``valid``,
and a person's ``valid`` beats every statistical rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import defer

from evalsurvey import stats
from evalsurvey.analysis.reader import InputError, ResponseTable
from evalsurvey.analysis.report import OptionError, Options, analyze
from evalsurvey.domain.collecting.questionnaires import cycle_questionnaires
from evalsurvey.domain.cycles import earlier_than
from evalsurvey.domain.results.bulk import read_response_table
from evalsurvey.domain.results.cycle import forget, responses_digest
from evalsurvey.extensions import db
from evalsurvey.models import (
    AnalysisRun,
    Cycle,
    ItemType,
    RaterGroup,
    Response,
    ResponseStatus,
    Unit,
)
from evalsurvey.models.types import utcnow

SCORED = {ItemType.SATISFACTION5, ItemType.SCALE10, ItemType.POINTS}
# Why a run has no result; shown to people through their labels.
NOTHING_TO_ANALYZE = "no_responses"


def item_scales(cycle: Cycle) -> dict[str, tuple[float, float]]:
    """Scale of every scored item answered in ``cycle`` (the newest version wins)."""
    versions = cycle_questionnaires(cycle.id)
    scales: dict[str, tuple[float, float]] = {}
    for q in versions:
        for item in q.items:
            if item.type == ItemType.SATISFACTION5:
                scales[item.code] = (1.0, 5.0)
            elif item.type == ItemType.SCALE10:
                scales[item.code] = (0.0, 10.0)
            elif item.type == ItemType.POINTS and item.max_points:
                scales[item.code] = (0.0, float(item.max_points))
    return scales


def _epoch(value) -> float:
    return value.timestamp() if value is not None else math.nan


def response_table(cycle: Cycle, unit_ids: Iterable[int] | None = None) -> ResponseTable:
    """The cycle's responses (``excluded`` left out) as the analysis's typed table.

    Read in bulk (PostgreSQL's COPY, SQLite's plain cursor; see
    :mod:`evalsurvey.domain.results.bulk`): a million rows in seconds.
    """
    return read_response_table(cycle.id, list(item_scales(cycle)), unit_ids)


def cycle_options(cycle: Cycle, **overrides) -> Options:
    """Options for a cycle: item scales from its questionnaires, internal groups from the
    rater groups' own setting, each group's minimum n from the cycle's setting;
    ``overrides`` (method, weights, min_n) as given."""
    scales = item_scales(cycle)
    internal = frozenset(db.session.scalars(select(RaterGroup.code).where(RaterGroup.internal)))
    # the office's day, for the hour-of-day profile of the burst rule
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    offset = (cycle.opens_at or utcnow()).astimezone(zone).utcoffset().total_seconds()
    # the cycle's own minimum per rater group (a panel of four experts: 4)
    overrides.setdefault("group_min_n", dict(cycle.group_min_n or {}))
    return Options(
        item_scales=scales,
        items=tuple(scales),
        internal_groups=internal,
        day_offset=offset,
        **overrides,
    )


def earlier_rates(cycle: Cycle, units: list[str], day_offset: float):
    """The units' usual submissions per hour of day in the latest earlier cycle (in
    :func:`evalsurvey.domain.cycles.in_time_order`) that has responses from them (shaped
    ``(len(units), 24)``, NaN for a unit it did not see), or None.

    The burst rule's baseline may not rise above a multiple of these (see
    :func:`evalsurvey.stats.usual_rates`). Responses that were excluded or are still suspect
    do not count: an earlier flood does not raise this cycle's baseline either."""
    if not units:
        return None
    ids = dict(db.session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(units))).all())
    # earlier in time as every page orders cycles (one saved without an opening time too)
    for other in earlier_than(cycle):
        rows = db.session.execute(
            select(Response.unit_id, Response.submitted_at).where(
                Response.cycle_id == other.id,
                Response.unit_id.in_(list(ids.values())),
                Response.status == ResponseStatus.VALID,
            )
        ).all()
        if not rows:
            continue
        position = {ids[code]: i for i, code in enumerate(units) if code in ids}
        code = np.array([position[uid] for uid, _t in rows], np.int64)
        when = np.array([_epoch(t) for _uid, t in rows], np.float64)
        rates = np.full((len(units), 24), np.nan)
        found = stats.usual_rates(code, when, day_offset)
        rates[: found.shape[0]] = found
        rates[np.bincount(code, minlength=len(units)) == 0] = np.nan  # not seen then
        return rates
    return None


def analyze_cycle(cycle: Cycle, options: Options | None = None, unit_type: str | None = None):
    """The analysis report of a cycle's responses, optionally for one unit type.

    Raises :class:`~evalsurvey.analysis.reader.InputError` when there is nothing to
    analyze and :class:`~evalsurvey.analysis.report.OptionError` for unusable options.
    """
    options = options or cycle_options(cycle)
    unit_ids = (
        list(db.session.scalars(select(Unit.id).where(Unit.type == unit_type)))
        if unit_type
        else None
    )
    table = response_table(cycle, unit_ids)
    table.earlier_rates = earlier_rates(cycle, table.units, options.day_offset)
    # an item no response of this selection answered is not scored
    present = set(table.item_names) | set(table.empty_items)
    options = replace(
        options, item_scales={k: v for k, v in options.item_scales.items() if k in present}
    )
    return analyze(table, options)


def unit_types_in(cycle: Cycle) -> list[str]:
    """The unit types that have responses in ``cycle``, in a stable order."""
    # the units of the cycle's responses, found by the database (not a row per response)
    units = select(Response.unit_id).where(Response.cycle_id == cycle.id).distinct()
    return sorted(
        set(db.session.scalars(select(Unit.type).where(Unit.id.in_(units.scalar_subquery()))))
    )


def run_analysis(
    cycle: Cycle,
    actor: str,
    options: Options | None = None,
    unit_types: list[str] | None = None,
) -> list[AnalysisRun]:
    """Compute and store one run per unit type (every type with responses by default).

    Units are ranked against units of their own type. Commits. Raises
    :class:`OptionError` (nothing stored) when the options cannot be used.
    """
    options = options or cycle_options(cycle)
    types = unit_types if unit_types is not None else unit_types_in(cycle)
    runs = []
    for unit_type in types:
        run = AnalysisRun(
            cycle_id=cycle.id,
            unit_type=unit_type,
            created_by=actor,
            options=options.as_json(),
        )
        # what it read, so a later review decision shows the analysis out of date
        run.options["responses_digest"] = responses_digest(cycle, unit_type)
        try:
            report = analyze_cycle(cycle, options, unit_type or None)
        except InputError:
            run.message = NOTHING_TO_ANALYZE
        except OptionError:
            db.session.rollback()
            raise
        else:
            run.result = report
            run.n_responses = report["input"]["rows"]
            run.n_used = report["summary"]["used"]
            run.n_suspect = report["summary"]["suspect"]
        db.session.add(run)
        runs.append(run)
    db.session.commit()
    forget()
    return runs


def latest_runs(cycle: Cycle) -> dict[str, AnalysisRun]:
    """The newest stored run of each unit type of ``cycle``. Their reports (one entry per
    response: megabytes of JSON) are read only when a caller touches ``run.result``."""
    runs = db.session.scalars(
        select(AnalysisRun)
        .options(defer(AnalysisRun.result))
        .where(AnalysisRun.cycle_id == cycle.id, AnalysisRun.kind == "analysis")
        .order_by(AnalysisRun.id)
    )
    return {run.unit_type: run for run in runs}


def mark_suspects(report: dict) -> int:
    """Set status ``suspect`` on the report's suspect responses that no person reviewed.

    Only responses still ``valid`` and never reviewed are touched: a reviewer's
    decision is never overwritten. Returns how many changed.
    """
    ids = [r["response_id"] for r in report["responses"] if r["suspect"]]
    changed = 0
    for start in range(0, len(ids), 500):
        rows = db.session.scalars(
            select(Response).where(
                Response.public_id.in_(ids[start : start + 500]),
                Response.status == ResponseStatus.VALID,
                Response.reviewed.is_(False),
            )
        )
        for response in rows:  # through the ORM, so the audit log records each change
            response.status = ResponseStatus.SUSPECT
            changed += 1
    return changed
