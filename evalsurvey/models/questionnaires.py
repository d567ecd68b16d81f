"""Versioned questionnaires and their items."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.types import UTCDateTime


class ItemType(StrEnum):
    SATISFACTION5 = "satisfaction5"  # 5 非常满意 … 1 非常不满意
    SCALE10 = "scale10"  # 0–10
    POINTS = "points"  # 0..max_points, for panels scoring against a rubric
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


SATISFACTION_LEVELS = [
    (5, "非常满意", "Very satisfied"),
    (4, "满意", "Satisfied"),
    (3, "基本满意", "Fairly satisfied"),
    (2, "不满意", "Dissatisfied"),
    (1, "非常不满意", "Very dissatisfied"),
]


class Questionnaire(db.Model):
    """One version of a questionnaire. A published version is immutable."""

    __tablename__ = "questionnaires"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_questionnaires_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    intro_en: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[Item]] = relationship(
        back_populates="questionnaire", order_by="Item.position", cascade="all, delete-orphan"
    )

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def label(self) -> str:
        """How the interchange CSV names this version: ``CODE@VERSION``."""
        return f"{self.code}@{self.version}"

    def __repr__(self) -> str:
        return f"<Questionnaire {self.label}>"


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "code", name="uq_items_questionnaire_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(default=True)
    max_points: Mapped[float | None] = mapped_column()
    # [{"code": "a", "text": "…", "text_en": "…"}] for single/multiple choice
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<Item {self.code} {self.type}>"


class ImmutableVersionError(RuntimeError):
    """Raised when a flush would change a published questionnaire version."""


def _guard_published(session, flush_context, instances) -> None:  # noqa: ARG001
    from sqlalchemy import inspect

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Questionnaire):
            hist = inspect(obj).attrs.published_at.history
            was_published = bool(hist.deleted and hist.deleted[0]) or (
                not hist.has_changes() and obj.published_at is not None
            )
            changed = [
                a.key
                for a in inspect(obj).mapper.column_attrs
                if a.key != "published_at" and inspect(obj).attrs[a.key].history.has_changes()
            ]
            if was_published and (changed or obj in session.deleted):
                raise ImmutableVersionError(f"{obj.label} is published and immutable")
        elif isinstance(obj, Item):
            q = obj.questionnaire
            if (
                q is not None
                and q.published_at is not None
                and (obj in session.deleted or session.is_modified(obj))
            ):
                raise ImmutableVersionError(f"{q.label} is published and immutable")
    for obj in session.new:
        if isinstance(obj, Item) and obj.questionnaire is not None:
            if obj.questionnaire.published_at is not None and obj.questionnaire.id is not None:
                hist = inspect(obj.questionnaire).attrs.published_at.history
                if not hist.has_changes():
                    raise ImmutableVersionError(
                        f"{obj.questionnaire.label} is published and immutable"
                    )


def install_guards() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _guard_published):
        event.listen(Session, "before_flush", _guard_published)


install_guards()
