"""Questionnaire versions: answer parsing, JSON import/export, publishing."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func, select

from evalsurvey.csvformat import RESERVED
from evalsurvey.extensions import db
from evalsurvey.models import Item, ItemType, Questionnaire
from evalsurvey.models.questionnaires import SATISFACTION_LEVELS
from evalsurvey.models.types import utcnow

JSON_FORMAT = "evalsurvey.questionnaire/1"


class QuestionnaireError(ValueError):
    """A questionnaire definition or an answer that does not fit it."""


class PublishedError(QuestionnaireError):
    pass


def parse_value(item: Item, raw: str | list[str]) -> Any:
    """Turn a submitted or imported value into the stored answer for ``item``.

    Returns None for an empty answer. Raises :class:`QuestionnaireError` for a value
    the item cannot take (off the scale, unknown option, not a number).
    """
    if item.type == ItemType.MULTIPLE:
        values = raw if isinstance(raw, list) else [v for v in raw.split(";")]
        values = [v.strip() for v in values if v.strip()]
        if not values:
            return None
        allowed = {o["code"] for o in item.options or []}
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise QuestionnaireError(f"unknown option {unknown[0]!r}")
        # canonical order: as the options are listed
        return [o["code"] for o in item.options or [] if o["code"] in values]
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    raw = raw.strip()
    if raw == "":
        return None
    if item.type == ItemType.TEXT:
        return raw
    if item.type == ItemType.SINGLE:
        if raw not in {o["code"] for o in item.options or []}:
            raise QuestionnaireError(f"unknown option {raw!r}")
        return raw
    try:
        number = float(raw)
    except ValueError:
        raise QuestionnaireError(f"not a number: {raw!r}") from None
    if not math.isfinite(number):
        raise QuestionnaireError(f"not a number: {raw!r}")
    low, high = scale_of(item)
    if not low <= number <= high:
        raise QuestionnaireError(f"{raw} is outside {low:g}–{high:g}")
    if item.type in (ItemType.SATISFACTION5, ItemType.SCALE10):
        if number != int(number):
            raise QuestionnaireError(f"not a whole number: {raw!r}")
        return int(number)
    return int(number) if number == int(number) else number


def scale_of(item: Item) -> tuple[float, float]:
    """The numeric range of a scored item."""
    if item.type == ItemType.SATISFACTION5:
        return (1, 5)
    if item.type == ItemType.SCALE10:
        return (0, 10)
    if item.type == ItemType.POINTS:
        return (0, float(item.max_points or 0))
    raise QuestionnaireError(f"item {item.code} is not scored")


def format_value(value: Any) -> str:
    """The interchange-CSV spelling of a stored answer (inverse of parse_value)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def choices(item: Item) -> list[tuple[str, str, str]]:
    """(value, Chinese label, English label) for the tap targets of an item."""
    if item.type == ItemType.SATISFACTION5:
        return [(str(v), zh, en) for v, zh, en in SATISFACTION_LEVELS]
    if item.type == ItemType.SCALE10:
        return [(str(v), str(v), str(v)) for v in range(10, -1, -1)]
    if item.type == ItemType.POINTS and item.max_points is not None:
        top = float(item.max_points)
        if top <= 20 and top.is_integer():
            return [(str(v), str(v), str(v)) for v in range(int(top), -1, -1)]
        return []  # free numeric entry
    if item.type in (ItemType.SINGLE, ItemType.MULTIPLE):
        return [(o["code"], o["text"], o.get("text_en") or o["text"]) for o in item.options or []]
    return []


def to_json(q: Questionnaire) -> dict[str, Any]:
    return {
        "format": JSON_FORMAT,
        "code": q.code,
        "version": q.version,
        "title": q.title,
        "title_en": q.title_en,
        "intro": q.intro,
        "intro_en": q.intro_en,
        "items": [
            {
                "code": i.code,
                "text": i.text,
                "text_en": i.text_en,
                "type": i.type,
                "required": i.required,
                **({"max_points": i.max_points} if i.type == ItemType.POINTS else {}),
                **({"options": i.options} if i.options else {}),
            }
            for i in q.items
        ],
    }


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise QuestionnaireError(f"{where}: '{key}' is required")
    return data[key]


def from_json(data: Any) -> Questionnaire:
    """Build a new draft questionnaire from its JSON form (not yet added to the session).

    The version becomes the next free one for that code, so importing never
    overwrites a version that responses may point at.
    """
    if not isinstance(data, dict):
        raise QuestionnaireError("the file must hold a JSON object")
    code = str(_need(data, "code", "questionnaire")).strip()
    items_data = _need(data, "items", "questionnaire")
    if not isinstance(items_data, list):
        raise QuestionnaireError("questionnaire: 'items' must be a list")
    q = Questionnaire(
        code=code,
        version=next_version(code),
        title=str(_need(data, "title", "questionnaire")),
        title_en=str(data.get("title_en") or ""),
        intro=str(data.get("intro") or ""),
        intro_en=str(data.get("intro_en") or ""),
    )
    seen: set[str] = set()
    for n, raw in enumerate(items_data, start=1):
        where = f"item {n}"
        if not isinstance(raw, dict):
            raise QuestionnaireError(f"{where}: must be an object")
        item_code = str(_need(raw, "code", where)).strip()
        if item_code in seen:
            raise QuestionnaireError(f"{where}: duplicate code {item_code!r}")
        if item_code in RESERVED:
            raise QuestionnaireError(f"{where}: code {item_code!r} is a reserved column name")
        seen.add(item_code)
        kind = str(_need(raw, "type", where))
        if kind not in set(ItemType):
            raise QuestionnaireError(f"{where}: unknown type {kind!r}")
        item = Item(
            position=n,
            code=item_code,
            text=str(_need(raw, "text", where)),
            text_en=str(raw.get("text_en") or ""),
            type=kind,
            required=bool(raw.get("required", kind != ItemType.TEXT)),
        )
        if kind == ItemType.POINTS:
            try:
                item.max_points = float(_need(raw, "max_points", where))
            except (TypeError, ValueError):
                raise QuestionnaireError(f"{where}: 'max_points' must be a number") from None
            if item.max_points <= 0:
                raise QuestionnaireError(f"{where}: 'max_points' must be positive")
        if kind in (ItemType.SINGLE, ItemType.MULTIPLE):
            options = raw.get("options")
            if not isinstance(options, list) or len(options) < 2:
                raise QuestionnaireError(f"{where}: 'options' needs at least two entries")
            clean = []
            for o in options:
                if not isinstance(o, dict) or not o.get("code") or not o.get("text"):
                    raise QuestionnaireError(f"{where}: each option needs 'code' and 'text'")
                if ";" in str(o["code"]):
                    raise QuestionnaireError(f"{where}: option codes may not contain ';'")
                clean.append(
                    {
                        "code": str(o["code"]),
                        "text": str(o["text"]),
                        "text_en": str(o.get("text_en") or ""),
                    }
                )
            item.options = clean
        q.items.append(item)
    if not q.items:
        raise QuestionnaireError("questionnaire: it has no items")
    return q


def next_version(code: str) -> int:
    current = db.session.scalar(
        select(func.max(Questionnaire.version)).where(Questionnaire.code == code)
    )
    return (current or 0) + 1


def publish(q: Questionnaire) -> None:
    if q.published:
        raise PublishedError(f"{q.label} is already published")
    q.published_at = utcnow()


def new_version(q: Questionnaire) -> Questionnaire:
    """A draft copy of ``q`` with the next version number, for editing."""
    data = to_json(q)
    copy = from_json(data)
    db.session.add(copy)
    return copy


def check_editable(q: Questionnaire) -> None:
    if q.published:
        raise PublishedError(f"{q.label} is published and cannot change; make a new version")


def replace_draft(q: Questionnaire, data: Any) -> None:
    """Replace a draft's texts and items with those of its JSON form (same code)."""
    check_editable(q)
    if isinstance(data, dict) and str(data.get("code", q.code)).strip() != q.code:
        raise QuestionnaireError(f"questionnaire: 'code' must stay {q.code!r}")
    parsed = from_json(data)
    q.title, q.title_en = parsed.title, parsed.title_en
    q.intro, q.intro_en = parsed.intro, parsed.intro_en
    items = list(parsed.items)
    parsed.items.clear()
    # delete the old rows first: the unit of work would insert before deleting, and the
    # new items reuse the old codes
    q.items.clear()
    db.session.flush()
    q.items.extend(items)
