"""The grade rules editor: rows of a form to and from the rules' JSON contract
(:func:`evalsurvey.scoring.grading.parse_rules`), with every problem by its row and field.

Stars are bands (a lower bound and a number of stars) and a last row for the rest; quota
grades are rows (code, name, minimum score, maximum share in per cent) and a last row for the
rest, with tie-breakers chosen from the composite's components. Rows are added and removed by
submit buttons that show the form again (no script needed); a row left empty is no row.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from evalsurvey.domain.assessment.grades import RULE_MESSAGES, Preview, rule_problem
from evalsurvey.domain.checks import text_problem
from evalsurvey.i18n import N_, _
from evalsurvey.scoring.grading import GradingError, parse_rules

KINDS = ("stars", "quota")
BLANK_ROWS = 2  # empty rows offered beneath the rules as stored
MAX_ROWS = 40  # rows read from a post: more is no set of grades anyone keeps
PENALTIES = "penalties"  # a tie-breaker beside the components (fewer penalty points wins)
CODE_LEN, LABEL_LEN = 40, 60

NOT_A_NUMBER = N_("请填写数字。")
NOT_WHOLE = N_("请填写不小于 1 的整数。")
NO_BOUND = N_("请填写这一档的下限；不设下限的单位在最后一行“其余”。")
NOT_A_SHARE = N_("请填写 0 到 100 之间的百分数。")
NO_REST = N_("请填写其余单位的等级。")
NO_REST_STARS = N_("请填写其余单位的星数。")


@dataclass
class BandRow:
    min: str = ""
    stars: str = ""

    def blank(self) -> bool:
        return not (self.min.strip() or self.stars.strip())


@dataclass
class GradeRow:
    code: str = ""
    label: str = ""
    min: str = ""
    share: str = ""

    def blank(self) -> bool:
        return not any(v.strip() for v in (self.code, self.label, self.min, self.share))


@dataclass
class TieRow:
    column: str = ""
    lower: bool = False  # lower is better (penalties: always)


@dataclass
class Editor:
    """What the form shows: the rows as typed, and the problems by field name."""

    kind: str = "stars"
    bands: list[BandRow] = field(default_factory=list)
    rest_stars: str = ""
    promote: bool = False
    grades: list[GradeRow] = field(default_factory=list)
    rest_code: str = ""
    rest_label: str = ""
    ties: list[TieRow] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    preview: Preview | None = None  # counts under these rules, when asked

    def error(self, name: str, message: str, **params: Any) -> None:
        self.errors.setdefault(name, []).append(_(message, **params))

    def pad(self) -> Editor:
        """Offer empty rows beneath the filled ones."""
        self.bands += [BandRow() for _i in range(BLANK_ROWS)]
        self.grades += [GradeRow() for _i in range(BLANK_ROWS)]
        self.ties += [TieRow() for _i in range(max(1, BLANK_ROWS - len(self.ties)))]
        return self


# --- the stored rules → the form ---------------------------------------------------------


def number_text(value: Any) -> str:
    """A bound or score as typed: ``90`` for 90 and 90.0, ``92.5``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def percent_text(share: Any) -> str:
    """A share (0–1) in per cent without a binary remainder: 0.3 → ``30``."""
    if share is None:
        return ""
    value = Decimal(repr(float(share))) * 100
    return format(value.normalize(), "f")


def from_rules(rules: Mapping[str, Any] | None) -> Editor:
    """The form for stored rules (a full set: parse_rules accepts it)."""
    editor = Editor()
    if not rules:
        return editor
    editor.kind = rules.get("kind", "stars")
    if editor.kind == "stars":
        bands = list(rules.get("bands") or [])
        if bands and bands[-1][0] is None:
            editor.rest_stars = str(bands.pop()[1])
        editor.bands = [BandRow(number_text(b), str(s)) for b, s in bands]
        editor.promote = bool(rules.get("promote_on_improvement"))
    else:
        grades = list(rules.get("grades") or [])
        if grades:
            last = grades.pop()
            editor.rest_code = str(last.get("code", ""))
            editor.rest_label = str(last.get("label") or "")
        editor.grades = [
            GradeRow(
                str(g.get("code", "")),
                str(g.get("label") or ""),
                number_text(g.get("min_score")),
                percent_text(g.get("max_share")),
            )
            for g in grades
        ]
        editor.ties = [
            TieRow(t.lstrip("-"), t.startswith("-")) for t in rules.get("tie_break") or []
        ]
    return editor


# --- the form → rules ----------------------------------------------------------------------


def from_form(form: Mapping[str, str]) -> Editor:
    """The rows as posted (every row kept, empty ones too, so the page shows what was typed)."""

    def rows(prefix: str) -> int:
        try:
            return max(0, min(int(form.get(f"{prefix}-rows", "0")), MAX_ROWS))
        except ValueError:
            return 0

    editor = Editor(kind=form.get("kind", ""))
    editor.bands = [
        BandRow(form.get(f"band-{i}-min", ""), form.get(f"band-{i}-stars", ""))
        for i in range(rows("band"))
    ]
    editor.rest_stars = form.get("rest-stars", "")
    editor.promote = form.get("promote") == "1"
    editor.grades = [
        GradeRow(
            form.get(f"grade-{i}-code", ""),
            form.get(f"grade-{i}-label", ""),
            form.get(f"grade-{i}-min", ""),
            form.get(f"grade-{i}-share", ""),
        )
        for i in range(rows("grade"))
    ]
    editor.rest_code = form.get("rest-code", "")
    editor.rest_label = form.get("rest-label", "")
    editor.ties = [
        TieRow(form.get(f"tie-{i}-column", ""), form.get(f"tie-{i}-order") == "low")
        for i in range(rows("tie"))
    ]
    return editor


def change_rows(editor: Editor, action: str) -> bool:
    """Add or remove a row as a button asked (``add-band``, ``remove-grade-2`` …); False when
    ``action`` is no such button."""
    lists = {"band": (editor.bands, BandRow), "grade": (editor.grades, GradeRow)}
    lists["tie"] = (editor.ties, TieRow)
    parts = action.split("-")
    if len(parts) == 2 and parts[0] == "add" and parts[1] in lists:
        rows, make = lists[parts[1]]
        if len(rows) < MAX_ROWS:
            rows.append(make())
        return True
    if len(parts) == 3 and parts[0] == "remove" and parts[1] in lists and parts[2].isdigit():
        rows, _make = lists[parts[1]]
        if int(parts[2]) < len(rows):
            del rows[int(parts[2])]
        return True
    return False


def _plain(text: str) -> str:
    """Full-width digits and signs as typed on a Chinese keyboard, as ASCII."""
    return unicodedata.normalize("NFKC", text or "").strip()


def _number(text: str) -> int | float | None:
    """A typed number (an integer stays one, so stored rules round-trip), None when blank;
    raises ValueError."""
    text = _plain(text)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _share(text: str) -> float | None:
    """A typed percentage as a share (``30`` → 0.3, exactly); raises ValueError."""
    text = _plain(text).rstrip("%％").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(text)
    return float(value / 100)


def _text(editor: Editor, name: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    problem = text_problem(value, limit)
    if problem is not None:
        editor.error(name, problem[0], **problem[1])
    return value


def to_rules(editor: Editor, tie_columns: Collection[str] = ()) -> dict[str, Any] | None:
    """The rules the form holds (the JSON contract), or None with the problems recorded by
    field on ``editor``. A tie-breaker must be one of ``tie_columns`` (what the composite's
    units carry)."""
    editor.errors.clear()
    for i, tie in enumerate(editor.ties):
        column = tie.column.strip()
        if column and column not in tie_columns:
            editor.error(f"tie-{i}-column", RULE_MESSAGES["missing_tie_break"], column=column)
    if editor.kind not in KINDS:
        editor.error("kind", RULE_MESSAGES["unknown_kind"])
        return None
    places: list[str] = []  # the form row of each entry of the contract's list
    if editor.kind == "stars":
        data = _stars(editor, places)
    else:
        data = _quota(editor, places)
    # a quota row's unreadable number is left out of ``data`` (as a blank one is), so the
    # contract's own check still runs and one save names every problem; a star band's is
    # read as 0, which the contract would misjudge, so there the fields come first
    if editor.errors and editor.kind == "stars":
        return None
    try:
        parse_rules(data)
    except GradingError as exc:
        message, params = rule_problem(exc)
        field = _field_of(exc, editor, places)
        if field not in editor.errors:
            editor.error(field, message, **params)
    return None if editor.errors else data


def _stars(editor: Editor, places: list[str]) -> dict[str, Any]:
    bands: list[list[Any]] = []
    for i, row in enumerate(editor.bands):
        if row.blank():
            continue
        name = f"band-{i}"
        try:
            bound = _number(row.min)
        except ValueError:
            editor.error(f"{name}-min", NOT_A_NUMBER)
            bound = 0
        if bound is None:
            editor.error(f"{name}-min", NO_BOUND)
        stars = _whole(editor, f"{name}-stars", row.stars)
        bands.append([bound, stars])
        places.append(name)
    if editor.rest_stars.strip():
        bands.append([None, _whole(editor, "rest-stars", editor.rest_stars)])
        places.append("rest")
    elif bands:
        editor.error("rest-stars", NO_REST_STARS)
    data: dict[str, Any] = {"kind": "stars", "bands": bands}
    if editor.promote:
        data["promote_on_improvement"] = True
    return data


def _whole(editor: Editor, name: str, text: str) -> int:
    try:
        value = _number(text)
    except ValueError:
        value = None
    if not isinstance(value, int) or value < 1:
        editor.error(name, NOT_WHOLE)
        return 1
    return value


def _quota(editor: Editor, places: list[str]) -> dict[str, Any]:
    grades: list[dict[str, Any]] = []
    for i, row in enumerate(editor.grades):
        if row.blank():
            continue
        name = f"grade-{i}"
        label = _text(editor, f"{name}-label", row.label, LABEL_LEN)
        code = _text(editor, f"{name}-code", row.code, CODE_LEN) or label
        entry: dict[str, Any] = {"code": code}
        if label:
            entry["label"] = label
        try:
            minimum = _number(row.min)
        except ValueError:
            editor.error(f"{name}-min", NOT_A_NUMBER)
            minimum = None
        try:
            share = _share(row.share)
        except ValueError:
            editor.error(f"{name}-share", NOT_A_SHARE)
            share = None
        if minimum is not None:
            entry["min_score"] = minimum
        if share is not None:
            entry["max_share"] = share
        grades.append(entry)
        places.append(name)
    label = _text(editor, "rest-label", editor.rest_label, LABEL_LEN)
    code = _text(editor, "rest-code", editor.rest_code, CODE_LEN) or label
    if code:
        grades.append({"code": code, **({"label": label} if label else {})})
        places.append("rest")
    else:
        editor.error("rest-code", NO_REST)
    data: dict[str, Any] = {"kind": "quota", "grades": grades}
    ties = [("-" if t.lower else "") + t.column.strip() for t in editor.ties if t.column.strip()]
    if ties:
        data["tie_break"] = ties
    return data


def _field_of(exc: GradingError, editor: Editor, places: list[str]) -> str:
    """The form field a contract problem belongs beside."""
    index = exc.detail.get("index")
    if index is None and "grade" in exc.detail:  # the last row with that code
        index = max(
            (i for i, e in enumerate(_codes(editor, places)) if e == exc.detail["grade"]),
            default=None,
        )
    place = places[index] if index is not None and index < len(places) else None
    if place == "rest":
        return "rest-stars" if editor.kind == "stars" else "rest-code"
    suffix = {
        "bad_stars": "stars",
        "bands_not_descending": "min",
        "bad_band": "min",
        "bad_min_score": "min",
        "bad_share": "share",
    }.get(exc.code, "code")
    if place is not None:
        return f"{place}-{suffix}"
    if exc.code in ("bad_tie_break", "missing_tie_break"):
        return "tie-0-column"
    return "rest-stars" if editor.kind == "stars" else "rest-code"


def _codes(editor: Editor, places: list[str]) -> list[str]:
    out = []
    for place in places:
        if place == "rest":
            out.append(editor.rest_code.strip() or editor.rest_label.strip())
        else:
            row = editor.grades[int(place.split("-")[1])]
            out.append(row.code.strip() or row.label.strip())
    return out


def grade_codes(editor: Editor) -> dict[str, str]:
    """The grades the form names, code → label (what a veto may bar)."""
    if editor.kind == "stars":
        stars = [r.stars for r in editor.bands] + [editor.rest_stars]
        out = {}
        for text in stars:
            try:
                n = _number(text)
            except ValueError:
                continue
            if isinstance(n, int) and 0 < n <= 10:
                out[f"star{n}"] = "★" * n
        return out
    rows = [(r.code, r.label) for r in editor.grades] + [(editor.rest_code, editor.rest_label)]
    return {
        (code.strip() or label.strip()): (label.strip() or code.strip())
        for code, label in rows
        if code.strip() or label.strip()
    }
