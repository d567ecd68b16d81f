"""Failed sign-ins kept for the account's owner and the admin (never a password or an
address: a short salted hash of the network prefix)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from evalsurvey.extensions import db
from evalsurvey.models import SigninFailure, StaffUser
from evalsurvey.models.types import utcnow

KEEP_DAYS = 90
RECENT_DAYS = 7


def record_failure(user: StaffUser, network: str) -> None:
    """A wrong password for ``user``. Flushed."""
    db.session.add(SigninFailure(user_id=user.id, at=utcnow(), network=network[:12]))
    db.session.flush()


def take_unseen(user: StaffUser) -> int:
    """The failures since the owner last signed in, now marked seen (and those past
    ``KEEP_DAYS`` forgotten). Flushed."""
    unseen = db.session.scalar(
        select(func.count())
        .select_from(SigninFailure)
        .where(SigninFailure.user_id == user.id, SigninFailure.seen.is_(False))
    )
    if unseen:
        db.session.execute(
            update(SigninFailure)
            .where(SigninFailure.user_id == user.id, SigninFailure.seen.is_(False))
            .values(seen=True)
        )
    db.session.execute(
        delete(SigninFailure).where(
            SigninFailure.user_id == user.id,
            SigninFailure.at < utcnow() - timedelta(days=KEEP_DAYS),
        )
    )
    db.session.flush()
    return unseen or 0


@dataclass(frozen=True)
class Recent:
    count: int
    last: datetime | None
    networks: int


def recent_failures(days: int = RECENT_DAYS) -> dict[int, Recent]:
    """Per account: failures of the last ``days`` days, the latest, and from how many
    networks (accounts without failures are absent)."""
    rows = db.session.execute(
        select(
            SigninFailure.user_id,
            func.count(),
            func.max(SigninFailure.at),
            func.count(SigninFailure.network.distinct()),
        )
        .where(SigninFailure.at >= utcnow() - timedelta(days=days))
        .group_by(SigninFailure.user_id)
    )
    return {user_id: Recent(count, last, networks) for user_id, count, last, networks in rows}
