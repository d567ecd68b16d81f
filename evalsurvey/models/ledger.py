"""The rectification ledger (整改台账): every problem found, with an owner and a deadline,
closed only by a reviewer with evidence (销号管理)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.types import UTCDateTime, utcnow
from evalsurvey.models.units import Unit


class RectificationItem(db.Model):
    __tablename__ = "rectification_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    source: Mapped[str] = mapped_column(String(20))  # deduction | review
    reference: Mapped[str] = mapped_column(String(60), default="")  # element code, response id
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    due_on: Mapped[date | None] = mapped_column(Date)
    visit_due_on: Mapped[date | None] = mapped_column(Date)  # bad reviews: the return visit
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    note: Mapped[str] = mapped_column(Text, default="")  # the latest answer or reason
    evidence: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by: Mapped[str] = mapped_column(String(80), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cycle: Mapped[Cycle] = relationship()
    unit: Mapped[Unit] = relationship()
