"""Paper forms typed into a sheet (纸质问卷录入): one row per form, for one link.

Where the QR code cannot reach (an elderly residents' meeting, a members' meeting), the
office hands out the printed questionnaire and types the forms into the sheet that
:func:`paper_template` makes: one column per question headed by its text, then the comment and
the date the form was filled in. :func:`import_paper` reads it back — XLSX or CSV in UTF-8
(with or without BOM) or GB18030/GBK, Chinese or English headers, answers as codes or as the
words on the form (``满意``) — and stores every row or none, with each problem named by row
and column. The link says which unit, rater group and questionnaire the forms are for; the
forms carry no name, and nothing records which sheet row a person filled in. A question left
blank on the form is a missing answer, as on paper, not an error.

The same file cannot be imported twice: each row's submission key is the file's digest and
its row number, so a second upload of the same sheet is refused instead of doubling it.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from evalsurvey.audit import record_reason
from evalsurvey.cells import inert, xlsx_row
from evalsurvey.domain.collecting.questionnaires import QuestionnaireError, parse_value
from evalsurvey.domain.collecting.responses import COMMENT_MAX, add_response
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.files.tables import header_key, read_rows
from evalsurvey.domain.units import ImportError_, problem
from evalsurvey.extensions import db
from evalsurvey.models import Channel, CycleStatus, Item, ItemType, Link, Response
from evalsurvey.models.types import utcnow
from evalsurvey.timezones import from_local, to_local

# the columns other than the questions, in Chinese and English
EXTRA_HEADERS = {
    "comment": "comment", "意见": "comment", "意见建议": "comment", "留言": "comment",
    "备注": "comment", "submitted_at": "submitted_at", "date": "submitted_at",
    "日期": "submitted_at", "填写日期": "submitted_at", "填表日期": "submitted_at",
    "rater": "rater", "评委代号": "rater", "评委编号": "rater",
}  # fmt: skip
# the words printed on a satisfaction question, as people type them
SATISFACTION_WORDS = {
    "非常满意": "5", "满意": "4", "基本满意": "3", "一般": "3", "不满意": "2", "非常不满意": "1",
    "very satisfied": "5", "satisfied": "4", "fairly satisfied": "3", "neutral": "3",
    "dissatisfied": "2", "very dissatisfied": "1",
}  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S",
                "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M")  # fmt: skip
MAX_ROWS = 5000
PAPER_LEAD_DAYS = 366  # how long before its cycle opens a paper form may be dated


def _items(link: Link) -> list[Item]:
    return sorted(link.questionnaire.items, key=lambda i: i.position)


def paper_headers(link: Link) -> dict[str, str]:
    """Header (as :func:`header_key` reads it) → item code, ``comment``, ``submitted_at``
    or ``rater``: an item by its code, its Chinese or English text, or ``code text``."""
    out = {header_key(k): v for k, v in EXTRA_HEADERS.items()}
    for item in _items(link):
        for text in (item.code, item.text, item.text_en, f"{item.code} {item.text}"):
            if text:
                out.setdefault(header_key(text), item.code)
                # as the template writes a text beginning like a formula: with a leading '
                out.setdefault(header_key(inert(text)), item.code)
    return out


def N_(message: str) -> str:  # marks a message for the catalogue (see the Makefile)
    return message


def _column_heads(link: Link, english: bool) -> list[tuple[str, tuple]]:
    """(header, what goes in it, as a message and its parameters) of the template's columns."""

    def text(item: Item) -> str:
        return item.text_en if english and item.text_en else item.text

    texts = [text(i) for i in _items(link)]
    heads = []
    for item in _items(link):
        head = text(item) if texts.count(text(item)) == 1 else f"{item.code} {text(item)}"
        heads.append((head, _allowed(item, english)))
    if link.record_rater:
        heads.append(("rater" if english else "评委代号", (N_("评委的代号，如 E01"), {})))
    heads += [
        ("comment" if english else "意见", (N_("可不填"), {})),
        ("date" if english else "填写日期", (N_("如 2026-11-30；不填为录入当天"), {})),
    ]
    return heads


def _allowed(item: Item, english: bool) -> tuple[str, dict]:
    if item.type == ItemType.SATISFACTION5:
        return N_("1–5 或 非常满意、满意、基本满意、不满意、非常不满意"), {}
    if item.type == ItemType.SCALE10:
        return N_("0–10 的整数"), {}
    if item.type == ItemType.POINTS:
        return N_("0–{max} 分"), {"max": f"{item.max_points:g}"}
    if item.type in (ItemType.SINGLE, ItemType.MULTIPLE):
        options = ", ".join(
            f"{o['code']} ({(o.get('text_en') if english else '') or o.get('text', '')})"
            for o in item.options or []
        )
        if item.type == ItemType.MULTIPLE:
            return N_("选项编码或文字：{options}；多选用 ; 分开"), {"options": options}
        return N_("选项编码或文字：{options}"), {"options": options}
    return N_("文字"), {}


def paper_template(link: Link, translate=None, english: bool = False) -> bytes:
    """The sheet to type the paper forms into: a header row of the questions' texts (English
    where ``english`` and given), and a second sheet saying what each column takes, in the
    language of ``translate`` (a gettext)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    def t(message: str, **params: object) -> str:
        message = translate(message) if translate is not None else message
        return message.format(**params) if params else message

    book = Workbook()
    sheet = book.active
    sheet.title = t("纸质问卷")
    heads = _column_heads(link, english)
    # every cell text (questions, the unit's name) made inert: never a formula in Excel
    sheet.append(xlsx_row(sheet, [h for h, _what in heads], font=Font(bold=True)))
    for column, (head, _what) in zip(sheet.iter_cols(min_row=1, max_row=1), heads, strict=True):
        sheet.column_dimensions[column[0].column_letter].width = min(40, max(10, len(head) * 2))
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(t("说明"))
    q = link.questionnaire
    lines = [
        [t("单位"), f"{link.unit.name} ({link.unit.code})"],
        [t("评价群体"), (link.rater_group.name_en if english else "") or link.rater_group.name],
        [t("问卷"), f"{(q.title_en if english else '') or q.title} ({q.label})"],
        [t("每份问卷填一行，不填姓名。满意度可填 1–5 或“满意”等文字；没有作答的题留空。")],
        [],
        [t("列"), t("填写")],
    ]
    lines += [[head, t(message, **params)] for head, (message, params) in heads]
    for line in lines:
        notes.append(xlsx_row(notes, line))
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 70
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _value(item: Item, raw: str) -> Any:
    """A typed cell as the item's answer: words for satisfaction levels and option texts are
    accepted beside the codes; an XLSX number such as ``4.0`` is the integer it shows."""
    raw = raw.strip()
    if item.type == ItemType.SATISFACTION5:
        raw = SATISFACTION_WORDS.get(raw.lower(), raw)
    if item.type in (ItemType.SINGLE, ItemType.MULTIPLE):
        by_text = {}
        for o in item.options or []:
            for text in (o.get("text"), o.get("text_en")):
                if text:
                    by_text[text.strip().lower()] = o["code"]
        parts = [p.strip() for p in raw.replace("；", ";").replace("、", ";").split(";")]
        raw = ";".join(by_text.get(p.lower(), p) for p in parts if p)
    return parse_value(item, raw)


def _date(raw: str) -> datetime | None:
    """The typed date as a wall-clock time in the office's zone (naive), or None."""
    raw = raw.strip()
    for pattern in DATE_FORMATS:
        try:
            parsed = datetime.strptime(raw, pattern)
        except ValueError:
            continue
        if parsed.time() == time(0):  # a day only: the middle of it, in the office's zone
            parsed = datetime.combine(parsed.date(), time(12))
        return parsed
    return None


def date_window(link: Link) -> tuple[date, date]:
    """The first and last day a paper form of ``link``'s cycle can be dated: from a year
    before the cycle opens (the paper round may come first) to the day it closed, and never
    after today, in the office's zone."""
    now = utcnow()
    first = to_local(link.cycle.opens_at or now).date() - timedelta(days=PAPER_LEAD_DAYS)
    last = to_local(now).date()
    closed = link.cycle.closed_since(now)
    if closed is not None:
        last = min(last, to_local(closed).date())
    return first, last


def import_paper(link: Link, filename: str, data: bytes) -> int:
    """Store every typed paper form of the sheet for ``link``, or none (see the module).
    Returns the number stored. Raises :class:`ImportError_` listing each problem by row and
    column, as the person named the column."""
    if link.cycle.status == CycleStatus.PUBLISHED:
        raise DomainError("这个周期的结果已经公示，不能再录入答卷。", "file")
    rows = read_rows(filename, data, MAX_ROWS)  # more rows are refused as they are read
    if not rows:
        raise ImportError_([problem(1, "-", "文件是空的。")])
    heads = [h.strip() for h in rows[0]]
    known = paper_headers(link)
    columns = [known.get(header_key(h)) for h in heads]
    errors = [
        problem(1, h, "不是这份问卷的题目，也不是意见或日期列。")
        for h, c in zip(heads, columns, strict=True)
        if c is None and h
    ]
    repeated = {c for c in columns if c and columns.count(c) > 1}
    errors += [problem(1, h, "这一列重复了。") for h, c in zip(heads, columns, strict=True)
               if c in repeated]  # fmt: skip
    items = {i.code: i for i in _items(link)}
    if not any(c in items for c in columns):
        errors.append(problem(1, "-", "表头没有这份问卷的任何题目。"))
    if errors:
        raise ImportError_(errors)
    digest = hashlib.sha256(data).hexdigest()[:24]
    key = f"paper-{link.id}-{digest}-"
    done = db.session.scalar(
        select(func.count()).select_from(Response).where(Response.submission_key.like(key + "%"))
    )
    if done:
        raise ImportError_([problem(1, "-", "这个文件已经导入过，没有重复导入。")])
    today = to_local(utcnow()).date()
    first_day, last_day = date_window(link)
    pending = []
    for n, cells in enumerate(rows[1:], start=2):
        cells = cells + [""] * (len(heads) - len(cells))
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(heads) and any(c.strip() for c in cells[len(heads) :]):
            errors.append(problem(n, "-", "有 {cells} 格，表头有 {header} 列。",
                                  cells=len(cells), header=len(heads)))  # fmt: skip
            continue
        answers: dict[str, Any] = dict.fromkeys(items)
        extra = {"comment": "", "submitted_at": "", "rater": ""}
        for head, column, raw in zip(heads, columns, cells, strict=False):
            if column in items:
                try:
                    answers[column] = _value(items[column], raw)
                except QuestionnaireError as exc:
                    errors.append((n, head, exc))
            elif column in extra:
                extra[column] = raw.strip()
        submitted = utcnow()
        if typed := extra["submitted_at"]:
            found = _date(typed)
            where = _head(heads, columns, "submitted_at")
            if found is None:
                errors.append(problem(n, where, "不是日期：{value}（如 2026-11-30）", value=typed))
            elif found.date() > today:
                errors.append(problem(n, where, "日期在今天之后：{value}", value=typed))
            elif not first_day <= found.date() <= last_day:
                errors.append(
                    problem(
                        n,
                        where,
                        "日期不在本周期内：{value}（应在 {first} 到 {last} 之间）",
                        value=typed,
                        first=first_day.isoformat(),
                        last=last_day.isoformat(),
                    )
                )
            else:
                submitted = from_local(found)
        if link.record_rater and not extra["rater"]:
            errors.append(problem(n, _head(heads, columns, "rater"), "请填写评委代号。"))
        if len(extra["comment"]) > COMMENT_MAX:
            errors.append(problem(n, _head(heads, columns, "comment"), "最多 {limit} 个字符。",
                                  limit=COMMENT_MAX))  # fmt: skip
        if len(errors) > 200:
            break
        pending.append((n, answers, extra, submitted))
    if errors:
        raise ImportError_(errors)
    for n, answers, extra, submitted in pending:
        add_response(
            link=link,
            channel=Channel.PAPER,
            started_at=None,
            submitted_at=submitted,
            answers=answers,
            comment=extra["comment"],
            submission_key=f"{key}{n}",
            rater=extra["rater"][:40] if link.record_rater else "",
        )
    record_reason(link, "paper", f"{len(pending)} · {filename}")
    db.session.flush()
    return len(pending)


def _head(heads: list[str], columns: list[str | None], column: str) -> str:
    """The column's header as the person wrote it."""
    for head, c in zip(heads, columns, strict=True):
        if c == column:
            return head
    return column


def forms_typed(link: Link) -> int:
    """How many paper forms were typed in for ``link`` so far."""
    return db.session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.link_id == link.id, Response.channel == Channel.PAPER)
    )
