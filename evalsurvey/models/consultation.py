"""Department consultation: adjustments (a penalty or a veto) submitted by other departments
(petitions office, discipline inspection, …) and decided by the office."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.types import UTCDateTime, utcnow
from evalsurvey.models.units import Unit


class Adjustment(db.Model):
    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    item: Mapped[str] = mapped_column(String(40))  # a penalty or veto code of the scheme
    value: Mapped[str] = mapped_column(String(200))  # e.g. "criticised:1", or "1" for a veto
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(String(255), default="")
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[str] = mapped_column(String(80), default="")
    decision: Mapped[str] = mapped_column(Text, default="")  # the office's reason
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cycle: Mapped[Cycle] = relationship()
    unit: Mapped[Unit] = relationship()
