"""Every error a person can meet is a plain page in their language, never a trace."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from evalsurvey.extensions import db
from evalsurvey.i18n import _

# Default messages per status; views pass a more specific one with abort(code, description=…).
MESSAGES = {
    400: "提交的内容无法识别，请返回重新填写。",
    403: "您没有权限访问此页面。",
    404: "找不到该页面，请检查二维码或链接是否完整。",
    405: "不支持该操作。",
    410: "该问卷已关闭。",
    413: "提交的内容过大，请缩短后再提交。",
    500: "服务器暂时出现问题，您的操作未完成，请稍后再试。",
}
TITLES = {
    400: "无法处理的提交",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的操作",
    410: "问卷已关闭",
    413: "内容过大",
    500: "服务器错误",
}


class Message(str):
    """A view-supplied description already written for people (and translated)."""


def page(status: int, message: str | None = None, title: str | None = None):
    """Render the error page for ``status``."""
    return (
        render_template(
            "error.html",
            status=status,
            title=title or _(TITLES.get(status, "出错了")),
            message=message or _(MESSAGES.get(status, "出错了。")),
        ),
        status,
    )


def _handle_http(error: HTTPException):
    status = error.code or 500
    message = error.description if isinstance(error.description, Message) else None
    return page(status, message)


def _handle_csrf(error: CSRFError):
    # A public questionnaire re-renders with the answers kept: nothing is lost.
    from evalsurvey.public.views import rerender_after_csrf

    kept = rerender_after_csrf()
    if kept is not None:
        return kept
    return page(400, _("页面已过期或来源无法验证，请返回刷新后重试。"))


def _handle_500(error: Exception):  # noqa: ARG001
    db.session.rollback()
    return page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_500)
    if not app.testing and not app.debug:
        app.register_error_handler(Exception, _handle_500)


def _non_utf8_form() -> bool:
    """True when a posted form is not UTF-8 (raw bytes or percent-escapes)."""
    if request.mimetype == "application/x-www-form-urlencoded":
        raw = request.get_data(cache=True)  # form parsing later reuses this cache
        try:
            for part in raw.split(b"&"):
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False
    if request.mimetype == "multipart/form-data":
        # Werkzeug replaces undecodable bytes with U+FFFD; a real browser never sends them.
        return any("\ufffd" in v for values in request.form.listvalues() for v in values)
    return False


def init_request_checks(app: Flask) -> None:
    """Checks that must run before any extension reads the form (register first)."""

    @app.before_request
    def _reject_non_utf8():
        if request.method == "POST" and _non_utf8_form():
            return page(400, _("提交的内容不是有效的 UTF-8 文本，请返回重新填写。"))
        return None
