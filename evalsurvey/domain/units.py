"""Units: create, change, and import from CSV (code, name, type, parent code).

The rules for a unit live here once (:func:`check_code`, types, parent cycles) and
the form, the import and the commands all call them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

from sqlalchemy import select

from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import RaterGroup, Unit
from evalsurvey.models.units import DEFAULT_RATER_GROUPS, UNIT_TYPES

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
CODE_MESSAGE = "编码只能包含字母、数字、点、下划线和连字符，最多 40 个字符。"


def check_code(code: str, field: str = "code") -> str:
    """A code as people type it on posters and in files: ASCII letters, digits, ``._-``."""
    code = (code or "").strip()
    if not code:
        raise DomainError("请填写编码。", field)
    if not CODE_RE.match(code):
        raise DomainError(CODE_MESSAGE, field)
    return code


def check_unit_type(kind: str | None, field: str = "type") -> str:
    """One of the known unit types (what grade, composite and review settings are keyed on)."""
    if kind not in UNIT_TYPES:
        raise DomainError("未知的单位类型。", field)
    return kind


def _check_fields(code: str, name: str, kind: str) -> tuple[str, str, str]:
    code = check_code(code)
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写名称。", "name")
    if len(name) > 200:
        raise DomainError("名称最多 200 个字符。", "name")
    return code, name, check_unit_type(kind)


def _resolve_parent(unit: Unit | None, parent_code: str | None) -> Unit | None:
    parent_code = (parent_code or "").strip()
    if not parent_code:
        return None
    parent = db.session.scalar(select(Unit).where(Unit.code == parent_code))
    if parent is None:
        raise DomainError("找不到该上级单位。", "parent")
    if unit is not None and unit.id is not None and parent.id in unit.subtree_ids():
        raise DomainError("上级单位不能是本单位或其下级。", "parent")
    return parent


def create_unit(
    code: str, name: str, kind: str = "other", parent: str | None = None, active: bool = True
) -> Unit:
    """Add a unit (flushed, not committed)."""
    code, name, kind = _check_fields(code, name, kind)
    if db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise DomainError("该编码已被使用。", "code")
    unit = Unit(
        code=code, name=name, type=kind, active=active, parent=_resolve_parent(None, parent)
    )
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(
    unit: Unit, code: str, name: str, kind: str, parent: str | None, active: bool
) -> Unit:
    """Change a unit; a parent below the unit itself is refused (no cycles)."""
    code, name, kind = _check_fields(code, name, kind)
    other = db.session.scalar(select(Unit).where(Unit.code == code))
    if other is not None and other is not unit:
        raise DomainError("该编码已被使用。", "code")
    new_parent = _resolve_parent(unit, parent)
    unit.code, unit.name, unit.type, unit.active, unit.parent = (
        code,
        name,
        kind,
        active,
        new_parent,
    )
    db.session.flush()
    return unit


UNIT_COLUMNS = ["code", "name", "type", "parent"]


def problem(row: int, column: str, message: str, **params: object):
    """One import problem: (row, column, error); row 1 is the header."""
    return (row, column, DomainError(message, column, **params))


class ImportError_(ValueError):
    """An import problem; ``errors`` lists (row, column, error), row 1 being the header.

    Each error's message is translated where the language is known.
    """

    def __init__(self, errors: list[tuple[int, str, DomainError]]):
        self.errors = errors
        first = errors[0]
        super().__init__(f"row {first[0]}, column {first[1]}: {first[2]}")

    def lines(self, translate=None) -> list[str]:
        return [f"row {r}, column {c}: {e.text(translate)}" for r, c, e in self.errors]


def csv_lines(binary: Iterable[bytes]) -> Iterator[str]:
    """A UTF-8 CSV file's lines as they are read (a BOM dropped), for ``csv.reader``: the
    file is never held whole. A byte that is not UTF-8 is an import problem naming it."""
    offset = 0
    for raw in binary:  # split at b"\n", which is never inside a UTF-8 sequence
        try:
            line = raw.decode("utf-8-sig" if offset == 0 else "utf-8")
        except UnicodeDecodeError as exc:
            raise ImportError_(
                [
                    problem(
                        0,
                        "-",
                        "文件不是 UTF-8 编码的文本（第 {byte} 字节）。",
                        byte=offset + exc.start,
                    )
                ]
            ) from None
        offset += len(raw)
        yield line


def _unit_type(raw: str | None) -> str:
    """A type as a code (``community``) or as people write it (社区); "other" when empty."""
    from evalsurvey.i18n import LABELS

    kind = (raw or "").strip()
    by_name = {name: code for code, name in LABELS["unit_type"].items()}
    return by_name.get(kind, kind) or "other"


def import_units(text: str) -> tuple[int, int]:
    """Create or update units from CSV; all-or-nothing. Returns (created, updated).

    Parents may appear later in the file than their children.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_([problem(1, missing[0], "表头缺少这一列。")])
    rows = list(reader)
    errors: list[tuple[int, str, str]] = []
    existing = {u.code: u for u in db.session.scalars(select(Unit))}
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        if not code:
            errors.append(problem(n, "code", "为空。"))
        elif not CODE_RE.match(code):
            errors.append(problem(n, "code", CODE_MESSAGE))
        elif code in seen:
            errors.append(problem(n, "code", "与第 {other} 行重复。", other=seen[code]))
        else:
            seen[code] = n
        if not (row.get("name") or "").strip():
            errors.append(problem(n, "name", "为空。"))
        kind = _unit_type(row.get("type"))
        if kind not in UNIT_TYPES:
            errors.append(
                problem(
                    n,
                    "type",
                    "未知类型 {kind}，可用：{types}。",
                    kind=kind,
                    types=", ".join(UNIT_TYPES),
                )
            )
        parent = (row.get("parent") or "").strip()
        if (
            parent
            and parent not in existing
            and parent not in {(r.get("code") or "").strip() for r in rows}
        ):
            errors.append(problem(n, "parent", "找不到单位 {code}。", code=parent))
        if parent and parent == code:
            errors.append(problem(n, "parent", "单位不能是自己的上级。"))
    errors += _parent_cycles(rows, existing)
    if errors:
        raise ImportError_(errors)
    created = updated = 0
    units = dict(existing)
    for row in rows:
        code = row["code"].strip()
        unit = units.get(code)
        if unit is None:
            unit = Unit(code=code, name="", type="other")
            db.session.add(unit)
            units[code] = unit
            created += 1
        else:
            updated += 1
        unit.name = row["name"].strip()
        unit.type = _unit_type(row.get("type"))
    for row in rows:
        parent = (row.get("parent") or "").strip()
        units[row["code"].strip()].parent = units[parent] if parent else None
    return created, updated


def _parent_cycles(rows: list[dict], existing: dict[str, Unit]) -> list[tuple[int, str, str]]:
    """Rows whose parent chain, after the import, leads back to themselves."""
    parent_of = {code: (u.parent.code if u.parent else "") for code, u in existing.items()}
    row_of = {}
    for n, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        parent_of[code] = (row.get("parent") or "").strip()
        row_of[code] = n
    errors = []
    for code, n in row_of.items():
        seen, current = {code}, parent_of.get(code, "")
        while current:
            if current in seen:
                errors.append(problem(n, "parent", "{code} 的上级关系形成了循环。", code=code))
                break
            seen.add(current)
            current = parent_of.get(current, "")
    return errors


def create_rater_group(
    code: str, name: str, name_en: str = "", internal: bool = False, visible_to_unit: bool = False
) -> RaterGroup:
    code = check_code(code)
    name = (name or "").strip()
    if not name:
        raise DomainError("请填写名称。", "name")
    if db.session.scalar(select(RaterGroup.id).where(RaterGroup.code == code)) is not None:
        raise DomainError("该编码已被使用。", "code")
    group = RaterGroup(
        code=code,
        name=name[:100],
        name_en=(name_en or "").strip()[:100],
        internal=internal,
        visible_to_unit=visible_to_unit,
    )
    db.session.add(group)
    db.session.flush()
    return group


def ensure_rater_groups() -> dict[str, RaterGroup]:
    """The default rater groups by code, added when missing (a fresh district, the demo, tests)."""
    groups = {}
    for code, name, name_en, internal in DEFAULT_RATER_GROUPS:
        group = db.session.query(RaterGroup).filter_by(code=code).one_or_none()
        if group is None:
            group = RaterGroup(
                code=code,
                name=name,
                name_en=name_en,
                internal=internal,
                visible_to_unit=code == "citizen",
            )
            db.session.add(group)
        groups[code] = group
    return groups


def set_group_visibility(group: RaterGroup, visible: bool) -> None:
    """Whether the assessed unit may read this group's rows (counts are always shown)."""
    group.visible_to_unit = visible
    db.session.flush()
