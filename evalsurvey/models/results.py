"""Stored analysis runs: the numbers that review and publication point at."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
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
