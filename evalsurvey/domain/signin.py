"""Failed sign-ins kept for the account's owner and the admin (never a password or an
address: a short salted hash of the network prefix): wrong passwords one row each, and the
attempts the throttle refused while sign-in was slowed as counts (QA: an attack was largely
invisible when only the attempts that reached the password check were kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from evalsurvey.extensions import db
from evalsurvey.models import SigninFailure, StaffUser
from evalsurvey.models.types import utcnow

KEEP_DAYS = 90
RECENT_DAYS = 7
# refused attempts from one network are kept as one row per this much time (a count in it):
# an attacker's flood of refused attempts adds a row an hour, not a row per attempt
REFUSED_BATCH = timedelta(hours=1)


def record_failure(user: StaffUser, network: str) -> None:
    """A wrong password for ``user``. Flushed."""
    db.session.add(SigninFailure(user_id=user.id, at=utcnow(), network=network[:12]))
    db.session.flush()


def record_refused(user: StaffUser, counts: dict[str, int], at: float | None) -> None:
    """Attempts on ``user`` refused while sign-in was slowed (no password checked), as
    counted per network by the throttle (:func:`evalsurvey.ratelimit.take_refused`): added to
    the unseen count of refusals from that network in the last hour, or a new one, at the
    time of the latest refusal (epoch seconds). Flushed."""
    if not counts:
        return
    when = datetime.fromtimestamp(at, UTC) if at is not None else utcnow()
    for network, count in counts.items():
        batch = db.session.scalar(
            select(SigninFailure.id)
            .where(
                SigninFailure.user_id == user.id,
                SigninFailure.network == network[:12],
                SigninFailure.refused > 0,
                SigninFailure.seen.is_(False),
                SigninFailure.at >= when - REFUSED_BATCH,
            )
            .order_by(SigninFailure.id.desc())
            .limit(1)
        )
        if batch is None:
            db.session.add(
                SigninFailure(user_id=user.id, at=when, network=network[:12], refused=count)
            )
        else:  # counted in the database: two at once both count
            db.session.execute(
                update(SigninFailure)
                .where(SigninFailure.id == batch)
                .values(refused=SigninFailure.refused + count, at=when)
            )
    db.session.flush()


@dataclass(frozen=True)
class Unseen:
    """What happened to an account since its owner last signed in."""

    failed: int  # wrong passwords
    refused: int  # further attempts refused while sign-in was slowed

    def __bool__(self) -> bool:
        return bool(self.failed or self.refused)


def take_unseen(user: StaffUser) -> Unseen:
    """The failures and refused attempts since the owner last signed in, now marked seen
    (and those past ``KEEP_DAYS`` forgotten). Flushed."""
    unseen = (SigninFailure.user_id == user.id, SigninFailure.seen.is_(False))
    failed, refused = db.session.execute(
        select(
            func.count().filter(SigninFailure.refused == 0),
            func.coalesce(func.sum(SigninFailure.refused), 0),
        ).where(*unseen)
    ).one()
    if failed or refused:
        db.session.execute(update(SigninFailure).where(*unseen).values(seen=True))
    db.session.execute(
        delete(SigninFailure).where(
            SigninFailure.user_id == user.id,
            SigninFailure.at < utcnow() - timedelta(days=KEEP_DAYS),
        )
    )
    db.session.flush()
    return Unseen(failed or 0, int(refused or 0))


@dataclass(frozen=True)
class Recent:
    count: int  # wrong passwords
    last: datetime | None  # the latest wrong password or refused attempt
    networks: int  # networks of either
    refused: int = 0  # attempts refused while sign-in was slowed

    @property
    def attempts(self) -> int:
        return self.count + self.refused


def recent_failures(days: int = RECENT_DAYS) -> dict[int, Recent]:
    """Per account: wrong passwords and refused attempts of the last ``days`` days, the
    latest, and from how many networks (accounts without either are absent)."""
    rows = db.session.execute(
        select(
            SigninFailure.user_id,
            func.count().filter(SigninFailure.refused == 0),
            func.max(SigninFailure.at),
            func.count(SigninFailure.network.distinct()),
            func.coalesce(func.sum(SigninFailure.refused), 0),
        )
        .where(SigninFailure.at >= utcnow() - timedelta(days=days))
        .group_by(SigninFailure.user_id)
    )
    return {
        user_id: Recent(count, last, networks, int(refused))
        for user_id, count, last, networks, refused in rows
    }
