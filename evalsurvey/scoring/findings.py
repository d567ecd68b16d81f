"""The findings file: what inspectors recorded, one row per unit and element.

UTF-8 CSV with a header ``unit,element,value,note`` (a contract). ``element`` is an
element, bonus, penalty or veto code of the scheme; ``value`` is what the element's rule
reads (see :mod:`evalsurvey.scoring.points`): a count of missing items, a measured number,
``category:count;…``, a 0–100 survey score, points given by hand (with a note), or 1/0
for a veto. An empty value is "not assessed".
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from evalsurvey.scoring.categories import category_code
from evalsurvey.scoring.schemes import Extra, Node, Rule, Scheme, Veto

COLUMNS = ("unit", "element", "value", "note")


class FindingsError(ValueError):
    """A problem in the findings file at ``row`` (the header is row 1) and ``column``."""

    def __init__(self, row: int, column: str, code: str, **detail: Any):
        self.row, self.column, self.code, self.detail = row, column, code, detail
        super().__init__(f"row {row}, column {column}: {code} {detail}")


@dataclass(frozen=True)
class Finding:
    unit: str
    element: str
    value: str  # as written: the rule reads it (see parse_value)
    note: str = ""
    row: int = 0


def parse_value(rule: Rule, raw: str, element_points: float | None) -> Any:
    """The typed value a rule reads, or raise ``ValueError(code, detail)``.

    checklist → int ≥ 0; tiers and rank_tiers → float; per_occurrence → {category: count};
    survey → float in [0, 100]; manual → float in [0, element points].
    """
    raw = raw.strip()
    if rule.type == "per_occurrence":
        counts: dict[str, int] = {}
        for part in raw.replace("；", ";").split(";"):
            if not part.strip():
                continue
            cat, sep, count = part.replace("：", ":").partition(":")
            code = category_code(cat, rule.params["points"])
            if code is None:
                raise ValueError("unknown_category", cat.strip())
            cat = code
            n = _count(count.strip() if sep else "1")
            counts[cat] = counts.get(cat, 0) + n
        return counts
    if rule.type == "checklist":
        return _count(raw)
    number = _float(raw)
    if rule.type == "survey" and not 0 <= number <= 100:
        raise ValueError("out_of_range", raw)
    if rule.type == "manual" and not 0 <= number <= (element_points or 0) + 1e-9:
        raise ValueError("out_of_range", raw)
    return number


def _count(raw: str) -> int:
    try:
        n = int(raw)
    except ValueError:
        raise ValueError("not_a_count", raw) from None
    if n < 0:
        raise ValueError("not_a_count", raw)
    return n


def _float(raw: str) -> float:
    try:
        x = float(raw)
    except ValueError:
        raise ValueError("not_a_number", raw) from None
    if not math.isfinite(x):
        raise ValueError("not_a_number", raw)
    return x


def check_finding(scheme: Scheme, finding: Finding) -> Any:
    """The finding's typed value (None: not assessed), or raise :class:`FindingsError`."""
    item = scheme.item(finding.element)
    if item is None or (isinstance(item, Node) and not item.is_element):
        raise FindingsError(finding.row, "element", "unknown_element", element=finding.element)
    if not finding.value.strip():
        return None
    if isinstance(item, Veto):
        if finding.value.strip() not in ("0", "1"):
            raise FindingsError(finding.row, "value", "veto_value", value=finding.value)
        return finding.value.strip() == "1"
    points = item.points if isinstance(item, Node) else None
    rule = item.rule if isinstance(item, Node | Extra) else None
    assert rule is not None
    try:
        value = parse_value(rule, finding.value, points)
    except ValueError as exc:
        code, detail = exc.args
        raise FindingsError(finding.row, "value", code, value=detail, rule=rule.type) from None
    if rule.type == "manual" and not finding.note.strip():
        raise FindingsError(finding.row, "note", "note_required")
    return value


def read_findings(
    source: str | TextIO, scheme: Scheme, units: Iterable[str] | None = None
) -> list[Finding]:
    """Read and check a findings CSV against ``scheme`` (and the known ``units``, if given).

    Raises :class:`FindingsError` for the first problem: a missing column, an unknown unit
    or element code, a value that does not fit the element's rule, a manual score without
    a note, or the same unit and element twice.
    """
    fh = io.StringIO(source) if isinstance(source, str) else source
    reader = csv.reader(fh)
    header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
    for column in COLUMNS[:3]:
        if column not in header:
            raise FindingsError(1, column, "missing_column")
    pos = {c: header.index(c) for c in COLUMNS if c in header}
    known = set(units) if units is not None else None
    seen: dict[tuple[str, str], int] = {}
    out = []
    for row_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        unit = cells[pos["unit"]].strip()
        element = cells[pos["element"]].strip()
        if not unit:
            raise FindingsError(row_no, "unit", "empty")
        if known is not None and unit not in known:
            raise FindingsError(row_no, "unit", "unknown_unit", unit=unit)
        key = (unit, element)
        if key in seen:
            raise FindingsError(row_no, "element", "duplicate", other=seen[key])
        seen[key] = row_no
        finding = Finding(
            unit,
            element,
            cells[pos["value"]],
            cells[pos["note"]].strip() if "note" in pos else "",
            row_no,
        )
        check_finding(scheme, finding)
        out.append(finding)
    return out
