"""Who is asking: the API token in ``Authorization: Bearer …`` and nothing else.

Tokens are checked like sign-in (:mod:`evalsurvey.ratelimit`): a token that opens nothing
counts as a failed sign-in of its first characters and of the sender's address, and once
those fail too often the next attempt waits and answers 429 before any lookup. A token
that opens spends its own request limit. Every use is audited (its owner as the actor)."""

from __future__ import annotations

from flask import g, request
from flask_login import AnonymousUserMixin

from evalsurvey import ratelimit
from evalsurvey.api import bp
from evalsurvey.api.problems import ApiProblem
from evalsurvey.audit import record_use
from evalsurvey.domain import api_tokens
from evalsurvey.domain.access import Scope
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import ApiToken, StaffUser

# what anyone may read: the document and its browsable page
OPEN = frozenset({"api.openapi_json", "api.docs", "api.docs_asset"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _refuse_wait(wait: int) -> ApiProblem:
    g.retry_after = wait
    return ApiProblem(429, _("请求太频繁，请 {seconds} 秒后再试。", seconds=wait))


@bp.before_request
def authenticate():
    # Flask-Login must not read the session cookie here: a browser signed in to the staff
    # pages is no API client (and the cookie would need CSRF protection)
    g._login_user = AnonymousUserMixin()
    if request.endpoint in OPEN:
        return None
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise ApiProblem(401)
    key = "api-token:" + secret[: api_tokens.SHOWN]
    wait = ratelimit.signin_wait(key)
    if wait:
        raise _refuse_wait(wait)
    token = api_tokens.find_token(secret)
    if token is None:
        ratelimit.signin_failed(key)
        db.session.rollback()
        raise ApiProblem(401, _("接口令牌无效或已撤销。"))
    wait = ratelimit.count_api_use(token.id)
    if wait:
        raise _refuse_wait(wait)
    if request.method not in READ_METHODS and not api_tokens.may_write(token):
        raise ApiProblem(403, _("该令牌只能读取（read），不能写入。"))
    record_use(token, request.method, request.full_path.rstrip("?"))
    api_tokens.mark_used(token)
    db.session.commit()  # the use is recorded whatever the request then does
    g._login_user = token.user
    g.api_token_id = token.id
    return None


def current_token() -> ApiToken:
    return db.session.get(ApiToken, g.api_token_id)


def user() -> StaffUser:
    return g._login_user


def scope() -> Scope:
    """What the token's owner may see (the pages' one scope)."""
    if "api_scope" not in g:
        g.api_scope = Scope.for_user(user())
    return g.api_scope
