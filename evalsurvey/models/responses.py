"""Responses: one row per submitted questionnaire, never deleted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.links import Link
from evalsurvey.models.questionnaires import Questionnaire
from evalsurvey.models.types import UTCDateTime
from evalsurvey.models.units import RaterGroup, Unit


class Channel(StrEnum):
    QR = "qr"
    INVITE = "invite"
    IMPORT = "import"
    PAPER = "paper"


class ResponseStatus(StrEnum):
    VALID = "valid"
    SUSPECT = "suspect"
    EXCLUDED = "excluded"


class Response(db.Model):
    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, unguessable id used in exports; carries no order information.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("links.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_groups.id"))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    channel: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Salted hash of a first-party cookie id: evidence of repeats, never a raw IP.
    device: Mapped[str] = mapped_column(String(64), default="", index=True)
    # Salted hash of the sender's network prefix (IPv4 /24, IPv6 /48), never an address:
    # evidence of cookie-less repeats. Empty for invitations (members stay unlinkable).
    network: Mapped[str] = mapped_column(String(32), default="")
    # Idempotency key carried by the form: the same key never makes a second row.
    submission_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=ResponseStatus.VALID)
    # True once a person set the status: their decision beats every statistical rule.
    reviewed: Mapped[bool] = mapped_column(default=False)
    rater: Mapped[str] = mapped_column(String(40), default="")
    rater_unit: Mapped[str] = mapped_column(String(40), default="")

    link: Mapped[Link | None] = relationship()
    cycle: Mapped[Cycle] = relationship()
    unit: Mapped[Unit] = relationship()
    rater_group: Mapped[RaterGroup] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()


class BlockedAttempt(db.Model):
    """A public submission refused by a rate limit, counted so the statistics can see a
    flood that the limits held back (``reason``: device, network or link)."""

    __tablename__ = "blocked_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(10))
    network: Mapped[str] = mapped_column(String(32), default="")
