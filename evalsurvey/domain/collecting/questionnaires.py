"""Questionnaire versions: answer parsing, JSON import/export, publishing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import LazyString
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from evalsurvey.csvformat import RESERVED
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import CODE_RE
from evalsurvey.extensions import db
from evalsurvey.i18n import pick
from evalsurvey.models import Item, ItemType, Questionnaire
from evalsurvey.models.questionnaires import SATISFACTION_LEVELS
from evalsurvey.models.types import utcnow

JSON_FORMAT = "evalsurvey.questionnaire/1"


class QuestionnaireError(DomainError):
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
            raise QuestionnaireError("未知的选项 {value}。", value=unknown[0])
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
            raise QuestionnaireError("未知的选项 {value}。", value=raw)
        return raw
    try:
        number = float(raw)
    except ValueError:
        raise QuestionnaireError("不是数字：{value}。", value=raw) from None
    if not math.isfinite(number):
        raise QuestionnaireError("不是数字：{value}。", value=raw)
    low, high = scale_of(item)
    if not low <= number <= high:
        raise QuestionnaireError(
            "{value} 超出范围 {low}–{high}。", value=raw, low=f"{low:g}", high=f"{high:g}"
        )
    if item.type in (ItemType.SATISFACTION5, ItemType.SCALE10):
        if number != int(number):
            raise QuestionnaireError("不是整数：{value}。", value=raw)
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
    raise QuestionnaireError("题目 {code} 不计分。", code=item.code)


def format_value(value: Any) -> str:
    """The interchange-CSV spelling of a stored answer (inverse of parse_value)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class ItemView:
    """A published item as the respondent's page and the answer check read it."""

    code: str
    text: str
    text_en: str
    type: str
    required: bool
    max_points: float | None
    options: tuple[dict[str, Any], ...] | None


@dataclass(frozen=True)
class QuestionnaireView:
    id: int
    code: str
    version: int
    title: str
    title_en: str
    intro: str
    intro_en: str
    items: tuple[ItemView, ...]


def _published() -> dict[int, QuestionnaireView]:
    """This application's cache of published questionnaires (one per app, so another app
    on another database — a test's — never sees them)."""
    return current_app.extensions.setdefault("evalsurvey.published_questionnaires", {})


def published_view(questionnaire: Questionnaire) -> QuestionnaireView:
    """A published questionnaire as an immutable value, kept per process: a published
    version never changes, so the respondents' pages need not load it again and again."""
    cache = _published()
    found = cache.get(questionnaire.id)
    if found is None:
        found = QuestionnaireView(
            questionnaire.id,
            questionnaire.code,
            questionnaire.version,
            questionnaire.title,
            questionnaire.title_en,
            questionnaire.intro,
            questionnaire.intro_en,
            tuple(
                ItemView(
                    i.code,
                    i.text,
                    i.text_en,
                    i.type,
                    i.required,
                    i.max_points,
                    tuple(i.options) if i.options is not None else None,
                )  # fmt: skip
                for i in questionnaire.items
            ),
        )
        if questionnaire.published:
            cache[questionnaire.id] = found
    return found


def questionnaire_of(link) -> QuestionnaireView:
    """The link's questionnaire for its public page (from the per-process cache)."""
    found = _published().get(link.questionnaire_id)
    if found is None:  # the first page of this version in this process
        found = published_view(db.session.get(Questionnaire, link.questionnaire_id))
    return found


def cycle_questionnaires(cycle_id: int) -> list[Questionnaire]:
    """Every questionnaire version answered in the cycle, with its items, oldest first."""
    from evalsurvey.models import Response

    return list(
        db.session.scalars(
            select(Questionnaire)
            .where(
                Questionnaire.id.in_(
                    select(Response.questionnaire_id).where(Response.cycle_id == cycle_id)
                )
            )
            .options(selectinload(Questionnaire.items))
            .order_by(Questionnaire.code, Questionnaire.version)
        )
    )


def cycle_items(cycle_id: int) -> dict[str, Item]:
    """The cycle's items by code (the first version that has the code names it)."""
    items: dict[str, Item] = {}
    for q in cycle_questionnaires(cycle_id):
        for item in q.items:
            items.setdefault(item.code, item)
    return items


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
        raise QuestionnaireError("{where}：缺少“{key}”。", field=key, where=where, key=key)
    return data[key]


def from_json(data: Any) -> Questionnaire:
    """Build a new draft questionnaire from its JSON form (not yet added to the session).

    The version becomes the next free one for that code, so importing never
    overwrites a version that responses may point at.
    """
    if not isinstance(data, dict):
        raise QuestionnaireError("文件内容必须是一个 JSON 对象。")
    code = str(_need(data, "code", "questionnaire")).strip()
    if not CODE_RE.match(code):
        raise QuestionnaireError(
            "问卷编码只能包含字母、数字、点、下划线和连字符，最多 40 个字符。", "code"
        )
    items_data = _need(data, "items", "questionnaire")
    if not isinstance(items_data, list):
        raise QuestionnaireError("问卷：“items”必须是列表。")
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
        where = f"#{n}"
        if not isinstance(raw, dict):
            raise QuestionnaireError("{where}：必须是 JSON 对象。", where=where)
        item_code = str(_need(raw, "code", where)).strip()
        if not CODE_RE.match(item_code):
            raise QuestionnaireError(
                "{where}：题目编码只能包含字母、数字、点、下划线和连字符。", "code", where=where
            )
        if item_code in seen:
            raise QuestionnaireError(
                "{where}：编码 {code} 重复。", "code", where=where, code=item_code
            )
        if item_code in RESERVED:
            raise QuestionnaireError(
                "{where}：编码 {code} 是保留的列名。", "code", where=where, code=item_code
            )
        seen.add(item_code)
        kind = str(_need(raw, "type", where))
        if kind not in set(ItemType):
            raise QuestionnaireError("{where}：未知的题型 {kind}。", "type", where=where, kind=kind)
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
                item.max_points = math.nan
            if not math.isfinite(item.max_points):  # "inf" and "nan" are no full marks
                raise QuestionnaireError(
                    "{where}：“max_points”必须是数字。", "max_points", where=where
                )
            if item.max_points <= 0:
                raise QuestionnaireError(
                    "{where}：“max_points”必须大于 0。", "max_points", where=where
                )
        if kind in (ItemType.SINGLE, ItemType.MULTIPLE):
            options = raw.get("options")
            if not isinstance(options, list) or len(options) < 2:
                raise QuestionnaireError("{where}：“options”至少需要两项。", "options", where=where)
            clean = []
            for o in options:
                if not isinstance(o, dict) or not o.get("code") or not o.get("text"):
                    raise QuestionnaireError(
                        "{where}：每个选项都需要“code”和“text”。", "options", where=where
                    )
                if ";" in str(o["code"]):
                    raise QuestionnaireError(
                        "{where}：选项编码不能包含“;”。", "options", where=where
                    )
                if any(c["code"] == str(o["code"]) for c in clean):
                    # an answer names its option by code: two alike could not be told apart
                    twice = str(o["code"])
                    raise QuestionnaireError(
                        "{where}：选项编码“{code}”重复。", "options", where=where, code=twice
                    )
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
        raise QuestionnaireError("问卷：没有任何题目。")
    return q


def create_draft(data: Any) -> Questionnaire:
    """Import a questionnaire's JSON form as the next draft version of its code (flushed)."""
    q = from_json(data)
    db.session.add(q)
    db.session.flush()
    return q


def next_version(code: str) -> int:
    current = db.session.scalar(
        select(func.max(Questionnaire.version)).where(Questionnaire.code == code)
    )
    return (current or 0) + 1


def freeze_version(q: Questionnaire) -> None:
    if q.published:
        raise PublishedError("{label} 已经发布。", label=q.label)
    q.published_at = utcnow()


def new_version(q: Questionnaire) -> Questionnaire:
    """A draft copy of ``q`` with the next version number, for editing."""
    return create_draft(to_json(q))


def check_editable(q: Questionnaire) -> None:
    if q.published:
        raise PublishedError("{label} 已发布，不能修改，请复制为新版本。", label=q.label)


def replace_draft(q: Questionnaire, data: Any) -> None:
    """Replace a draft's texts and items with those of its JSON form (same code)."""
    check_editable(q)
    if isinstance(data, dict) and str(data.get("code", q.code)).strip() != q.code:
        raise QuestionnaireError("问卷：编码必须保持为 {code}。", code=q.code)
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


# The form-based builder: every change is made on the draft's JSON form and goes through
# replace_draft, so a built questionnaire obeys exactly the rules of an imported one.


def new_questionnaire(code: str, title: str, title_en: str = "") -> Questionnaire:
    """A new questionnaire: a draft with one satisfaction item to start from. Flushed. A
    code that already has one is refused: its next version is made from it on its page
    (:func:`new_version`, the items kept), never a blank one under the same code."""
    code = (code or "").strip()
    taken = db.session.scalar(
        select(Questionnaire)
        .where(Questionnaire.code == code)
        .order_by(Questionnaire.version.desc())
        .limit(1)
    )
    if taken is not None:
        zh, en = taken.title, taken.title_en  # the title in the reader's language, when said
        raise QuestionnaireError(
            "编码 {code} 已有问卷（{title}）；要修改它，请在该问卷页面新建版本。",
            "code",
            code=code,
            title=LazyString(lambda: pick(zh, en)),
        )
    return create_draft({
        "code": code, "title": (title or "").strip(), "title_en": title_en or "",
        "items": [{"code": "q1", "text": "总体满意度", "text_en": "Overall satisfaction",
                   "type": ItemType.SATISFACTION5}],
    })  # fmt: skip


def parse_options(text: str) -> list[dict[str, str]]:
    """Options typed one a line as ``code|中文|English`` (the English may be left out)."""
    options = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")] + ["", ""]
        options.append({"code": parts[0], "text": parts[1], "text_en": parts[2]})
    return options


def options_text(options: list[dict[str, str]] | None) -> str:
    return "\n".join(
        "|".join(filter(None, [o["code"], o["text"], o.get("text_en", "")])) for o in options or []
    )


def _edit(q: Questionnaire, change) -> None:
    check_editable(q)
    data = to_json(q)
    change(data)
    replace_draft(q, data)
    db.session.flush()


def set_texts(q: Questionnaire, title: str, title_en: str, intro: str, intro_en: str) -> None:
    def change(data):
        data.update(title=title, title_en=title_en, intro=intro, intro_en=intro_en)

    _edit(q, change)


def _put(data: dict[str, Any], index: int | None, item: dict[str, Any]) -> None:
    others = [i["code"] for n, i in enumerate(data["items"]) if n != index]
    if item.get("code") in others:  # said by the item's code, not as "#4: code repeated"
        raise QuestionnaireError("本问卷已有编码为 {code} 的题目。", "code", code=item["code"])
    if index is None:
        data["items"].append(item)
    elif 0 <= index < len(data["items"]):
        data["items"][index] = item
    else:
        raise QuestionnaireError("没有这道题。")


def put_item(q: Questionnaire, index: int | None, item: dict[str, Any]) -> None:
    """Add an item (``index`` None) or replace the one at ``index`` (0-based)."""

    def change(data):
        _put(data, index, item)

    _edit(q, change)


def move_item(q: Questionnaire, index: int, step: int) -> None:
    def change(data):
        items, target = data["items"], index + step
        if 0 <= index < len(items) and 0 <= target < len(items):
            items[index], items[target] = items[target], items[index]

    _edit(q, change)


def remove_item(q: Questionnaire, index: int) -> None:
    def change(data):
        if not 0 <= index < len(data["items"]):
            raise QuestionnaireError("没有这道题。")
        del data["items"][index]

    _edit(q, change)


def copy_items(q: Questionnaire, source: Questionnaire, codes: list[str]) -> int:
    """Append the items ``codes`` of another version (or questionnaire) ``source`` to the
    draft ``q``, in the source's order. A code already in ``q`` is refused. Returns how many."""
    if source.id == q.id:
        raise QuestionnaireError("请选择另一份问卷或另一个版本。")
    wanted = [i for i in to_json(source)["items"] if i["code"] in set(codes)]
    if not wanted:
        raise QuestionnaireError("请勾选要复制的题目。")

    def change(data):
        present = {i["code"] for i in data["items"]}
        for item in wanted:
            if item["code"] in present:
                raise QuestionnaireError("题目编码 {code} 已在本问卷中。", code=item["code"])
            data["items"].append(item)

    _edit(q, change)
    return len(wanted)


def preview_item(q: Questionnaire, index: int | None, item: dict[str, Any]) -> Questionnaire:
    """The draft as it would be with ``item`` put at ``index`` (None: added), checked like
    a save, but nothing is written: a transient questionnaire for the builder's preview."""
    data = to_json(q)
    _put(data, index, item)
    preview = from_json(data)  # never added to the session
    preview.version = q.version
    return preview
