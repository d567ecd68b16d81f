"""Every error a person can meet is a plain page in their language, never a trace."""

from __future__ import annotations

import uuid
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter

from evalsurvey.domain.checks import install_column_checks
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _
from evalsurvey.uploads import bound_files, megabytes

# Default messages per status; views pass a more specific one with abort(code, description=…).
MESSAGES = {
    400: N_("提交的内容无法识别，请返回重新填写。"),
    403: N_("您没有权限访问此页面。"),
    404: N_("找不到该页面，请检查二维码或链接是否完整。"),
    405: N_("不支持该操作。"),
    410: N_("该问卷已关闭。"),
    413: N_("提交的内容过大，请缩短后再提交。"),
    429: N_("提交太频繁，请稍等几分钟再试。已经提交成功的评价不受影响。"),
    500: N_("服务器暂时出现问题，您的操作未完成，请稍后再试。"),
}
TITLES = {
    400: N_("无法处理的提交"),
    403: N_("无权访问"),
    404: N_("页面不存在"),
    405: N_("不支持的操作"),
    410: N_("问卷已关闭"),
    413: N_("内容过大"),
    429: N_("请稍后再试"),
    500: N_("服务器错误"),
}


class Message(str):
    """A view-supplied description already written for people (and translated)."""


def page(status: int, message: str | None = None, title: str | None = None):
    """Render the error page for ``status``: the staff layout for signed-in staff pages;
    under ``/api/v1`` a problem document instead (an API client never gets HTML)."""
    from evalsurvey.api.problems import is_api_request, problem

    if is_api_request():
        # a form page's own words (400: "go back and fill in") do not fit a program
        return problem(status, None if status == 400 else message), status
    staff = request.path.startswith(("/admin", "/auth")) and _signed_in()
    return (
        render_template(
            "admin/error.html" if staff else "error.html",
            status=status,
            title=title or _(TITLES.get(status, N_("出错了"))),
            message=message or _(MESSAGES.get(status, N_("出错了。"))),
            request_id=g.get("request_id", ""),
            back=_back(status),
        ),
        status,
    )


def _back(status: int) -> str | None:
    """Where a citizen's "back" goes without JavaScript: the questionnaire or disclosure
    page they were on (opened afresh), unless that page is what is missing or closed."""
    path = request.path.removesuffix("/thanks")
    if status in (404, 410) or not path.startswith(("/s/", "/i/", "/p/")):
        return None
    return path


def _signed_in() -> bool:
    try:
        from flask_login import current_user

        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - an error page must render whatever broke
        return False


def _handle_http(error: HTTPException):
    status = error.code or 500
    message = error.description if isinstance(error.description, Message) else None
    if status == 413 and message is None and request.endpoint in EVIDENCE_PAGES:
        # past what even these pages read (a file is answered by its field before this)
        message = _(
            "提交的内容过大：佐证材料不能超过 {mb} MB，文字也不宜过长。请返回上一页，"
            "重新选择较小的文件后再提交。",
            mb=megabytes(current_app.config["EVIDENCE_MAX_BYTES"]),
        )
    body, status = page(status, message)
    if status == 429 and g.get("retry_after"):
        return body, status, {"Retry-After": str(g.retry_after)}
    return body, status


def csrf_page():
    """The page for a form whose CSRF token failed. The public questionnaires have their own
    handler (their blueprint's), which keeps the answers and falls back to this page:
    this module imports no area, so every area can import it."""
    return page(400, _("页面已过期或来源无法验证，请返回刷新后重试。"))


def _handle_csrf(error: CSRFError):
    return csrf_page()


def _handle_500(error: Exception):
    # the original exception when Flask wrapped it, so the log shows the real cause
    cause = getattr(error, "original_exception", None) or error
    current_app.logger.error(
        "request %s: unexpected error on %s %s",
        g.get("request_id", "-"),
        request.method,
        request.path,
        exc_info=(type(cause), cause, cause.__traceback__),
    )
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the database may be what failed
        current_app.logger.exception("rollback after request %s failed", g.get("request_id"))
    return page(500)


def _handle_domain(error: DomainError):
    """A person's mistake no view caught (a value its column cannot hold, found at flush):
    nothing is stored and the page says what was wrong."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the database may be what failed
        current_app.logger.exception("rollback after request %s failed", g.get("request_id"))
    return page(400, error.text(_))


def init_app(app: Flask) -> None:
    install_column_checks()
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_500)
    if not app.testing and not app.debug:
        app.register_error_handler(Exception, _handle_500)


def _non_utf8_form() -> bool:
    """True when a posted form is not UTF-8 (raw bytes or percent-escapes)."""
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)  # form parsing later reuses this cache
        try:  # the whole body at once: "&" is no UTF-8 continuation byte, so no part's
            # invalid bytes can become valid beside another's
            unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    if request.mimetype == "multipart/form-data":
        # Werkzeug replaces undecodable bytes with U+FFFD; a real browser never sends them.
        return any("\ufffd" in v for values in request.form.listvalues() for v in values)
    return False


# The only form fields that may carry a file (the staff import forms, evidence).
FILE_FIELDS = frozenset({"file", "imp-file", "evidence", "people_file", "paper-file"})
# Pages whose form carries an evidence file of up to EVIDENCE_MAX_BYTES: a file past it
# comes back as the form with what was typed (evalsurvey/uploads.py).
EVIDENCE_PAGES = frozenset(
    {"admin.unit_assessment", "admin.ledger_item", "admin.consultation", "admin.findings_grid"}
)
# Other pages that take a file larger than the 64 KiB every other body is held to.
LARGE_UPLOADS = {
    "admin.invitations": 1024 * 1024,  # a list of up to 5,000 people
    "admin.paper_forms": 5 * 1024 * 1024,  # a sheet of up to 5,000 typed forms
    # a batch of up to 10,000 responses as JSON (a long comment each stays well inside)
    "api.ingest_responses": 64 * 1024 * 1024,
}


def _malformed() -> str | None:
    """Why this request cannot be a real person's, before any view reads it."""
    if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
        return _("提交的内容无法识别，请返回重新填写。")
    if request.method != "POST":
        return None
    if _non_utf8_form():
        return _("提交的内容不是有效的 UTF-8 文本，请返回重新填写。")
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _("提交的内容无法识别，请返回重新填写。")
    if any(name not in FILE_FIELDS for name in request.files):
        return _("提交的内容无法识别，请返回重新填写。")
    if any("\x00" in v for values in request.form.listvalues() for v in values):
        return _("提交的内容包含无法保存的字符，请删除后再提交。")
    return None


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` that stays inside a database integer: larger ids are simply not found."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def init_request_checks(app: Flask) -> None:
    """Checks that must run before any extension reads the form (register first)."""
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def _request_id_and_checks():
        # ``g`` belongs to one request. Where several requests share an application
        # context (tests, commands), extensions' per-request caches on it (the signed-in
        # user, the CSRF token, the locale) must not leak from one request to the next.
        for name in list(vars(g)):
            delattr(g, name)
        g.request_id = uuid.uuid4().hex[:12]
        if request.endpoint in EVIDENCE_PAGES:
            bound_files(request, current_app.config["EVIDENCE_MAX_BYTES"])
        elif request.endpoint in LARGE_UPLOADS:
            request.max_content_length = LARGE_UPLOADS[request.endpoint]
            # Werkzeug reads a multipart body 64 KiB at a time and refuses (413) when what it
            # holds back of a file part (after a line-break byte near a chunk's end) plus the
            # next chunk passes this size: at 64 KiB, most files above it were refused
            request.max_form_memory_size = 2 * 64 * 1024
        problem = _malformed()
        if problem is not None:
            return page(400, problem)
        return None

    @app.after_request
    def _send_request_id(response):
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response
