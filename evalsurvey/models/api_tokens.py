"""API tokens: a staff member's key for other systems (``Authorization: Bearer …``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.staff import StaffUser
from evalsurvey.models.types import UTCDateTime, utcnow


class TokenScope(StrEnum):
    READ = "read"  # GET only
    WRITE = "write"  # GET and the writes the owner's role allows (ingesting responses)


class ApiToken(db.Model):
    """One token of one staff member. Only a SHA-256 of the secret is kept (the token is
    256 random bits, so a fast hash is enough and a lookup costs one index probe); the
    secret itself is shown once, when it is made. ``prefix`` (its first characters) lets
    people tell their tokens apart on the staff pages and in the audit log."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    scope: Mapped[str] = mapped_column(String(10), default=TokenScope.READ)
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[StaffUser] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
