"""Stored analysis runs: the numbers that review and publication point at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.types import UTCDateTime, utcnow


class AnalysisRun(db.Model):
    """One computation of a cycle's scores for one unit type: who, when, with what, what came out.

    A run is never changed after it is stored; recomputing makes a new run.
    """

    __tablename__ = "analysis_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    # "analysis": the survey statistics; "composite": the weighted result of the components
    kind: Mapped[str] = mapped_column(String(20), default="analysis")
    unit_type: Mapped[str] = mapped_column(String(40), default="")  # "" = every type together
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    n_responses: Mapped[int] = mapped_column(default=0)
    n_used: Mapped[int] = mapped_column(default=0)
    n_suspect: Mapped[int] = mapped_column(default=0)
    # The report as JSON (the same document `evalsurvey analyze --json` writes), or None
    # with `message` when there was nothing to analyze.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(String(40), default="")

    cycle: Mapped[Cycle] = relationship()


class CompositeSetting(db.Model):
    """How a cycle combines the components for units of one type: weights and the policy
    for a missing component (``renormalize`` or ``require``)."""

    __tablename__ = "composite_settings"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_type", name="uq_composite_settings_cycle_unit_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    weights: Mapped[dict[str, float]] = mapped_column(JSON)  # component → weight
    missing: Mapped[str] = mapped_column(String(20), default="renormalize")
    # the satisfaction share split between internal and external groups, as the office set
    # it (None: weights set per group); ``weights`` holds the per-group weights it gives
    split: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class GradeSetting(db.Model):
    """How a cycle grades units of one type: star bands or grades with quotas (the rules'
    JSON contract, see :mod:`evalsurvey.scoring.grading`)."""

    __tablename__ = "grade_settings"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_type", name="uq_grade_settings_cycle_unit_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
