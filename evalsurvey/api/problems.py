"""Errors of the JSON API as ``application/problem+json`` (RFC 9457), never an HTML page.

``title`` and ``detail`` are in the client's language (``Accept-Language``: Chinese unless
it prefers English); ``errors`` lists what was wrong where, each by the ``index`` of the
response in a batch (absent for one value) and its ``field``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, json, request

from evalsurvey.i18n import N_, _

API_PREFIX = "/api/v1"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: N_("请求无法识别"),
    401: N_("需要有效的接口令牌"),
    403: N_("无权访问"),
    404: N_("找不到"),
    405: N_("不支持该方法"),
    409: N_("与已保存的内容冲突"),
    410: N_("已关闭"),
    413: N_("请求内容过大"),
    422: N_("请求内容有误"),
    429: N_("请求太频繁"),
    500: N_("服务器错误"),
}
DETAILS = {
    400: N_("请求内容无法识别：请求体应为 UTF-8 编码的 JSON 对象。"),
    401: N_("请在 Authorization 头中以 Bearer 方式提供有效的接口令牌。"),
    403: N_("该令牌无权进行此操作。"),
    404: N_("找不到该资源。"),
    405: N_("该地址不支持这种请求方法。"),
    413: N_("请求内容过大。"),
    422: N_("请求内容有误。"),
    429: N_("请求太频繁，请稍后再试。"),
    500: N_("服务器暂时出现问题，操作未完成，请稍后再试。"),
}


def is_api_request() -> bool:
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class ApiProblem(Exception):
    """Raised anywhere in an API view: answered as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or str(status))
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers


def problem(
    status: int,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _(TITLES.get(status, N_("出错了"))),
        "status": status,
        "detail": detail or _(DETAILS.get(status, N_("出错了。"))),
        "instance": request.path,
    }
    if g.get("request_id"):
        body["request_id"] = g.request_id
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE
    )
    response.headers["Content-Language"] = "en" if _lang() == "en" else "zh-CN"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="evalsurvey"'
    if status == 429 and g.get("retry_after"):
        response.headers["Retry-After"] = str(g.retry_after)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_exception(error: ApiProblem) -> Response:
    return problem(error.status, error.detail, error.errors, error.headers)


def _lang() -> str:
    from evalsurvey.i18n import current_lang

    return current_lang()
