"""Inspectors' findings: what was found for one element of one unit in one cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.schemes import SchemeVersion
from evalsurvey.models.types import UTCDateTime, utcnow
from evalsurvey.models.units import Unit


class Finding(db.Model):
    """The value an element's rule reads (see :mod:`evalsurvey.scoring.findings`).

    Every change is audited old → new, with ``reason`` (why it changed) among the columns.
    """

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_id", "element", name="uq_findings_cycle_unit_element"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))
    element: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    evidence: Mapped[str] = mapped_column(String(255), default="")  # a file under instance/
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    cycle: Mapped[Cycle] = relationship()
    unit: Mapped[Unit] = relationship()
    scheme: Mapped[SchemeVersion] = relationship()
