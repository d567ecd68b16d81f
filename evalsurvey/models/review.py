"""The two-level review: a lower-level body's proposals and the upper level's re-review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.types import UTCDateTime, utcnow
from evalsurvey.models.units import Unit


class GradeProposal(db.Model):
    """A lower-level body's score and grade for one of its units, and the upper level's
    re-review of it. Both are kept; the reviewed score, where there is one, stands."""

    __tablename__ = "grade_proposals"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_id", name="uq_grade_proposals_cycle_unit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # the lower-level body that proposes (the unit's parent, e.g. its street)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    score: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    proposed_by: Mapped[str] = mapped_column(String(80))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_score: Mapped[float | None] = mapped_column(Float)
    review_note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str] = mapped_column(String(80), default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the computed composite each was made against: once the composite moves, the proposal
    # (or the review) is stale and must be confirmed again (None: made before this was kept)
    computed_score: Mapped[float | None] = mapped_column(Float)
    computed_run_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_runs.id"))
    reviewed_computed: Mapped[float | None] = mapped_column(Float)
    reviewed_run_id: Mapped[int | None] = mapped_column(ForeignKey("analysis_runs.id"))

    cycle: Mapped[Cycle] = relationship()
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    body: Mapped[Unit | None] = relationship(foreign_keys=[body_id])


class ReviewDraw(db.Model):
    """The upper level's sample for one unit type of a cycle: every proposal at the grades
    in ``always`` and a seeded share of the rest. The seed is kept so anyone can redraw it."""

    __tablename__ = "review_draws"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_type", name="uq_review_draws_cycle_unit_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    always: Mapped[list[str]] = mapped_column(JSON)  # grade codes reviewed in full
    rate: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column()
    units: Mapped[list[str]] = mapped_column(JSON)  # the unit codes drawn
    drawn_by: Mapped[str] = mapped_column(String(80))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cycle: Mapped[Cycle] = relationship()
