"""``evalsurvey score`` and ``evalsurvey scheme``: schemes and findings as files, no database."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from evalsurvey.domain.errors import DomainError
from evalsurvey.scoring import (
    FindingsError,
    SchemeError,
    UnitResult,
    parse_scheme,
    read_findings,
    scheme_to_json,
    score_units,
)
from evalsurvey.scoring.schemes import Scheme

# What each problem code means, for the terminal.
SCHEME_MESSAGES = {
    "missing": "'{field}' is missing",
    "not_a_number": "'{field}' must be a number (got {value!r})",
    "not_positive": "'{field}' must be positive (got {value!r})",
    "not_text": "'{field}' must be text",
    "not_an_object": "must be an object",
    "not_a_list": "'{field}' must be a list",
    "unknown_rule": "unknown rule type {rule!r}",
    "bad_order": "order must be asc or desc (got {order!r})",
    "no_categories": "per_occurrence needs at least one category",
    "zero_points": "a category cannot be worth 0 points",
    "no_tiers": "the rule needs tiers",
    "bad_tier": "a tier is [bound, points] (got {tier!r})",
    "duplicate_bound": "two tiers have the same bound",
    "rest_not_last": "the 'rest' tier (null) must be the last",
    "bad_rank": "ranks must be whole numbers in increasing order (got {rank!r})",
    "negative_tier": "tier points cannot be negative ({points})",
    "tier_above_element": "a tier gives {points} points, above the element's {element}",
    "duplicate_code": "the code is used twice",
    "too_deep": "a scheme has at most {levels} levels",
    "rule_on_indicator": "an indicator with children has no rule of its own",
    "children_sum": "the children's points add up to {children}, not {points}",
    "no_rule": "an element needs a rule",
    "negative_in_tree": "an element's categories must be positive (penalties go below the tree)",
    "unknown_method": "unknown assessment method {method!r}",
    "no_methods": "an element needs at least one assessment method",
    "extra_rule": "bonus and penalty items use per_occurrence (got {rule!r})",
    "bonus_sign": "bonus points must be positive",
    "penalty_sign": "penalty points must be negative",
    "bad_version": "version must be a whole number from 1 (got {value!r})",
    "no_indicators": "the scheme has no indicators",
    "total_sum": "the indicators add up to {indicators}, not the total {total}",
    "not_a_workbook": "not an .xlsx workbook ({reason})",
    "missing_sheet": "the sheet is missing",
    "missing_column": "the column is missing from the header",
    "one_level": "write the title in exactly one of the level columns",
    "no_parent": "a node needs its parent on a row above",
    "bad_rule_text": "cannot read the rule {text!r}",
    "unknown_kind": "category must be 加分, 减分 or 否决 (got {kind!r})",
}
FINDINGS_MESSAGES = {
    "missing_column": "the column is missing from the header",
    "empty": "empty",
    "unknown_unit": "unknown unit {unit!r}",
    "unknown_element": "{element!r} is not an element, bonus, penalty or veto of the scheme",
    "duplicate": "the same unit and element as row {other}",
    "veto_value": "a veto is 1 (occurred) or 0, not {value!r}",
    "not_a_count": "{rule}: {value!r} is not a whole number of items",
    "not_a_number": "{rule}: {value!r} is not a number",
    "unknown_category": "{rule}: unknown category {value!r}",
    "out_of_range": "{rule}: {value!r} is out of range",
    "note_required": "a manual score needs a note saying why",
}


def scheme_message(error: SchemeError) -> str:
    text = SCHEME_MESSAGES.get(error.code, error.code).format_map(_Missing(error.detail))
    sheet = getattr(error, "sheet", None)
    if sheet:
        return f"sheet {sheet}, row {error.row}, column {error.column}: {text}"
    return f"{error.where or 'scheme'}: {text}"


def findings_message(error: FindingsError) -> str:
    text = FINDINGS_MESSAGES.get(error.code, error.code).format_map(_Missing(error.detail))
    return f"row {error.row}, column {error.column}: {text}"


class _Missing(dict):
    """Message values: numbers as people write them (100, not 100.0); unknown keys as ?."""

    def __init__(self, detail: dict):
        super().__init__({k: (f"{v:g}" if isinstance(v, float) else v) for k, v in detail.items()})

    def __missing__(self, key: str) -> str:
        return "?"


def load_scheme(path: str) -> Scheme:
    """A scheme from .json or .xlsx; exits 2 with a message naming the place."""
    try:
        if path.lower().endswith(".xlsx"):
            from evalsurvey.scoring.workbook import read_workbook

            return read_workbook(Path(path).read_bytes())
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        return parse_scheme(data)
    except SchemeError as exc:
        _exit(f"{path}: {scheme_message(exc)}")
    except DomainError as exc:  # a workbook past the bounded reader's limits
        _exit(f"{path}: {_english(exc)}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _exit(f"{path}: not a UTF-8 JSON file ({exc})")
    raise AssertionError  # unreachable


def _english(error: DomainError) -> str:
    """A domain message from the English catalogue (these commands run without the app)."""
    from babel.support import Translations

    folder = Path(__file__).resolve().parent.parent / "translations"
    return error.text(Translations.load(str(folder), ["en"]).gettext)


def _exit(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group("scheme")
def scheme_group() -> None:
    """Indicator schemes as files: check them, convert JSON ⇄ workbook."""


@scheme_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def check_command(path: str) -> None:
    """Validate a scheme (.json or .xlsx)."""
    scheme = load_scheme(path)
    click.echo(
        f"{scheme.label}: {len(scheme.indicators)} indicators, {len(scheme.elements())} "
        f"elements, total {scheme.total:g}; {len(scheme.bonus)} bonus, "
        f"{len(scheme.penalties)} penalty, {len(scheme.vetoes)} veto items — valid"
    )


@scheme_group.command("convert")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("target", type=click.Path(dir_okay=False))
def convert_command(source: str, target: str) -> None:
    """Convert between the JSON form and the workbook (by the files' extensions)."""
    scheme = load_scheme(source)
    if target.lower().endswith(".xlsx"):
        from evalsurvey.scoring.workbook import write_workbook

        Path(target).write_bytes(write_workbook(scheme))
    elif target.lower().endswith(".json"):
        text = json.dumps(scheme_to_json(scheme), ensure_ascii=False, indent=1)
        Path(target).write_text(text + "\n", encoding="utf-8")
    else:
        _exit(f"{target}: give a .json or .xlsx file name")
    click.echo(f"{scheme.label} written to {target}")


@click.command("score")
@click.argument("scheme_path", type=click.Path(exists=True, dir_okay=False))
@click.argument("findings_path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--units",
    "units_path",
    type=click.Path(exists=True, dir_okay=False),
    help="a unit CSV (column code): findings for other units are refused, and units "
    "without findings are listed as not assessed",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="write the results")
def score_command(
    scheme_path: str, findings_path: str, units_path: str | None, json_out: str | None
) -> None:
    """Score units from a findings CSV (unit,element,value,note) by a scheme's rules."""
    scheme = load_scheme(scheme_path)
    units = _units(units_path) if units_path else None
    try:
        with open(findings_path, encoding="utf-8-sig", newline="") as fh:
            findings = read_findings(fh, scheme, units)
    except FindingsError as exc:
        _exit(f"{findings_path}: {findings_message(exc)}")
    except UnicodeDecodeError as exc:
        _exit(f"{findings_path}: not UTF-8 text (byte {exc.start})")
    except csv.Error as exc:  # a field past csv.field_size_limit() or a broken quote
        _exit(f"{findings_path}: cannot read the CSV ({exc})")
    results = score_units(scheme, findings, units or ())
    click.echo(render(scheme, results))
    if json_out:
        document = {"scheme": scheme.label, "units": [result_json(scheme, r) for r in results]}
        Path(json_out).write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        click.echo(f"results written to {json_out}", err=True)


def _units(path: str) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if "code" not in (reader.fieldnames or []):
            _exit(f"{path}: row 1, column code: the column is missing from the header")
        return [row["code"].strip() for row in reader if (row.get("code") or "").strip()]


def _round(x: float | None) -> float | None:
    if x is None:
        return None
    x = round(x, 4)
    return int(x) if float(x).is_integer() else x


def explain(rule: str, details: dict, points: float | None, max_points: float) -> str:
    """One element's points in English (the pages make their own sentences)."""
    if points is None:
        return "not assessed"
    if rule == "checklist":
        return f"{details['missing']} missing × {details['deduct']:g} from {max_points:g}"
    if rule == "tiers":
        if "below" in details:
            return f"below the lowest tier ({details['below']:g})"
        return f"tier from {details['bound']:g}"
    if rule == "rank_tiers":
        up_to = details.get("up_to")
        return f"rank {details['rank']}" + (f" (top {up_to})" if up_to else " (the rest)")
    if rule == "per_occurrence":
        return f"occurrences worth {details['raw']:g}, within 0–{max_points:g}"
    if rule == "survey":
        return f"satisfaction {details['score']:g} of 100"
    return "given by hand"


def result_json(scheme: Scheme, r: UnitResult) -> dict:
    return {
        "unit": r.unit,
        "total": _round(r.total),
        "partial": _round(r.partial),
        "complete": r.complete,
        "rank": r.rank,
        "elements": {
            code: {
                "points": _round(e.points),
                "max": _round(e.max),
                "value": e.value,
                "explanation": explain(e.rule, dict(e.details), e.points, e.max),
            }
            for code, e in r.elements.items()
        },
        "indicators": {code: _round(v) for code, v in r.indicators.items()},
        "bonus": _round(r.bonus),
        "bonus_before_cap": _round(r.bonus_raw),
        "penalties": _round(r.penalties),
        "vetoes": list(r.vetoes),
        "barred": list(r.barred),
        "not_assessed": list(r.not_assessed),
    }


def render(scheme: Scheme, results: list[UnitResult]) -> str:
    tops = [n.code for n in scheme.indicators]
    lines = [
        f"{scheme.label} · {scheme.title} · {len(results)} units",
        f"{'rank':>4}  {'unit':<12} {'total':>7} {'bonus':>6} {'pen.':>6}"
        + "".join(f" {c:>5}" for c in tops),
    ]
    ordered = sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.unit))
    for r in ordered:
        total = f"{r.total:g}" if r.total is not None else "incompl."
        cells = "".join(
            f" {'' if r.indicators.get(c) is None else format(r.indicators[c], 'g'):>5}"
            for c in tops
        )
        lines.append(
            f"{r.rank or '':>4}  {r.unit:<12} {total:>7} {r.bonus:>6g} {r.penalties:>6g}{cells}"
            + (f"  vetoes {','.join(r.vetoes)}" if r.vetoes else "")
            + (f"  not assessed: {len(r.not_assessed)}" if r.not_assessed else "")
        )
    return "\n".join(lines)


GRADING_MESSAGES = {
    "not_an_object": "the rules must be a JSON object",
    "unknown_kind": "kind must be stars or quota (got {kind!r})",
    "no_bands": "stars need bands",
    "bad_band": "band {index} is not [bound, stars]",
    "bad_stars": "band {index}: stars must be a whole number from 1",
    "rest_not_last": "band {index}: the rest (null) must be the last band",
    "bands_not_descending": "band {index}: bounds must go down",
    "no_rest_band": "the last band must be [null, stars] (the rest)",
    "no_grades": "quota rules need grades",
    "bad_grade": "grade {index} needs a code",
    "duplicate_grade": "grade {grade!r} appears twice",
    "bad_min_score": "grade {grade!r}: min_score must be a number",
    "bad_share": "grade {grade!r}: max_share must be between 0 and 1",
    "no_rest_grade": "the last grade ({grade!r}) takes the rest: no min_score or max_share",
    "bad_tie_break": "tie_break must be a list of column names",
    "missing_tie_break": "tie-breaker column {column!r} is missing",
}


def grade_reason(g) -> str:
    """Why a unit has its grade, in English."""
    parts = [f"score {g.score:g}"]
    for code, why, numbers in g.steps:
        if why == "below_min":
            parts.append(f"below the {code} minimum {numbers['min']:g}")
        elif why == "barred":
            parts.append(f"barred from {code} by a veto")
        elif why == "quota_full":
            parts.append(f"{code} places ({numbers['quota']}) taken")
        elif why == "tie_over_quota":
            parts.append(f"{numbers['tied']} units tied for the last {code} places")
    parts.append(f"graded {g.label}")
    return "; ".join(parts)


@click.command("grade")
@click.argument("results_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="write the grades")
def grade_command(results_path: str, rules_path: str, json_out: str | None) -> None:
    """Grade units from RESULTS.csv (unit,score[,barred][,tie-breakers]) by RULES.json."""
    from evalsurvey.scoring.grading import Candidate, GradingError, grade, parse_rules

    try:
        rules = parse_rules(json.loads(Path(rules_path).read_text(encoding="utf-8-sig")))
    except GradingError as exc:
        _exit(f"{rules_path}: " + GRADING_MESSAGES.get(exc.code, exc.code).format_map(
            _Missing(exc.detail)))  # fmt: skip
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _exit(f"{rules_path}: not a UTF-8 JSON file ({exc})")
    ties = [t.lstrip("-") for t in rules.tie_break]
    units, seen = [], {}
    with open(results_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        for column in ("unit", "score", *ties):
            if column not in header:
                _exit(f"{results_path}: row 1, column {column}: the column is missing")
        for row_no, row in enumerate(reader, start=2):
            unit = (row.get("unit") or "").strip()
            if not unit:
                _exit(f"{results_path}: row {row_no}, column unit: empty")
            if unit in seen:
                _exit(f"{results_path}: row {row_no}, column unit: repeats row {seen[unit]}")
            seen[unit] = row_no
            values = {}
            for column in ("score", *ties):
                try:
                    values[column] = float(row.get(column) or "")
                except ValueError:
                    _exit(f"{results_path}: row {row_no}, column {column}: not a number")
            barred = frozenset(b for b in (row.get("barred") or "").split(";") if b.strip())
            units.append(Candidate(unit, values["score"], barred, {t: values[t] for t in ties}))
    graded = grade(rules, units)
    for g in graded:
        click.echo(f"{g.unit}\t{g.score:g}\t{g.grade}\t{grade_reason(g)}")
    if json_out:
        document = {
            "units": [
                {"unit": g.unit, "score": g.score, "grade": g.grade, "reason": grade_reason(g)}
                for g in graded
            ]
        }
        Path(json_out).write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
