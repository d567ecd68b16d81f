"""Names of the per-occurrence categories the shipped schemes use (``street``, ``case`` …),
in Chinese and English, so that pages, reports and the workbook say them in words and a value
may be written with a name as well as a code (``街道级:1`` is ``street:1``). A category a
scheme names and this list does not is shown and typed by its code."""

from __future__ import annotations

from collections.abc import Iterable

# code: (Chinese, English)
NAMES: dict[str, tuple[str, str]] = {
    "street": ("街道级", "street level"),
    "district": ("区级", "district level"),
    "city": ("市级", "city level"),
    "province": ("省级", "province level"),
    "central": ("中央级", "central level"),
    "company": ("集团公司级", "group company level"),
    "project": ("共建项目", "joint project"),
    "piece": ("篇报道", "article"),
    "recognised": ("经认定的项目", "recognised item"),
    "case": ("案例", "case"),
    "adopted": ("被采纳或推广", "adopted or spread"),
    "criticised": ("通报批评或约谈", "criticised or summoned"),
    "warning": ("警告或记过", "warning or demerit"),
    "demotion": ("撤职或降级", "removal or demotion"),
    "probation": ("留党（用）察看", "probation"),
    "expulsion": ("开除", "expulsion"),
    "repeat": ("类似案件再次发生", "repeat of a similar case"),
}


def category_name(code: str, lang: str = "zh") -> str:
    """The category's name in ``lang`` (``zh`` or ``en``); its code when it has none."""
    names = NAMES.get(code)
    return names[lang == "en"] if names else code


def category_code(word: str, known: Iterable[str]) -> str | None:
    """The code of the ``known`` category ``word`` names (its code, Chinese or English name,
    case and spaces aside), or None."""
    known = list(known)
    word = word.strip()
    if word in known:
        return word
    folded = " ".join(word.casefold().split())
    for code in known:
        zh, en = NAMES.get(code, ("", ""))
        if word == zh or folded == en.casefold():
            return code
    return None


def value_words(raw: str, lang: str = "zh") -> str:
    """A per-occurrence value written with codes (``recognised:1;city:2``) with the
    categories by name (``经认定的项目 ×1，市级 ×2``); any other value as it is."""
    parts = [p for p in (raw or "").replace("；", ";").split(";") if p.strip()]
    pairs = [p.replace("：", ":").partition(":") for p in parts]
    if not pairs or any(not sep or not n.strip().isdigit() for _c, sep, n in pairs):
        return raw
    joiner = ", " if lang == "en" else "，"
    return joiner.join(f"{category_name(c.strip(), lang)} ×{n.strip()}" for c, _s, n in pairs)
