"""Staff accounts and their roles."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from evalsurvey.extensions import db
from evalsurvey.models.types import UTCDateTime, utcnow
from evalsurvey.models.units import Unit


class Role(StrEnum):
    ADMIN = "admin"
    INSPECTOR = "inspector"
    PANEL = "panel"
    UNIT_CONTACT = "unit_contact"
    VIEWER = "viewer"
    # petitions office, discipline inspection, …: submit adjustments for the office to decide
    DEPARTMENT = "department"


def _new_token() -> str:
    return secrets.token_hex(16)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.VIEWER)
    # A unit contact sees only this unit and its children.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session id: a new value (logout, password change) revokes every
    # session cookie issued before it.
    session_token: Mapped[str] = mapped_column(String(32), default=_new_token)

    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.revoke_sessions()

    def revoke_sessions(self) -> None:
        self.session_token = _new_token()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active


class SigninFailure(db.Model):
    """A wrong password for an existing account, kept so its owner (at the next sign-in) and
    the admin (on the staff pages) see it. No password and no address: only a short salted
    hash of the network prefix, to tell one network from several. A row with ``refused``
    above 0 is no wrong password but that many attempts the throttle refused (while sign-in
    was slowed, before any password was checked) from one network within an hour."""

    __tablename__ = "signin_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    network: Mapped[str] = mapped_column(String(12), default="")
    # shown to the owner at a successful sign-in
    seen: Mapped[bool] = mapped_column(default=False)
    refused: Mapped[int] = mapped_column(default=0, server_default=text("0"))
