"""Chinese first, English available.

Messages are written in Chinese in the code and templates; ``_()`` looks up the
English text when the visitor chose English (``?lang=en``, remembered in a cookie).
"""

from __future__ import annotations

from flask import Flask, g, request
from markupsafe import Markup

from evalsurvey.i18n_en import EN

LANGS = ("zh", "en")
COOKIE = "lang"


def current_lang() -> str:
    lang = g.get("lang")
    if lang:
        return lang
    chosen = request.args.get("lang") or request.form.get("lang") or request.cookies.get(COOKIE)
    lang = chosen if chosen in LANGS else "zh"
    g.lang = lang
    return lang


def gettext(message: str, **params: object) -> str:
    if current_lang() == "en":
        message = EN.get(message, message)
    return message.format(**params) if params else message


_ = gettext


def pick(zh: str, en: str | None) -> str:
    """Choose a stored bilingual field: English when asked for and present."""
    return en if current_lang() == "en" and en else zh


def _remember_lang(response):
    chosen = request.args.get("lang")
    if chosen in LANGS and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=gettext, pick=pick, current_lang=current_lang, Markup=Markup)
    app.after_request(_remember_lang)
