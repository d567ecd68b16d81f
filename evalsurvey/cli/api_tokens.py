"""``evalsurvey api-token create USER [--scope read|write] [--name TEXT]`` (prints the token
once), ``api-token list USER`` and ``api-token revoke ID``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from evalsurvey import audit
from evalsurvey.domain import api_tokens
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import ApiToken, StaffUser, TokenScope


def _user(username: str) -> StaffUser:
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        click.echo(f"error: no staff user {username!r}", err=True)
        sys.exit(2)
    return user


@click.group("api-token")
def api_token_group() -> None:
    """API tokens of staff users (for other systems: Authorization: Bearer TOKEN)."""


@api_token_group.command("create")
@click.argument("username")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in TokenScope]),
    default=TokenScope.READ.value,
    show_default=True,
    help="read: GET only; write: also push responses (an admin's token only)",
)
@click.option("--name", default="", help="what the token is for, e.g. the other system")
@with_appcontext
def create(username: str, scope: str, name: str) -> None:
    """Make a token for USER and print it once (only its hash is kept)."""
    from evalsurvey.cli import _fail

    audit.set_cli_actor("api-token")
    try:
        token, secret = api_tokens.create_token(_user(username), scope, name, "api-token")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc)
    click.echo(f"token {token.id} ({scope}) for {username}; shown this once, keep it secret:")
    click.echo(secret)


@api_token_group.command("list")
@click.argument("username")
@with_appcontext
def list_tokens(username: str) -> None:
    """USER's tokens: id, scope, start of the token, name, last use, revoked."""
    for t in api_tokens.tokens_of(_user(username)):
        revoked = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        click.echo(f"{t.id}\t{t.scope}\t{t.prefix}…\t{t.name}\t{used}\t{revoked}")


@api_token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID at once (it stays listed, and in the audit log)."""
    audit.set_cli_actor("api-token")
    token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if token is None:
        click.echo(f"error: no token {token_id}", err=True)
        sys.exit(2)
    api_tokens.revoke_token(token)
    db.session.commit()
    click.echo(f"token {token_id} revoked")
