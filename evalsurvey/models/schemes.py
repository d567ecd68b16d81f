"""Indicator schemes as stored versions, and which scheme a cycle uses for each unit type."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.types import UTCDateTime


class SchemeVersion(db.Model):
    """One version of a scheme; its definition is the scheme JSON (the file contract).

    A published version never changes: a new version is made to change it.
    """

    __tablename__ = "schemes"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_schemes_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"

    @property
    def published(self) -> bool:
        return self.published_at is not None


class CycleScheme(db.Model):
    """The scheme version a cycle scores units of one type by (the cycle pins the version)."""

    __tablename__ = "cycle_schemes"
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_type", name="uq_cycle_schemes_cycle_id_unit_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"))

    cycle: Mapped[Cycle] = relationship()
    scheme: Mapped[SchemeVersion] = relationship()
