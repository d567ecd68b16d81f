"""Units: CSV import (code, name, type, parent code)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import Unit
from evalsurvey.models.units import UNIT_TYPES

UNIT_COLUMNS = ["code", "name", "type", "parent"]


class ImportError_(ValueError):
    """An import problem; ``errors`` lists (row, column, message), row 1 being the header."""

    def __init__(self, errors: list[tuple[int, str, str]]):
        self.errors = errors
        first = errors[0]
        super().__init__(f"row {first[0]}, column {first[1]}: {first[2]}")

    def lines(self) -> list[str]:
        return [f"row {r}, column {c}: {m}" for r, c, m in self.errors]


def decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_([(0, "-", f"the file is not UTF-8 text (byte {exc.start})")]) from None


def import_units(text: str) -> tuple[int, int]:
    """Create or update units from CSV; all-or-nothing. Returns (created, updated).

    Parents may appear later in the file than their children.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("code", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_([(1, missing[0], "column is missing from the header")])
    rows = list(reader)
    errors: list[tuple[int, str, str]] = []
    existing = {u.code: u for u in db.session.scalars(select(Unit))}
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        if not code:
            errors.append((n, "code", "empty"))
        elif code in seen:
            errors.append((n, "code", f"duplicate of row {seen[code]}"))
        else:
            seen[code] = n
        if not (row.get("name") or "").strip():
            errors.append((n, "name", "empty"))
        kind = (row.get("type") or "other").strip() or "other"
        if kind not in UNIT_TYPES:
            errors.append((n, "type", f"unknown type {kind!r}; use one of {', '.join(UNIT_TYPES)}"))
        parent = (row.get("parent") or "").strip()
        if (
            parent
            and parent not in existing
            and parent not in {(r.get("code") or "").strip() for r in rows}
        ):
            errors.append((n, "parent", f"unknown unit {parent!r}"))
        if parent and parent == code:
            errors.append((n, "parent", "a unit cannot be its own parent"))
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
        unit.type = (row.get("type") or "other").strip() or "other"
    for row in rows:
        parent = (row.get("parent") or "").strip()
        units[row["code"].strip()].parent = units[parent] if parent else None
    return created, updated
