"""The checks every input shares, written once: integers a database column holds, text a
column and a download header hold, dates a person could mean, JSON a parser can walk.

Forms (:mod:`evalsurvey.admin.forms`), views' query parameters, the domain's functions and
the commands all call these, so a value refused on one path is refused on every path.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from evalsurvey.domain.errors import DomainError
from evalsurvey.i18n import N_

DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1  # a PostgreSQL ``integer``
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the dates an assessment can be about
JSON_MAX_DEPTH = 32  # nesting of a questionnaire, scheme or grade-rule document

# Control characters: never in text we store (PostgreSQL refuses NUL; the others break
# CSV cells, download headers and the audit log). Multi-line text keeps tab, LF and CR.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CONTROL_MESSAGE = N_("不能包含换行或控制字符。")
CONTROL_MULTILINE_MESSAGE = N_("不能包含控制字符。")
TOO_LONG_MESSAGE = N_("内容太长：最多 {n} 个字符。")
YEAR_MESSAGE = N_("日期应在 {first} 年到 {last} 年之间。")
DEPTH_MESSAGE = N_("JSON 嵌套太深（最多 {n} 层）。")


def db_int(raw: object) -> int:
    """``int(raw)`` inside a database integer, else ``ValueError``: usable as
    ``request.args.get(name, type=db_int)``, which then gives the default."""
    value = int(str(raw).strip())
    if not DB_INT_MIN <= value <= DB_INT_MAX:
        raise ValueError(f"{value} is outside a database integer")
    return value


def text_problem(value: str | None, max_len: int | None = None, multiline: bool = False):
    """Why ``value`` cannot be stored as text (a message and its parameters), or None."""
    if not value:
        return None
    if (CONTROL_MULTILINE if multiline else CONTROL).search(value):
        return (CONTROL_MULTILINE_MESSAGE if multiline else CONTROL_MESSAGE), {}
    if max_len is not None and len(value) > max_len:
        return TOO_LONG_MESSAGE, {"n": max_len}
    return None


def check_text(
    value: str | None, field: str | None, max_len: int | None = None, multiline: bool = False
) -> str:
    """``value`` stripped, refused by ``field`` when it holds control characters (line breaks
    too unless ``multiline``) or is longer than its column's ``max_len``."""
    value = (value or "").strip()
    problem = text_problem(value, max_len, multiline)
    if problem is not None:
        raise DomainError(problem[0], field, **problem[1])
    return value


def check_date(value: date | datetime | None, field: str | None):
    """A date or time inside the years an assessment can be about (None passes)."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise DomainError(YEAR_MESSAGE, field, first=FIRST_YEAR, last=LAST_YEAR)
    return value


def json_depth(data: Any) -> int:
    """How deeply ``data`` nests lists and objects (walked without recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _bracket_depth(text: str) -> int:
    """An upper bound on the nesting of the JSON ``text`` (brackets inside strings count
    too), found without parsing: what decides whether parsing is safe."""
    deepest = depth = 0
    for ch in re.findall(r"[\[\]{}]", text):
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def load_json(text: str, field: str | None = None, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """``json.loads(text)``, refusing documents nested deeper than ``max_depth`` (the parser
    and every walker after it would otherwise recurse until Python gives up).
    ``json.JSONDecodeError`` is raised as ``json.loads`` raises it."""
    if _bracket_depth(text) > max_depth:
        try:
            data = json.loads(text)
        except RecursionError:
            data = None
        if data is None or json_depth(data) > max_depth:
            raise DomainError(DEPTH_MESSAGE, field, n=max_depth)
        return data
    return json.loads(text)


NUL_MESSAGE = N_("内容包含无法保存的字符（NUL）。")
NUMBER_MESSAGE = N_("数字超出可保存的范围。")


def check_row(obj: object) -> None:
    """Refuse, by the attribute's name, a value its column cannot hold: text longer than a
    ``String(n)``, NUL in any text (PostgreSQL refuses it), an integer past a 32-bit
    ``Integer``. SQLite would store them all; PostgreSQL fails the whole transaction."""
    from sqlalchemy import BigInteger, Integer, String, inspect

    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        value = state.dict.get(attr.key)
        if value is None or not attr.columns:
            continue
        kind = attr.columns[0].type
        kind = getattr(kind, "impl", kind) if not isinstance(kind, String | Integer) else kind
        if isinstance(value, str):
            if "\x00" in value:
                raise DomainError(NUL_MESSAGE, attr.key)
            length = getattr(kind, "length", None)
            if isinstance(kind, String) and length and len(value) > length:
                raise DomainError(TOO_LONG_MESSAGE, attr.key, n=length)
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and isinstance(kind, Integer)
            and not isinstance(kind, BigInteger)
            and not DB_INT_MIN <= value <= DB_INT_MAX
        ):
            raise DomainError(NUMBER_MESSAGE, attr.key)


def _before_flush(session, _context, _instances) -> None:
    for obj in (*session.new, *session.dirty):
        check_row(obj)


def install_column_checks() -> None:
    """Check every row against its columns before any flush (once per process)."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
