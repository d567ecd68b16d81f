"""API tokens: made and revoked by their owner or an admin, on the staff pages and by
``evalsurvey api-token create``; checked on every API request.

A token is ``evs_`` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored: a token is no password a person picks, so a slow hash would add nothing but time
to every request. The secret is returned once, by :func:`create_token`, and never again.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import ApiToken, Role, StaffUser, TokenScope
from evalsurvey.models.types import utcnow

PREFIX = "evs_"
SHOWN = 12  # characters of a token kept in the clear, to tell tokens apart
NAME_MAX = 80
# roles whose accounts may hold tokens at all (a panel expert scores through invitations)
HOLDERS = frozenset({Role.ADMIN, Role.INSPECTOR, Role.VIEWER, Role.UNIT_CONTACT})
# roles whose write tokens may write (ingest responses): the office's data entry
WRITERS = frozenset({Role.ADMIN})


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    user: StaffUser, scope: str = TokenScope.READ, name: str = "", created_by: str = ""
) -> tuple[ApiToken, str]:
    """A new token of ``user`` and its secret, which is shown this once. Flushed."""
    if scope not in set(TokenScope):
        raise DomainError("未知的令牌权限：{scope}（read 或 write）。", "scope", scope=scope)
    if not user.active:
        raise DomainError("该账号已停用，不能创建令牌。", "user")
    if user.role not in HOLDERS:
        raise DomainError("该角色的账号不能使用接口令牌。", "user")
    if scope == TokenScope.WRITE and user.role not in WRITERS:
        raise DomainError("只有管理员的令牌可以写入（write）。", "scope")
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise DomainError("名称最多 {n} 个字符。", "name", n=NAME_MAX)
    if "\x00" in name:
        raise DomainError("名称包含无法保存的字符。", "name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        scope=scope,
        prefix=secret[:SHOWN],
        secret_hash=digest(secret),
        created_at=utcnow(),
        created_by=created_by or user.username,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken) -> ApiToken:
    """The token opens nothing from now on (kept, so the audit log still names it). Flushed."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def tokens_of(user: StaffUser) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def find_token(secret: str) -> ApiToken | None:
    """The live token for ``secret``: not revoked, its owner active and still of a role
    that may hold tokens; else None (all alike to the caller: 401)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    if not token.user.active or token.user.role not in HOLDERS:
        return None
    return token


def may_write(token: ApiToken) -> bool:
    """A write token of an owner whose role (now) may write."""
    return token.scope == TokenScope.WRITE and token.user.role in WRITERS


def mark_used(token: ApiToken) -> None:
    """Note the time of use (one statement: no audit row of its own, the use has one)."""
    db.session.execute(
        update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow())
    )
