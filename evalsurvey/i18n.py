"""Chinese first, English complete, through Flask-Babel.

Messages are written in Chinese in the code and templates (the catalogue's source
language); ``evalsurvey/translations/en`` holds the English. ``_()`` formats with
``{name}`` placeholders after translating. The visitor picks the language with
``?lang=en`` / ``?lang=zh``, remembered in a cookie.

Every code a person sees (status, role, link mode, group, channel, unit type, …) is
shown through :func:`label`, never raw.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

import flask
from babel import support
from flask import Flask, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    format_datetime,
    get_locale,
    gettext,
    lazy_gettext,
)
from markupsafe import Markup
from werkzeug.utils import cached_property
from wtforms.i18n import messages_path

LANGS = {"zh": "zh_CN", "en": "en"}
COOKIE = "lang"
babel = Babel()


def current_lang() -> str:
    """``zh`` or ``en`` for this request (``?lang=`` first, then the remembered cookie)."""
    if not has_request_context():
        return "zh"
    environ = request.environ
    if "evalsurvey.lang" not in environ:  # asked dozens of times per page: decide once
        if request.path.startswith("/api/"):
            # programs say what they read in Accept-Language (no cookie: a token is no browser)
            best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) or ""
            chosen = request.args.get("lang") or best[:2]
        else:
            chosen = request.args.get("lang") or request.cookies.get(COOKIE)
        environ["evalsurvey.lang"] = chosen if chosen in LANGS else "zh"
    return environ["evalsurvey.lang"]


@contextmanager
def in_language(lang: str):
    """Messages in ``lang`` outside a page (commands, tests): ``_`` translates inside."""
    from flask import current_app

    with current_app.test_request_context(f"/?lang={lang}"), force_locale(LANGS[lang]):
        yield


def _select_locale() -> str:
    return LANGS[current_lang()]


def _(message: str, **params: object) -> str:
    """The message in the visitor's language, with ``{name}`` placeholders filled."""
    text = gettext(message) if has_request_context() else message
    return text.format(**params) if params else text


def _l(message: str):
    """Translated when shown (form labels and validators defined at import time)."""
    return lazy_gettext(message)


def at_most(n: int):
    """A WTForms length check whose message is in the visitor's language."""
    from flask_babel import LazyString
    from wtforms.validators import Length

    # WTForms only %-formats the message; "最多 %(max)d 个字符。" was in no catalogue, so an
    # English reader met it in Chinese
    return Length(max=n, message=LazyString(lambda: _("最多 {limit} 个字符。", limit=n)))


def pick(zh: str, en: str | None) -> str:
    """Choose a stored bilingual field: English when asked for and present."""
    return en if current_lang() == "en" and en else zh


def N_(message: str) -> str:
    """Mark a message for the catalogue; it is translated later, where it is shown."""
    return message


# Labels for every code a person sees; the Chinese is the catalogue's source message.
LABELS: dict[str, dict[str, str]] = {
    "cycle_status": {
        "draft": N_("草稿"),
        "open": N_("进行中"),
        "closed": N_("已关闭"),
        "published": N_("已公布"),
    },
    "role": {
        "admin": N_("管理员"),
        "inspector": N_("考核人员"),
        "panel": N_("评审专家"),
        "unit_contact": N_("单位联络员"),
        "viewer": N_("观察员"),
        "department": N_("职能部门"),
    },
    "adjustment_status": {
        "pending": N_("待审批"),
        "approved": N_("已批准"),
        "rejected": N_("已驳回"),
    },
    "link_mode": {"public": N_("公开二维码"), "invite": N_("邀请制")},
    "channel": {"qr": N_("扫码"), "invite": N_("邀请"), "import": N_("导入"), "paper": N_("纸质")},
    "response_status": {"valid": N_("有效"), "suspect": N_("可疑"), "excluded": N_("剔除")},
    "period": {"year": N_("年度"), "half": N_("半年"), "quarter": N_("季度"), "month": N_("月度")},
    "unit_type": {
        "district": N_("区"),
        "street": N_("街道"),
        "community": N_("社区"),
        "agency_branch": N_("机关支部"),
        "enterprise": N_("企业"),
        "village": N_("村"),
        "service_window": N_("窗口单位"),
        "other": N_("其他"),
    },
    "item_type": {
        "satisfaction5": N_("五级满意度"),
        "scale10": N_("0–10 分"),
        "points": N_("评分"),
        "single": N_("单选"),
        "multiple": N_("多选"),
        "text": N_("文字"),
    },
    "missing_policy": {
        "renormalize": N_("缺项时按其余部分重新分配权重"),
        "require": N_("缺项时不计综合得分"),
    },
    "ledger_status": {
        "proposed": N_("待确认"),
        "open": N_("待整改"),
        "in_progress": N_("整改中"),
        "submitted": N_("已提交待销号"),
        "closed": N_("已销号"),
        "reopened": N_("退回重改"),
        "dropped": N_("不予立项"),
    },
    "ledger_source": {
        "deduction": N_("考核扣分"),
        "review": N_("群众差评回访"),
        "consultation": N_("部门意见"),
    },
    "assessment_method": {
        "document": N_("查阅资料"),
        "report": N_("听取汇报"),
        "interview": N_("随机访谈"),
        "survey": N_("问卷调查"),
        "visit": N_("实地查看"),
    },
    "rule": {
        "checklist": N_("逐项扣分"),
        "tiers": N_("分档"),
        "rank_tiers": N_("按名次"),
        "per_occurrence": N_("按次计分"),
        "survey": N_("满意度"),
        "manual": N_("人工打分"),
    },
    "method": {
        "adjusted": N_("校正评委宽严"),
        "trimmed": N_("去掉最高最低分"),
        "mean": N_("简单平均"),
    },
    "flag": {
        "speeder": N_("答题过快"),
        "duplicate": N_("同一设备重复提交"),
        "burst": N_("短时集中提交"),
        "surge": N_("集中提交中的可疑答卷"),
        "in_surge": N_("集中提交期间的正常答卷"),
        "network": N_("同一网络的新设备集中提交"),
        "straightline": N_("所有题选同一项"),
        "outlier": N_("偏离同组太远"),
        "flat_rater": N_("评分几乎无差别"),
        "lenient": N_("评分明显偏宽"),
        "severe": N_("评分明显偏严"),
        "collusion": N_("评分高度雷同"),
        "own_unit": N_("给本单位打分"),
    },
    "satisfaction": {
        "5": N_("非常满意"),
        "4": N_("满意"),
        "3": N_("基本满意"),
        "2": N_("不满意"),
        "1": N_("非常不满意"),
    },
    "audit_action": {
        "review": N_("复核"),
        "create": N_("新建"),
        "update": N_("修改"),
        "delete": N_("删除"),
        "reopen": N_("重新开放"),
        "paper": N_("录入纸质问卷"),
        "drop": N_("不予立项"),
        "use": N_("使用"),
    },
    "entity": {
        "Unit": N_("单位"),
        "Cycle": N_("考评周期"),
        "RaterGroup": N_("评价群体"),
        "Questionnaire": N_("问卷"),
        "Item": N_("题目"),
        "Link": N_("链接"),
        "StaffUser": N_("用户"),
        "Response": N_("答卷"),
        "SchemeVersion": N_("考核方案"),
        "CycleScheme": N_("周期方案"),
        "Finding": N_("考核记录"),
        "CompositeSetting": N_("综合权重"),
        "GradeSetting": N_("等级规则"),
        "Publication": N_("结果公示"),
        "Objection": N_("异议"),
        "RectificationItem": N_("整改事项"),
        "Adjustment": N_("部门意见"),
        "GradeProposal": N_("等级申报"),
        "ReviewDraw": N_("复核抽样"),
        "ApiToken": N_("接口令牌"),
    },
    "score_source": {
        "composite": N_("综合计算得分"),
        "proposed": N_("下级申报得分"),
        "reviewed": N_("上级复核得分"),
        "pending": N_("综合计算得分（申报待上级复核）"),
        "stale": N_("综合计算得分（申报或复核早于当前结果，待重新确认）"),
    },
    "publish_blocker": {
        "stale_result": N_("结果已过时"),
        "missing_units": N_("有单位不在综合结果中"),
        "stale_proposals": N_("申报或复核早于当前结果"),
    },
    "result_input": {
        "findings": N_("现场考核记录"),
        "adjustments": N_("征求意见调整"),
        "analysis": N_("满意度分析"),
        "responses": N_("问卷的审核状态"),
        "weights": N_("综合结果的权重"),
        "scheme": N_("考核细则"),
        "cycles": N_("所汇总周期的结果"),
    },
    "review_reason": {
        "top_score": N_("得分达到前两个等级"),
        "top_grade": N_("等级属于前两个等级"),
        "margin": N_("与计算得分相差超过允许幅度"),
        "no_composite": N_("没有计算得分可比对"),
        "drawn": N_("随机抽中"),
    },
    "extra_kind": {"bonus": N_("加分"), "penalty": N_("减分"), "veto": N_("否决")},
    "token_scope": {"read": N_("只读"), "write": N_("读写（可写入答卷）")},
}


def label(kind: str, code: str | None) -> str:
    """The label of ``code`` in the visitor's language; an unknown code shows as is."""
    if code is None:
        return ""
    source = LABELS.get(kind, {}).get(str(code))
    return _(source) if source else str(code)


def labels(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs of a kind, for select boxes."""
    return [(code, _(text)) for code, text in LABELS[kind].items()]


# What the analysis's option codes mean on a page.
OPTION_MESSAGES = {
    "weights_number": N_("权重必须是数字：{detail}"),
    "weights_negative": N_("权重不能为负数：{detail}"),
    "weights_zero": N_("权重不能全为 0。"),
    "weights_side": N_("数据中没有属于 {detail} 的评价群体。"),
    "weights_group": N_("这些评价群体在数据中没有答卷：{detail}"),
    "scale_unknown": N_("无法确定题目 {detail} 的分值范围。"),
    "method": N_("未知的计分方法。"),
}


def option_error(error) -> str:
    return _(OPTION_MESSAGES.get(error.code, N_("参数有误：{detail}")), detail=error.detail)


_PATTERNS = {"seconds": "yyyy-MM-dd HH:mm:ss", "minutes": "yyyy-MM-dd HH:mm", "date": "yyyy-MM-dd"}


def datetime_local(value: datetime | None, kind: str = "seconds") -> str:
    """A UTC time in the display time zone (to the second unless ``kind`` says otherwise)."""
    if value is None:
        return ""
    return format_datetime(value, _PATTERNS[kind])


def sep(mark: str) -> str:
    """Punctuation between runs of text: full-width in Chinese, ASCII and a space in English."""
    if current_lang() == "en":
        return mark + " "
    return {":": "：", ",": "，", ";": "；"}[mark]


def lang_url(lang: str) -> str:
    """This page in another language, its other query arguments kept."""
    from flask import url_for

    if request.endpoint is None:
        return "?lang=" + lang
    path_args = request.view_args or {}
    # a query argument named like one of the path's (``?status=`` on a status page) is
    # left out: the path decides
    args = {k: v for k, v in request.args.to_dict().items() if k not in path_args}
    args["lang"] = lang
    return url_for(request.endpoint, **path_args, **args)


_WTFORMS_TRANSLATIONS: dict[str, support.Translations] = {}


class Request(flask.Request):
    """The request, with WTForms' messages for its language at hand when a form asks."""

    @cached_property
    def wtforms_translations(self) -> support.Translations:
        """WTForms' own messages, loaded once per language and process (Flask-WTF would
        parse the catalogue again on every request: measurable on the respondents' path)
        and looked up only by a request whose form needs them."""
        locale = get_locale()
        key = str(locale)
        if key not in _WTFORMS_TRANSLATIONS:
            _WTFORMS_TRANSLATIONS[key] = support.Translations.load(
                messages_path(), [locale], domain="wtforms"
            )
        return _WTFORMS_TRANSLATIONS[key]


def _remember_lang(response):
    chosen = request.args.get("lang")
    if chosen in LANGS and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    import os

    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["DISPLAY_TIMEZONE"]
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", os.path.join(os.path.dirname(__file__), "translations")
    )
    babel.init_app(app, locale_selector=_select_locale)
    app.jinja_env.globals.update(
        _=_,
        pick=pick,
        current_lang=current_lang,
        lang_url=lang_url,
        sep=sep,
        Markup=Markup,
        label=label,
        labels=labels,
    )
    app.jinja_env.filters["local"] = datetime_local
    app.after_request(_remember_lang)
    app.request_class = Request
