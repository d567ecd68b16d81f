"""Distribution links (what a QR code points at) and single-use invitations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db
from evalsurvey.models.cycles import Cycle
from evalsurvey.models.questionnaires import Questionnaire
from evalsurvey.models.types import UTCDateTime, utcnow
from evalsurvey.models.units import RaterGroup, Unit


class LinkMode(StrEnum):
    PUBLIC = "public"  # anyone holding the QR code, e.g. a window's poster
    INVITE = "invite"  # only through single-use invitations


class Link(db.Model):
    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    rater_group_id: Mapped[int] = mapped_column(ForeignKey("rater_groups.id"))
    mode: Mapped[str] = mapped_column(String(10), default=LinkMode.PUBLIC)
    # Panels scoring a rubric are not anonymous: keep the invitation's pseudonym on
    # the response so the statistics can find rater effects. Off for citizens/members.
    record_rater: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cycle: Mapped[Cycle] = relationship()
    questionnaire: Mapped[Questionnaire] = relationship()
    unit: Mapped[Unit] = relationship()
    rater_group: Mapped[RaterGroup] = relationship()

    def closed_since(self, now: datetime | None = None) -> datetime | None:
        if not self.active:
            return self.closed_at or now or utcnow()
        return self.cycle.closed_since(now)

    def __repr__(self) -> str:
        return f"<Link {self.code}>"


class Invitation(db.Model):
    """A single-use token for a named member or expert.

    Anonymity by design: the invitation records only *that* it was used (no time,
    no response id), and the response stores neither the token nor the person.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # Who it is for, for mail-merge; never copied to the response.
    name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    # Pseudonymous rater id (e.g. "E03"), copied to the response only when the link
    # records raters; rater_unit names the rater's own unit for conflict checks.
    rater_code: Mapped[str] = mapped_column(String(40), default="")
    rater_unit: Mapped[str] = mapped_column(String(40), default="")
    used: Mapped[bool] = mapped_column(default=False)

    link: Mapped[Link] = relationship()
