"""Assessment cycles: the period a set of links collects responses for."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from evalsurvey.extensions import db
from evalsurvey.models.types import UTCDateTime, utcnow


class CycleStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


# Allowed moves; a cycle never goes back to accepting responses once closed.
CYCLE_TRANSITIONS = {
    CycleStatus.DRAFT: {CycleStatus.OPEN},
    CycleStatus.OPEN: {CycleStatus.CLOSED},
    CycleStatus.CLOSED: {CycleStatus.PUBLISHED},
    CycleStatus.PUBLISHED: set(),
}

PERIODS = ("year", "half", "quarter", "month")


class Cycle(db.Model):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(10), default="year")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=CycleStatus.DRAFT)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the fewest scored responses a rater group needs for a unit before it has a score, by
    # group code; a group not named keeps the analysis's default (five)
    group_min_n: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    def closed_since(self, now: datetime | None = None) -> datetime | None:
        """When the cycle stopped accepting responses, or None while it accepts them."""
        now = now or utcnow()
        if self.status in (CycleStatus.CLOSED, CycleStatus.PUBLISHED):
            return self.closed_at or self.closes_at or now
        if self.closes_at is not None and now >= self.closes_at:
            return self.closes_at
        return None

    def accepting(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.status != CycleStatus.OPEN:
            return False
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closed_since(now) is None

    def __repr__(self) -> str:
        return f"<Cycle {self.code} {self.status}>"
