"""Published results (公示) and the objections raised against them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.results import AnalysisRun
from evalsurvey.models.types import UTCDateTime, utcnow


class Publication(db.Model):
    """A cycle's results for one unit type, frozen from a stored composite run and shown on
    the public disclosure page until (and after) the objection period ends."""

    __tablename__ = "publications"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_type", name="uq_publications_cycle_unit_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    run_id: Mapped[int] = mapped_column(ForeignKey("analysis_runs.id"))
    # what was published, frozen: the rows (standing score, rank, grade and its reason) and
    # each unit's feedback report, so later changes to findings or rules alter neither
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reports: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the typed result of the cycle as published (:class:`evalsurvey.scoring.result.CycleResult`
    # as JSON); None for publications made before it existed (their rows stand)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # published despite stale or missing parts: the admin's stated reason and what it covered
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_by: Mapped[str] = mapped_column(String(80))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    objections_until: Mapped[datetime] = mapped_column(UTCDateTime())

    cycle: Mapped[Cycle] = relationship()
    run: Mapped[AnalysisRun] = relationship()


class Objection(db.Model):
    """An objection to a published result. Name and contact are for the office only."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(80), default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    publication: Mapped[Publication] = relationship()
