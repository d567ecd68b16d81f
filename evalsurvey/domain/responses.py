"""Collecting responses: the signed page ticket, answer checks, idempotent storage."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from evalsurvey.domain.questionnaires import QuestionnaireError, parse_value
from evalsurvey.extensions import db
from evalsurvey.models import Channel, Invitation, Item, ItemType, Link, Questionnaire, Response
from evalsurvey.models.types import utcnow

COMMENT_MAX = 2000
TEXT_MAX = 2000


@dataclass(frozen=True)
class Ticket:
    """What the served page carries back: which link, when it was served, and the key."""

    link_id: int
    submission_key: str
    started_at: datetime


class TicketError(ValueError):
    pass


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="evalsurvey.ticket")


def issue_ticket(secret_key: str, link_id: int, now: datetime | None = None) -> str:
    """Sign the page's ticket so ``started_at`` and the key cannot be forged."""
    now = now or utcnow()
    payload = {"l": link_id, "k": secrets.token_urlsafe(18), "t": now.isoformat()}
    return _serializer(secret_key).dumps(payload)


def read_ticket(secret_key: str, token: str, link_id: int, max_age: int) -> Ticket:
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
        ticket = Ticket(int(data["l"]), str(data["k"]), datetime.fromisoformat(data["t"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise TicketError("the page ticket is missing, expired or altered") from None
    if ticket.link_id != link_id:
        raise TicketError("the page ticket belongs to another questionnaire")
    return ticket


def device_hash(salt: str, cookie_id: str) -> str:
    """Salted hash of the first-party device cookie: repeatable, not reversible."""
    return hmac.new(salt.encode(), cookie_id.encode(), hashlib.sha256).hexdigest()[:32]


def check_answers(
    questionnaire: Questionnaire, raw: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse the submitted values of every item.

    Returns ``(answers, missing)``: the parsed answers (None for unanswered), and
    the codes of required items left empty, each with a message key. A value that
    no form could produce (off the scale, unknown option) raises
    :class:`QuestionnaireError`: that is malformed input, not a person's mistake.
    """
    answers: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for item in questionnaire.items:
        values = raw.get(item.code, [])
        if item.type == ItemType.TEXT and values and len(values[0]) > TEXT_MAX:
            raise QuestionnaireError(f"{item.code}: text too long")
        try:
            value = parse_value(
                item, values if item.type == ItemType.MULTIPLE else (values[0] if values else "")
            )
        except QuestionnaireError as exc:
            if item.type == ItemType.POINTS and not _has_fixed_choices(item):
                # typed number: a person's slip, shown by the item
                missing[item.code] = "invalid"
                answers[item.code] = values[0] if values else None
                continue
            raise QuestionnaireError(f"{item.code}: {exc}") from None
        answers[item.code] = value
        if value is None and item.required:
            missing[item.code] = "required"
    return answers, missing


def _has_fixed_choices(item: Item) -> bool:
    from evalsurvey.domain.questionnaires import choices

    return bool(choices(item))


def find_by_key(submission_key: str) -> Response | None:
    return db.session.scalar(select(Response).where(Response.submission_key == submission_key))


def new_public_id() -> str:
    return "R" + secrets.token_hex(8)


class InvitationUsed(Exception):
    pass


def store_response(
    *,
    link: Link,
    ticket: Ticket,
    answers: dict[str, Any],
    comment: str,
    device: str,
    invitation: Invitation | None = None,
) -> tuple[Response, bool]:
    """Store a response exactly once for its submission key.

    Returns ``(response, created)``. A key already stored returns the stored row
    and ``created=False``. With an invitation, marking it used and inserting the
    response commit together, and a used invitation raises :class:`InvitationUsed`.
    """
    existing = find_by_key(ticket.submission_key)
    if existing is not None:
        return existing, False
    rater = rater_unit = ""
    if invitation is not None:
        claimed = db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used.is_(False))
            .values(used=True)
        ).rowcount
        if claimed != 1:
            db.session.rollback()
            raise InvitationUsed()
        if link.record_rater:
            rater, rater_unit = invitation.rater_code, invitation.rater_unit
    response = Response(
        public_id=new_public_id(),
        link_id=link.id,
        cycle_id=link.cycle_id,
        unit_id=link.unit_id,
        rater_group_id=link.rater_group_id,
        questionnaire_id=link.questionnaire_id,
        channel=Channel.INVITE if invitation is not None else Channel.QR,
        started_at=ticket.started_at,
        submitted_at=utcnow(),
        answers=answers,
        comment=comment[:COMMENT_MAX],
        device=device,
        submission_key=ticket.submission_key,
        rater=rater,
        rater_unit=rater_unit,
    )
    db.session.add(response)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent double tap won the race: its row is the one.
        db.session.rollback()
        existing = find_by_key(ticket.submission_key)
        if existing is None:
            raise
        return existing, False
    return response, True
