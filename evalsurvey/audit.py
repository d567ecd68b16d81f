"""Write an audit row for every change to audited records, in the same transaction.

One session listener does it, so no view or command can forget to. Responses are
audited only for changes to their status (creation is the response itself), and
invitations are not audited at all: a timestamp of when an invitation was used
could be matched against ``submitted_at`` and break members' anonymity.
"""

from __future__ import annotations

import datetime as _dt
import enum
from typing import Any

from flask import Flask, has_request_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from evalsurvey.models import (
    Adjustment,
    ApiToken,
    AuditLog,
    CompositeSetting,
    Cycle,
    CycleScheme,
    Finding,
    GradeProposal,
    GradeSetting,
    Item,
    Link,
    Objection,
    Publication,
    Questionnaire,
    RaterGroup,
    RectificationItem,
    Response,
    ReviewDraw,
    SchemeVersion,
    StaffUser,
    Unit,
)
from evalsurvey.models.types import utcnow

AUDITED = (
    Unit,
    Cycle,
    RaterGroup,
    Questionnaire,
    Item,
    Link,
    StaffUser,
    SchemeVersion,
    CycleScheme,
    Finding,
    CompositeSetting,
    GradeSetting,
    Publication,
    Objection,
    RectificationItem,
    Adjustment,
    GradeProposal,
    ReviewDraw,
    ApiToken,
)
# never copied into the log, even hashed
SECRET_COLUMNS = {"password_hash", "secret_hash", "session_token"}  # a session token signs one in
# derived documents (a publication's frozen rows and reports): the log keeps their size only,
# the documents themselves stay on the publication, which never changes
SUMMARISED_COLUMNS = {"rows", "reports", "result"}
_cli_actor = "system"


def set_cli_actor(name: str) -> None:
    """Name the actor for changes made outside a request (commands, imports)."""
    global _cli_actor
    _cli_actor = name


def current_actor() -> str:
    if has_request_context():
        from flask_login import current_user

        if current_user and getattr(current_user, "is_authenticated", False):
            return current_user.username
        return "anonymous"
    return _cli_actor


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _dt.datetime | _dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | dict):
        return value
    return str(value)


def _column_changes(obj: Any, only: set[str] | None = None) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        if only is not None and attr.key not in only:
            continue
        if attr.key in SECRET_COLUMNS:
            if state.attrs[attr.key].history.has_changes():
                changes[attr.key] = ["***", "***"]
            continue
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _plain(old) != _plain(new):
                changes[attr.key] = [_plain(old), _plain(new)]
    return changes


def _snapshot(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    out = {}
    for a in state.mapper.column_attrs:
        value = getattr(obj, a.key)
        if a.key in SECRET_COLUMNS:
            value = "***"
        elif a.key in SUMMARISED_COLUMNS and isinstance(value, list | dict):
            value = {"count": len(value)}
        out[a.key] = [None, _plain(value)]
    return out


def _after_flush(session: Session, flush_context) -> None:  # noqa: ARG001
    rows = []
    actor = current_actor()
    now = utcnow()
    for obj in session.new:
        if isinstance(obj, AUDITED):
            rows.append((obj, "create", _snapshot(obj)))
    for obj in session.dirty:
        if isinstance(obj, AUDITED):
            changes = _column_changes(obj)
        elif isinstance(obj, Response):
            changes = _column_changes(obj, {"status"})
        else:
            continue
        if changes:
            rows.append((obj, "update", changes))
    for obj in session.deleted:
        if isinstance(obj, AUDITED):
            snap = {k: [v[1], None] for k, v in _snapshot(obj).items()}
            rows.append((obj, "delete", snap))
    if not rows:
        return
    session.connection().execute(
        insert(AuditLog.__table__),
        [
            {
                "at": now,
                "actor": actor,
                "entity": type(obj).__name__,
                "entity_id": obj.id,
                "action": action,
                "changes": changes,
            }
            for obj, action, changes in rows
        ],
    )


def init_app(app: Flask) -> None:  # noqa: ARG001
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def record_reason(entity: object, action: str, reason: str) -> None:
    """Add an audit row that says why (e.g. why a closed cycle was reopened)."""
    from evalsurvey.extensions import db

    db.session.add(
        AuditLog(
            actor=current_actor(),
            entity=type(entity).__name__,
            entity_id=entity.id,
            action=action,
            changes={"reason": [None, reason[:500]]},
        )
    )


def record_use(token: object, method: str, path: str, status: int | None = None) -> None:
    """An audit row for one use of an API token (actor: its owner), in the session."""
    from evalsurvey.extensions import db

    changes: dict[str, list[Any]] = {"method": [None, method], "path": [None, path[:300]]}
    if status is not None:
        changes["status"] = [None, status]
    db.session.add(
        AuditLog(
            actor=token.user.username,  # type: ignore[attr-defined]
            entity=type(token).__name__,
            entity_id=token.id,  # type: ignore[attr-defined]
            action="use",
            changes=changes,
        )
    )
