"""Public questionnaire pages: ``/s/<code>`` (QR links) and ``/i/<token>`` (invitations)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import select, text
from werkzeug.wrappers import Response as HTTPResponse

from evalsurvey.domain.collecting import responses as collect
from evalsurvey.domain.collecting.links import PublicLink, public_link
from evalsurvey.domain.collecting.questionnaires import (
    QuestionnaireError,
    QuestionnaireView,
    choices,
    questionnaire_of,
)
from evalsurvey.domain.collecting.responses import COMMENT_MAX
from evalsurvey.errors import Message, csrf_page, page
from evalsurvey.extensions import db
from evalsurvey.i18n import _, current_lang, datetime_local
from evalsurvey.models import Invitation, Link, LinkMode, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.ratelimit import (
    DEVICE_COOKIE,
    client_network,
    count_invitation_visit,
    count_submission,
)
from evalsurvey.timezones import zone_name

bp = Blueprint("public", __name__)


def _autocommit() -> None:
    """On PostgreSQL a respondent's request runs in autocommit: its reads, and the one
    ``INSERT`` that stores a public response, are each atomic alone, so a transaction would
    only add the ``BEGIN`` and ``COMMIT``/``ROLLBACK`` round trips. Invitation posts keep
    their transactions (the claim). The connection goes back to the pool at the end of the
    request with its usual level."""
    if (
        db.engine.dialect.name == "postgresql"
        and not db.session().in_transaction()  # e.g. a test's session, already reading
    ):
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


# How long a worker may show a renamed unit's old name on the thank-you page.
UNIT_NAME_SECONDS = 300.0


def _remember_unit_name(link: Link | PublicLink) -> None:
    names = current_app.extensions.setdefault("evalsurvey.thanks_unit_names", {})
    names[link.code] = (link.unit.name, time.monotonic() + UNIT_NAME_SECONDS)


def _unit_name(code: str) -> str:
    """The unit's name for the thank-you page, kept a few minutes per process: the page is
    the respondent path's third request and needs nothing else from the database."""
    names = current_app.extensions.setdefault("evalsurvey.thanks_unit_names", {})
    found = names.get(code)
    if found is None or found[1] < time.monotonic():
        _autocommit()
        name = db.session.scalar(
            select(Unit.name).join(Link, Link.unit_id == Unit.id).where(Link.code == code)
        )
        found = (name or "", time.monotonic() + UNIT_NAME_SECONDS)
        names[code] = found
    return found[0]


def _zoned(at) -> str:
    """A time to the minute with the zone it is told in (citizens may be anywhere)."""
    return _("{time}（{zone}）", time=datetime_local(at, "minutes"), zone=zone_name())


def _closed_page(link: Link | PublicLink):
    since = link.closed_since()
    if since is None:  # not yet open
        opens = link.cycle.opens_at
        when = _zoned(opens) if opens and opens > utcnow() else None
        msg = (
            _("该问卷将于 {date} 开放，请届时再来。", date=when) if when else _("该问卷尚未开放。")
        )
        return page(403, msg, _("问卷尚未开放"))
    return page(
        410,
        _(
            "该问卷已于 {date} 关闭，感谢您的关注。",
            date=_zoned(since),
        ),
    )


def _load_link(code: str) -> PublicLink:
    link = public_link(code)
    if link is None:
        abort(404)
    return link


def _device_id() -> tuple[str, str | None]:
    """The first-party device cookie: (value, value to set if new)."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    if len(value) == 32 and value.isalnum():
        return value, None
    value = secrets.token_hex(16)
    return value, value


def _with_device_cookie(resp: HTTPResponse, new_id: str | None) -> HTTPResponse:
    if new_id:
        resp.set_cookie(
            DEVICE_COOKIE,
            new_id,
            max_age=2 * 365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return resp


def _render(
    link: Link | PublicLink,
    ticket: str,
    *,
    comment: str = "",
    answers: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
    action: str,
    new_device: str | None = None,
) -> HTTPResponse:
    q = questionnaire_of(link)
    body = render_template(
        "public/survey.html",
        items_html=_items_html(q, answers or {}, problems or {}),
        link=link,
        q=q,
        ticket=ticket,
        comment=comment,
        comment_max=COMMENT_MAX,
        answers=answers or {},
        problems=problems or {},
        notice=notice,
        action=action,
        choices=choices,
    )
    resp = current_app.make_response((body, status))
    resp.headers["Cache-Control"] = "no-store"
    return _with_device_cookie(resp, new_device)


def _items_html(q: QuestionnaireView, answers: dict, problems: dict) -> Markup:
    """The items rendered; for an empty form the same for everyone in a language, so kept
    per application (a published questionnaire never changes)."""
    if answers or problems:
        return Markup(render_template("public/_items.html", q=q, answers=answers,
                                      problems=problems, choices=choices))  # fmt: skip
    cache = current_app.extensions.setdefault("evalsurvey.items_html", {})
    key = (q.id, current_lang())
    found = cache.get(key)
    if found is None:
        found = Markup(render_template("public/_items.html", q=q, answers={}, problems={},
                                       choices=choices))  # fmt: skip
        cache[key] = found
    return found


def _raw_answers(q: QuestionnaireView) -> dict[str, list[str]]:
    return {item.code: request.form.getlist(item.code) for item in q.items}


def _serve(link: Link | PublicLink, action: str) -> HTTPResponse:
    new_device = _device_id()[1]
    ticket = collect.issue_ticket(current_app.config["SECRET_KEY"], link.id)
    return _render(link, ticket, action=action, new_device=new_device)


def _submit(link: Link | PublicLink, action: str, invitation: Invitation | None = None):
    # The page's fixed fields are read as they are: the CSRF token was checked before the
    # view (CSRFProtect), the ticket is signed, and the items and the comment are checked
    # here by the same rules as an import (no WTForms form for the respondents' path).
    config = current_app.config
    signed = request.form.get("ticket", "")
    comment = request.form.get("comment", "").strip()
    try:
        ticket = collect.read_ticket(
            config["SECRET_KEY"], signed, link.id, config["SURVEY_TICKET_MAX_AGE"]
        )
    except collect.TicketError:
        abort(400, description=Message(_("页面信息不完整或已过期，请重新打开问卷填写。")))
    ack = collect.acknowledge(config["SECRET_KEY"], link.code, ticket.submission_key)
    thanks = url_for("public.thanks", code=link.code, k=ack)
    # a public double tap or retried post is answered by the insert itself (one statement)
    if invitation is not None and collect.find_by_key(ticket.submission_key) is not None:
        return redirect(thanks, 303)  # a retried post: already stored
    if invitation is not None and invitation.used:
        if collect.wait_for_key(ticket.submission_key, seconds=2.0) is not None:
            return redirect(thanks, 303)  # our own double tap is storing the row
        return page(410, _("该邀请链接已经使用过，每份邀请只能提交一次。"), _("邀请已使用"))
    q = questionnaire_of(link)
    try:
        answers, missing = collect.check_answers(q, _raw_answers(q))
    except QuestionnaireError:
        abort(400)
    device_id, new_device = _device_id()
    if missing or len(comment) > COMMENT_MAX:
        kept = {k: v for k, v in _raw_answers(q).items()}
        if missing:
            notice = _("还有题目未完成，请查看标出的题目。")
        else:
            notice = _("意见和建议最多 {n} 个字，请删减后再提交。", n=COMMENT_MAX)
        return _render(
            link,
            signed,
            comment=comment,
            answers=kept,
            problems=missing,
            notice=notice,
            status=422,
            action=action,
            new_device=new_device,
        )
    # Invitations are single-use already; a device hash on members' answers would only
    # add a way to link one member's answers across cycles.
    device = "" if invitation is not None else collect.device_hash(config["DEVICE_SALT"], device_id)
    _remember_unit_name(link)  # before the commit (an invitation's ORM link expires there)
    try:
        collect.store_response(
            link=link,
            ticket=ticket,
            answers=answers,
            comment=comment,
            device=device,
            network=client_network(),
            invitation=invitation,
        )
    except collect.InvitationUsed:
        if collect.find_by_key(ticket.submission_key) is not None:
            return redirect(thanks, 303)  # our own double tap won the invitation
        return page(410, _("该邀请链接已经使用过，每份邀请只能提交一次。"), _("邀请已使用"))
    return _with_device_cookie(redirect(thanks, 303), new_device)


@bp.route("/s/<code>", methods=["GET", "POST"])
def survey(code: str):
    if request.method == "POST":
        count_submission(code)
    _autocommit()  # a public post stores one row: one statement
    link = _load_link(code)
    if link.mode != LinkMode.PUBLIC:
        abort(404)
    if not link.cycle.accepting() or not link.active:
        return _closed_page(link)
    action = url_for("public.survey", code=code)
    if request.method == "POST":
        return _submit(link, action)
    return _serve(link, action)


@bp.route("/i/<token>", methods=["GET", "POST"])
def invitation(token: str):
    count_invitation_visit()
    if request.method == "GET":
        _autocommit()
    inv = db.session.scalar(select(Invitation).where(Invitation.token == token))
    if inv is None:
        abort(404)
    link = inv.link
    if not link.cycle.accepting() or not link.active:
        return _closed_page(link)
    action = url_for("public.invitation", token=token)
    if request.method == "POST":
        return _submit(link, action, invitation=inv)
    if inv.used:
        return page(410, _("该邀请链接已经使用过，每份邀请只能提交一次。"), _("邀请已使用"))
    return _serve(link, action)


@bp.get("/s/<code>/thanks")
def thanks(code: str):
    """The acknowledgement: its token is signed only after the response was stored, so a
    made-up or another link's address answers 404 without a look-up."""
    token = request.args.get("k", "")
    if len(token) > 200 or not collect.read_acknowledgement(
        current_app.config["SECRET_KEY"], code, token
    ):
        abort(404)
    return render_template("public/thanks.html", unit_name=_unit_name(code))


def rerender_after_csrf() -> HTTPResponse | None:
    """After a CSRF failure on a questionnaire, show it again with the answers kept."""
    if request.method != "POST" or request.endpoint not in ("public.survey", "public.invitation"):
        return None
    args = request.view_args or {}
    if request.endpoint == "public.survey":
        link = db.session.scalar(select(Link).where(Link.code == args.get("code")))
        action = url_for("public.survey", code=args.get("code"))
    else:
        inv = db.session.scalar(select(Invitation).where(Invitation.token == args.get("token")))
        link = inv.link if inv is not None else None
        action = url_for("public.invitation", token=args.get("token"))
    if link is None or not link.cycle.accepting():
        return None
    ticket = request.form.get("ticket", "")
    try:  # keep the key and start time if the ticket is intact
        collect.read_ticket(
            current_app.config["SECRET_KEY"],
            ticket,
            link.id,
            current_app.config["SURVEY_TICKET_MAX_AGE"],
        )
    except collect.TicketError:
        ticket = collect.issue_ticket(current_app.config["SECRET_KEY"], link.id)
    new_device = _device_id()[1]
    return _render(
        link,
        ticket,
        comment=request.form.get("comment", ""),
        answers=_raw_answers(questionnaire_of(link)),
        notice=_("页面已过期，您的答案已保留，请核对后再次提交。"),
        status=400,
        action=action,
        new_device=new_device,
    )


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError):
    """A questionnaire re-renders with the answers kept: nothing is lost (found before the
    application's handler, which knows no area)."""
    kept = rerender_after_csrf()
    return kept if kept is not None else csrf_page()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.get("/")
    def index():
        return redirect(url_for("admin.dashboard"))

    @app.get("/healthz")
    def healthz():
        """For the load balancer: 200 when this instance reaches its database, else 503."""
        try:
            db.session.execute(text("SELECT 1"))
            return {"status": "ok", "database": "ok"}
        except Exception:  # noqa: BLE001 - any database failure means "take me out"
            db.session.rollback()
            current_app.logger.exception("health check: the database does not answer")
            return {"status": "error", "database": "unreachable"}, 503
