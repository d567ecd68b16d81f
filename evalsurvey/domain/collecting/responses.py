"""Collecting responses: the signed page ticket, answer checks, idempotent storage."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from evalsurvey.domain.collecting.questionnaires import QuestionnaireError, parse_value
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import (
    Channel,
    Invitation,
    Item,
    ItemType,
    Link,
    Questionnaire,
    Response,
    ResponseStatus,
)
from evalsurvey.models.types import utcnow

if TYPE_CHECKING:
    from evalsurvey.domain.collecting.links import PublicLink

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


def _acknowledgement_signer(secret_key: str, link_code: str) -> Signer:
    return Signer(secret_key, salt=f"evalsurvey.thanks.{link_code}")


def acknowledge(secret_key: str, link_code: str, submission_key: str) -> str:
    """The thank-you page's token, given only once the response is stored: the key signed
    for its link, so the page can say "received" without asking the database again."""
    return _acknowledgement_signer(secret_key, link_code).sign(submission_key).decode()


def read_acknowledgement(secret_key: str, link_code: str, token: str) -> str | None:
    """The submission key an :func:`acknowledge` token stands for; None if it was not
    made by this server for this link (altered, made up, or another link's)."""
    try:
        return _acknowledgement_signer(secret_key, link_code).unsign(token).decode()
    except (BadSignature, UnicodeError):
        return None


def device_hash(salt: str, cookie_id: str) -> str:
    """Salted hash of the first-party device cookie: repeatable, not reversible."""
    return hmac.new(salt.encode(), cookie_id.encode(), hashlib.sha256).hexdigest()[:32]


def network_hash(salt: str, address: str | None) -> str:
    """Salted hash of an address's network prefix (IPv4 /24, IPv6 /48): phones behind one
    hall's Wi-Fi share it; the address itself is never kept. "" for no address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 48
    prefix = ipaddress.ip_network(f"{ip}/{bits}", strict=False)
    return hmac.new(salt.encode(), str(prefix).encode(), hashlib.sha256).hexdigest()[:32]


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
            raise QuestionnaireError("{code}：文字太长。", code=item.code)
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
            raise exc from None
        answers[item.code] = value
        if value is None and item.required:
            missing[item.code] = "required"
    return answers, missing


def _has_fixed_choices(item: Item) -> bool:
    from evalsurvey.domain.collecting.questionnaires import choices

    return bool(choices(item))


def find_by_key(submission_key: str) -> Response | None:
    return db.session.scalar(select(Response).where(Response.submission_key == submission_key))


def new_public_id() -> str:
    return "R" + secrets.token_hex(8)


class InvitationUsed(Exception):
    pass


def response_row(
    *,
    link: Link | PublicLink | None = None,
    cycle_id: int | None = None,
    unit_id: int | None = None,
    rater_group_id: int | None = None,
    questionnaire_id: int | None = None,
    channel: str,
    started_at: datetime | None,
    submitted_at: datetime,
    answers: dict[str, Any],
    comment: str = "",
    device: str = "",
    network: str = "",
    submission_key: str | None = None,
    public_id: str | None = None,
    rater: str = "",
    rater_unit: str = "",
    status: str = ResponseStatus.VALID,
) -> dict[str, Any]:
    """The column values of one response: the only place a response's row is decided.

    Where it came from is either a ``link`` or the ids it stands for; the public id is
    random (it carries no order) and the comment is cut to :data:`COMMENT_MAX`.
    """
    public_id = public_id or new_public_id()
    if link is not None:
        cycle_id, unit_id = link.cycle_id, link.unit_id
        rater_group_id, questionnaire_id = link.rater_group_id, link.questionnaire_id
    return {
        "public_id": public_id,
        "link_id": link.id if link is not None else None,
        "cycle_id": cycle_id,
        "unit_id": unit_id,
        "rater_group_id": rater_group_id,
        "questionnaire_id": questionnaire_id,
        "channel": channel,
        "started_at": started_at,
        "submitted_at": submitted_at,
        "answers": answers,
        "comment": (comment or "")[:COMMENT_MAX],
        "device": device,
        "network": network,
        "submission_key": submission_key or "import-" + public_id,
        "status": status,
        "rater": rater,
        "rater_unit": rater_unit,
    }


def add_response(**fields: Any) -> Response:
    """A new :class:`Response` in the session from :func:`response_row`'s fields."""
    response = Response(**response_row(**fields))
    db.session.add(response)
    return response


def insert_rows(rows: list[dict[str, Any]]) -> None:
    """Many rows of :func:`response_row` in one statement (generated data, no one waiting)."""
    if rows:
        db.session.execute(insert(Response), rows)


def insert_new(rows: list[dict[str, Any]]) -> set[str]:
    """Rows of :func:`response_row` whose ids are not stored yet (``INSERT … ON CONFLICT DO
    NOTHING RETURNING``): the public ids this call stored. A row whose id a concurrent
    transaction is storing waits for it (PostgreSQL) and is then skipped, so an id is
    stored exactly once.

    On PostgreSQL the rows travel as one JSON parameter read by ``json_populate_recordset``:
    a multi-row VALUES list of 10,000 rows cost psycopg seconds to parse on the client."""
    if not rows:
        return set()
    table = Response.__table__
    if db.engine.dialect.name != "postgresql":
        statement = sqlite_insert(table).on_conflict_do_nothing().returning(table.c.public_id)
        return set(db.session.scalars(statement, rows))
    defaults = {
        c.name: c.default.arg
        for c in table.columns
        if c.default is not None and c.default.is_scalar and c.name != "id"
    }
    columns = ", ".join(c.name for c in table.columns if c.name != "id")
    payload = json.dumps([{**defaults, **row} for row in rows], default=_json_value)
    statement = text(
        f"INSERT INTO responses ({columns}) SELECT {columns} FROM "
        "json_populate_recordset(NULL::responses, CAST(:rows AS json)) "
        "ON CONFLICT DO NOTHING RETURNING public_id"
    )
    return set(db.session.scalars(statement, {"rows": payload}))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def set_status(response: Response, status: str) -> None:
    """A person's decision on a response: it beats the statistics from now on."""
    if status not in set(ResponseStatus):
        raise DomainError("未知的答卷状态。", "status")
    response.status = status
    response.reviewed = True
    db.session.flush()


# INSERT … ON CONFLICT DO NOTHING per dialect, built once: a respondent's post then costs
# no statement construction and SQLAlchemy reuses its compiled form (bench_throughput.py)
_INSERT_ONCE: dict[str, Any] = {}


def _insert_once(row: dict[str, Any]) -> bool:
    """Insert ``row`` unless its submission key is stored already: one statement
    (``INSERT … ON CONFLICT DO NOTHING``), so a retried post costs no extra round trip and
    two concurrent ones cannot both store. True if this call stored it."""
    dialect = db.engine.dialect.name
    statement = _INSERT_ONCE.get(dialect)
    if statement is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(Response.__table__).on_conflict_do_nothing(
            index_elements=["submission_key"]
        )
        _INSERT_ONCE[dialect] = statement
    return db.session.execute(statement, row).rowcount == 1


def store_response(
    *,
    link: Link | PublicLink,
    ticket: Ticket,
    answers: dict[str, Any],
    comment: str,
    device: str,
    network: str = "",
    invitation: Invitation | None = None,
) -> bool:
    """Store a response exactly once for its submission key; True if this call stored it,
    False if the key was stored already (a double tap or a retried post). A used
    invitation raises :class:`InvitationUsed`.

    With an invitation, claiming it and storing the response are two transactions,
    so no row version, transaction id or commit links one to the other (see
    :func:`_claim` and ``docs/design.md``). If storing fails, the claim is given back.
    """
    rater = rater_unit = ""
    if invitation is not None:
        if find_by_key(ticket.submission_key) is not None:
            return False
        if not _claim(invitation):
            # a double tap of the same page may be storing its row right now
            if wait_for_key(ticket.submission_key) is not None:
                return False
            raise InvitationUsed()
        if link.record_rater:
            rater, rater_unit = invitation.rater_code, invitation.rater_unit
    row = response_row(
        link=link,
        channel=Channel.INVITE if invitation is not None else Channel.QR,
        started_at=ticket.started_at,
        submitted_at=utcnow(),
        answers=answers,
        comment=comment,
        device=device,
        network="" if invitation is not None else network,
        submission_key=ticket.submission_key,
        rater=rater,
        rater_unit=rater_unit,
    )
    try:
        created = _insert_once(row)
        db.session.commit()
    except Exception:
        db.session.rollback()
        if invitation is not None:
            _release(invitation)
        raise
    return created


def _rewrite_link_invitations(invitation: Invitation, value, target_used: bool) -> int:
    """One statement that rewrites *every* invitation of the link, in table order.

    On PostgreSQL each row then carries the same new row version (``xmin``) and keeps
    its place relative to the others, so neither tells which invitation just changed.
    """
    return db.session.execute(
        update(Invitation)
        .where(
            Invitation.link_id == invitation.link_id,
            # the guard is read inside the writing statement (SQLite: under its write lock)
            select(Invitation.used).where(Invitation.id == invitation.id).scalar_subquery()
            == target_used,
        )
        .values(used=value)
        .execution_options(synchronize_session=False)
    ).rowcount


def _claim(invitation: Invitation) -> bool:
    """Mark ``invitation`` used in a transaction of its own; False if it already was."""
    link_id, inv_id = invitation.link_id, invitation.id
    db.session.rollback()  # start clean: the claim commits alone
    # PostgreSQL: lock the link's invitations so concurrent claims queue (no new versions)
    db.session.execute(
        select(Invitation.id).where(Invitation.link_id == link_id).with_for_update()
    ).all()
    claimed = _rewrite_link_invitations(
        invitation, or_(Invitation.used, Invitation.id == inv_id), target_used=False
    )
    if claimed == 0:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _release(invitation: Invitation) -> None:
    """Give a claimed invitation back after its response could not be stored."""
    db.session.rollback()
    db.session.execute(
        select(Invitation.id).where(Invitation.link_id == invitation.link_id).with_for_update()
    ).all()
    _rewrite_link_invitations(
        invitation, and_(Invitation.used, Invitation.id != invitation.id), target_used=True
    )
    db.session.commit()


def wait_for_key(submission_key: str, seconds: float = 5.0) -> Response | None:
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()  # a fresh snapshot each look
        found = find_by_key(submission_key)
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
