"""Schemes in the database, their use by cycles, inspectors' findings, and each unit's result.

The rules themselves are pure (:mod:`evalsurvey.scoring`); this module stores versions,
pins them to cycles, records findings (audited, with the reason for every change) and
feeds the scoring with the findings and the satisfaction scores of the stored analysis.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from evalsurvey.domain.assessment.evidence import check_evidence, store_evidence
from evalsurvey.domain.checks import check_text
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import check_code
from evalsurvey.extensions import db
from evalsurvey.i18n import N_
from evalsurvey.models import (
    Cycle,
    CycleScheme,
    CycleStatus,
    Finding,
    SchemeVersion,
    Unit,
)
from evalsurvey.models.types import utcnow
from evalsurvey.scoring import Finding as ScoringFinding
from evalsurvey.scoring import FindingsError, SchemeError, parse_scheme, scheme_to_json
from evalsurvey.scoring.findings import check_finding
from evalsurvey.scoring.points import UnitResult, score_units
from evalsurvey.scoring.schemes import Node, Scheme

# the statuses in which findings may still change
OPEN_FOR_FINDINGS = (CycleStatus.DRAFT, CycleStatus.OPEN, CycleStatus.CLOSED)


class SchemeInvalid(DomainError):
    """A scheme that does not validate; ``error`` is the scoring package's problem."""

    def __init__(self, error: SchemeError):
        self.error = error
        super().__init__(SCHEME_PROBLEM, None, where=error.where, problem=error.code)

    def text(self, translate=None) -> str:
        return scheme_error_text(self.error, translate)


# Every SchemeError code (scoring.schemes and scoring.workbook) as a sentence; the
# placeholders are the error's own details, fields named in words (SCHEME_FIELDS)
SCHEME_MESSAGES = {
    "missing": N_("缺少“{field}”。"),
    "not_a_number": N_("“{field}”必须是数字（现为 {value}）。"),
    "not_positive": N_("“{field}”必须大于 0（现为 {value}）。"),
    "not_text": N_("“{field}”必须是文字。"),
    "not_an_object": N_("这一项的格式不对。"),
    "not_a_list": N_("“{field}”必须是一组值。"),
    "unknown_rule": N_("没有“{rule}”这种计分规则。"),
    "bad_order": N_("名次顺序只能是从高到低或从低到高。"),
    "no_categories": N_("按次计分至少要有一个类别。"),
    "zero_points": N_("一个类别的分值不能为 0。"),
    "no_tiers": N_("分档规则至少要有一档。"),
    "bad_tier": N_("每一档要写成“下限:得分”。"),
    "duplicate_bound": N_("有两档的下限相同。"),
    "rest_not_last": N_("“其余”一档必须写在最后。"),
    "bad_rank": N_("名次必须是从小到大的整数。"),
    "negative_tier": N_("一档的得分不能为负数（{points}）。"),
    "tier_above_element": N_("一档给 {points} 分，超过了要素的 {element} 分。"),
    "duplicate_code": N_("编码重复。"),
    "too_deep": N_("方案最多 {levels} 级。"),
    "rule_on_indicator": N_("有下级指标的指标不能有自己的计分规则。"),
    "children_sum": N_("下级指标分值合计 {children} 分，与本指标的 {points} 分不符。"),
    "no_rule": N_("考核要素必须有计分规则。"),
    "negative_in_tree": N_("考核要素的类别分值必须为正数（减分项写在减分部分）。"),
    "unknown_method": N_("没有“{method}”这种考核方法。"),
    "no_methods": N_("考核要素至少要有一种考核方法。"),
    "extra_rule": N_("加分和减分项只能按次计分。"),
    "bonus_sign": N_("加分项的分值必须为正数。"),
    "penalty_sign": N_("减分项的分值必须为负数。"),
    "bad_version": N_("版本必须是从 1 开始的整数。"),
    "no_indicators": N_("方案没有任何指标。"),
    "total_sum": N_("一级指标分值合计 {indicators} 分，与总分 {total} 分不符。"),
    "not_a_workbook": N_("这不是一个 .xlsx 工作簿。"),
    "missing_sheet": N_("缺少这个工作表。"),
    "missing_column": N_("表头缺少这一列。"),
    "one_level": N_("名称只能写在一个级别的列中。"),
    "no_parent": N_("上面的行中没有它的上级指标。"),
    "bad_rule_text": N_("读不懂计分规则“{text}”。"),
    "unknown_kind": N_("类别只能是加分、减分或否决（现为“{kind}”）。"),
}
OTHER_SCHEME_PROBLEM = N_("方案内容有误。")
SCHEME_FIELDS = {
    "code": N_("编码"),
    "title": N_("名称"),
    "points": N_("分值"),
    "total": N_("总分"),
    "version": N_("版本"),
    "bonus_cap": N_("加分上限"),
    "indicators": N_("指标"),
    "children": N_("下级指标"),
    "rule": N_("计分规则"),
    "methods": N_("考核方法"),
    "deduct": N_("扣分"),
    "tiers": N_("分档"),
    "cap": N_("上限"),
    "bars": N_("取消资格"),
    "bonus": N_("加分项"),
    "penalties": N_("减分项"),
    "vetoes": N_("否决项"),
    "rater_group": N_("评价群体"),
    "note": N_("说明"),
}


SCHEME_PROBLEM = N_("方案有误（{where}）：{problem}")
WORKBOOK_PLACE = N_("工作表 {sheet} 第 {row} 行 {column} 列")


def scheme_error_text(error: SchemeError, translate=None) -> str:
    """A scheme problem as a sentence: where (the node, or the workbook's sheet, row and
    column) and what, every detail in words; ``translate`` is a gettext."""
    t = translate or (lambda message: message)
    params: dict[str, Any] = defaultdict(str, {
        k: f"{v:g}" if isinstance(v, float) else v for k, v in error.detail.items()
    })  # fmt: skip
    field = str(error.detail.get("field", ""))
    if field in SCHEME_FIELDS:
        params["field"] = t(SCHEME_FIELDS[field])
    problem = t(SCHEME_MESSAGES.get(error.code, OTHER_SCHEME_PROBLEM)).format_map(params)
    where = error.where
    if getattr(error, "sheet", None):
        where = t(WORKBOOK_PLACE).format(
            sheet=error.sheet,
            row=error.row,
            column=error.column,  # type: ignore[attr-defined]
        )
    return t(SCHEME_PROBLEM).format(where=where, problem=problem)


def scheme_of(version: SchemeVersion) -> Scheme:
    """The stored version as the scoring package's typed scheme."""
    return parse_scheme({**version.definition, "version": version.version})


def import_scheme(data: Any) -> SchemeVersion:
    """Store a scheme (JSON form or parsed workbook) as the next draft version of its code."""
    try:
        scheme = data if isinstance(data, Scheme) else parse_scheme(data)
    except SchemeError as exc:
        raise SchemeInvalid(exc) from None
    # the code names every file made from the scheme: one line of plain text (a line break
    # there would break the download's header); the title a column holds
    check_code(scheme.code, "file")
    check_text(scheme.title, "file", 200)
    current = db.session.scalar(
        select(func.max(SchemeVersion.version)).where(SchemeVersion.code == scheme.code)
    )
    definition = scheme_to_json(scheme)
    version = SchemeVersion(
        code=scheme.code,
        version=(current or 0) + 1,
        title=scheme.title,
        definition={**definition, "version": (current or 0) + 1},
    )
    db.session.add(version)
    db.session.flush()
    return version


def freeze_scheme_version(version: SchemeVersion) -> None:
    if version.published:
        raise DomainError("该版本已经发布。")
    version.published_at = utcnow()
    db.session.flush()


def new_scheme_version(version: SchemeVersion) -> SchemeVersion:
    """A draft copy to change (a published version never changes)."""
    return import_scheme(version.definition)


def assign_scheme(cycle: Cycle, unit_type: str, version: SchemeVersion) -> CycleScheme:
    """The cycle scores units of ``unit_type`` by ``version`` (published; before any finding)."""
    if not version.published:
        raise DomainError("方案必须先发布才能使用。", "scheme")
    if cycle.status == CycleStatus.PUBLISHED:
        raise DomainError("已公布的周期不能修改。")
    current = db.session.scalar(
        select(CycleScheme).where(
            CycleScheme.cycle_id == cycle.id, CycleScheme.unit_type == unit_type
        )
    )
    if current is not None:
        recorded = db.session.scalar(
            select(func.count())
            .select_from(Finding)
            .join(Unit, Unit.id == Finding.unit_id)
            .where(Finding.cycle_id == cycle.id, Unit.type == unit_type)
        )
        if recorded and current.scheme_id != version.id:
            raise DomainError("已有考核记录，不能更换方案。", "scheme")
        current.scheme = version
    else:
        current = CycleScheme(cycle=cycle, unit_type=unit_type, scheme=version)
        db.session.add(current)
    db.session.flush()
    return current


def cycle_scheme(cycle: Cycle, unit_type: str) -> SchemeVersion | None:
    return db.session.scalar(
        select(SchemeVersion)
        .join(CycleScheme, CycleScheme.scheme_id == SchemeVersion.id)
        .where(CycleScheme.cycle_id == cycle.id, CycleScheme.unit_type == unit_type)
    )


def record_finding(
    cycle: Cycle,
    unit: Unit,
    element: str,
    value: str,
    note: str,
    actor: str,
    reason: str = "",
) -> Finding:
    """Record (or change) what was found for ``element`` of ``unit``.

    The value must fit the element's rule; a change to an existing finding needs a
    reason; a published cycle never changes. Flushed, not committed.
    """
    _check_open(cycle)
    version, scheme = _scheme_for(cycle, unit)
    found = _stored(cycle, unit, element)
    value, note, reason = _checked_entry(scheme, element, value, note, reason, found)
    return _write_finding(cycle, unit, version, element, value, note, reason, actor, found)


@dataclass(frozen=True)
class FindingEntry:
    """One element's row of a bulk entry (the grid of a unit, a row of a findings
    spreadsheet). ``where`` names the row for the problems (an element code, a sheet and
    row); ``evidence`` is an uploaded file as (name, bytes)."""

    unit: Unit
    element: str
    value: str = ""
    note: str = ""
    reason: str = ""
    evidence: tuple[str, bytes] | None = None
    where: Any = None


@dataclass(frozen=True)
class EntryProblem:
    """Why one row of a bulk entry was refused: its ``where``, the field (value, note,
    reason, element, evidence) and the refusal."""

    where: Any
    field: str | None
    error: DomainError


class FindingsRefused(DomainError):
    """A bulk entry with problems: nothing of it was stored (``problems``, row by row)."""

    def __init__(self, problems: list[EntryProblem]):
        self.problems = problems
        super().__init__(N_("有 {n} 处需要修改，没有保存任何考核记录。"), None, n=len(problems))


def record_findings(
    cycle: Cycle,
    entries: list[FindingEntry],
    actor: str,
    evidence_folder: str | None = None,
    check_only: bool = False,
) -> list[Finding]:
    """Record many findings at once, all or nothing (the grid and the findings spreadsheet).

    Every row is checked first, by the same rules as :func:`record_finding`, and every
    problem is collected; only then is anything written. A row that changes nothing (the
    stored value and note, or nothing typed where nothing is stored) and brings no file is
    left alone, so a page or sheet saved again needs no reasons for what it did not change.
    Raises :class:`FindingsRefused` with every problem (the caller rolls back, which also
    removes the files already stored). Returns the findings written. Flushed, not committed.
    With ``check_only`` nothing is written: the problems are raised, else ``[]`` (a page
    whose form refused some rows says the other rows' problems in the same answer).
    """
    _check_open(cycle)
    schemes: dict[str, tuple[SchemeVersion, Scheme]] = {}
    units = {e.unit.id for e in entries}
    stored = {
        (f.unit_id, f.element): f
        for f in db.session.scalars(
            select(Finding).where(Finding.cycle_id == cycle.id, Finding.unit_id.in_(units))
        )
    }
    problems: list[EntryProblem] = []
    seen: set[tuple[int, str]] = set()
    planned = []
    for entry in entries:
        key = (entry.unit.id, (entry.element or "").strip())
        refused = False
        try:
            if key in seen:
                raise DomainError("要素 {element} 出现了两次。", "element", element=key[1])
            seen.add(key)
            if entry.unit.type not in schemes:
                schemes[entry.unit.type] = _scheme_for(cycle, entry.unit)
            version, scheme = schemes[entry.unit.type]
            found = stored.get(key)
            typed = ((entry.value or "").strip(), (entry.note or "").strip())
            same = typed == ((found.value, found.note) if found is not None else ("", ""))
            if same and entry.evidence is None:
                continue
            value, note, reason = _checked_entry(
                scheme, key[1], entry.value, entry.note, entry.reason, found
            )
        except DomainError as exc:
            problems.append(EntryProblem(entry.where, exc.field, exc))
            refused = True
        ext = None
        if entry.evidence is not None:
            # files are checked with the rows, so one refused file is named with every
            # other problem and nothing is written
            try:
                ext = check_evidence(*entry.evidence)
            except DomainError as exc:
                problems.append(EntryProblem(entry.where, "evidence", exc))
                continue
        if not refused:
            planned.append((entry, version, key[1], value, note, reason, found, same, ext))
    if problems:
        raise FindingsRefused(problems)
    if check_only:
        return []
    written = []
    for entry, version, element, value, note, reason, found, same, ext in planned:
        if not same or found is None:
            found = _write_finding(
                cycle, entry.unit, version, element, value, note, reason, actor, found
            )
        if entry.evidence is not None:
            try:
                store_evidence(evidence_folder or "", found, *entry.evidence, checked=ext)
            except DomainError as exc:
                problems.append(EntryProblem(entry.where, "evidence", exc))
                continue
        written.append(found)
    if problems:
        raise FindingsRefused(problems)
    db.session.flush()
    return written


def _check_open(cycle: Cycle) -> None:
    if cycle.status not in OPEN_FOR_FINDINGS:
        raise DomainError("已公布的周期不能修改考核记录。")


def _scheme_for(cycle: Cycle, unit: Unit) -> tuple[SchemeVersion, Scheme]:
    version = cycle_scheme(cycle, unit.type)
    if version is None:
        raise DomainError("本周期尚未为该类型单位指定考核方案。")
    return version, scheme_of(version)


def _stored(cycle: Cycle, unit: Unit, element: str) -> Finding | None:
    return db.session.scalar(
        select(Finding).where(
            Finding.cycle_id == cycle.id, Finding.unit_id == unit.id, Finding.element == element
        )
    )


def _checked_entry(
    scheme: Scheme, element: str, value: str, note: str, reason: str, found: Finding | None
) -> tuple[str, str, str]:
    """What is stored for one element (value, note, reason, stripped), or the refusal by
    its field: the one place the rules of a finding are written."""
    value = check_text(value, "value", 200)
    note = check_text(note, "note", 2000, multiline=True)
    reason = check_text(reason, "reason", 500)
    try:
        check_finding(scheme, ScoringFinding("", element, value, note, 0))
    except FindingsError as exc:
        message = FINDING_MESSAGES.get(exc.code, N_("取值不符合该要素的计分规则。"))
        params = {k: v for k, v in exc.detail.items() if k != "rule"}
        raise DomainError(message, exc.column, **params) from None
    item = scheme.item(element)
    if isinstance(item, Node) and item.rule is not None and item.rule.type == "survey":
        # its points come from the stored satisfaction analysis, never from a finding
        raise DomainError("该要素的得分来自满意度测评，不能录入。", "value")
    if found is not None and (found.value, found.note) != (value, note) and not reason:
        raise DomainError("修改已有的考核记录必须填写原因。", "reason")
    return value, note, reason


def _write_finding(
    cycle: Cycle,
    unit: Unit,
    version: SchemeVersion,
    element: str,
    value: str,
    note: str,
    reason: str,
    actor: str,
    found: Finding | None,
) -> Finding:
    if found is None:
        found = Finding(cycle=cycle, unit=unit, scheme=version, element=element)
        db.session.add(found)
    found.value, found.note, found.reason = value, note, reason
    found.recorded_by, found.recorded_at = actor, utcnow()
    db.session.flush()
    return found


FINDING_MESSAGES = {
    "unknown_element": N_("方案中没有要素 {element}。"),
    "not_a_count": N_("请填写缺少的项数（0 或正整数）。"),
    "not_a_number": N_("请填写数字。"),
    "unknown_category": N_("未知的类别 {value}。"),
    "out_of_range": N_("超出该要素允许的范围。"),
    "note_required": N_("人工打分必须写明理由。"),
    "veto_value": N_("否决项填 1（发生）或 0（未发生）。"),
}


@dataclass(frozen=True)
class CycleResults:
    """Every unit of one type in a cycle, scored by the cycle's scheme."""

    scheme: Scheme
    version: SchemeVersion
    units: Mapping[str, UnitResult]  # by unit code
    survey_scores: Mapping[tuple[str, str], float | None]  # (unit, rater group) → 0–100


def unit_type_results(cycle: Cycle, unit_type: str) -> CycleResults | None:
    """Score every unit of ``unit_type`` (ranks need them all); None without a scheme.

    Survey elements read the unit's satisfaction score for the rule's rater group from the
    latest stored analysis run of that unit type ("too few responses" leaves the element
    not assessed).
    """
    from evalsurvey.domain.results.analysis import latest_runs

    version = cycle_scheme(cycle, unit_type)
    if version is None:
        return None
    scheme = scheme_of(version)
    units = list(
        db.session.scalars(
            select(Unit).where(Unit.type == unit_type, Unit.active.is_(True)).order_by(Unit.code)
        )
    )
    stored = db.session.scalars(
        select(Finding).where(
            Finding.cycle_id == cycle.id, Finding.unit_id.in_([u.id for u in units])
        )
    )
    by_id = {u.id: u.code for u in units}
    findings = [ScoringFinding(by_id[f.unit_id], f.element, f.value, f.note, 0) for f in stored]
    run = latest_runs(cycle).get(unit_type)
    report_units = {u["unit"]: u for u in (run.result or {}).get("units", [])} if run else {}
    survey_scores: dict[tuple[str, str], float | None] = {}
    for node in scheme.elements():
        if node.rule is None or node.rule.type != "survey":
            continue
        group = node.rule.params["rater_group"]
        for unit in units:
            entry = report_units.get(unit.code, {}).get("groups", {}).get(group)
            score = entry.get("score") if entry else None
            survey_scores[(unit.code, group)] = score
            findings = [f for f in findings if not (f.unit == unit.code and f.element == node.code)]
            findings.append(
                ScoringFinding(unit.code, node.code, "" if score is None else str(score), "", 0)
            )
    results = {r.unit: r for r in score_units(scheme, findings, [u.code for u in units])}
    return CycleResults(scheme, version, results, survey_scores)


def assessment_progress(cycle: Cycle, unit_type: str) -> dict[str, tuple[int, int]] | None:
    """Each active unit's elements assessed and all its elements, by unit code (satisfaction
    elements count once the stored analysis gives them a score, as on the unit's page);
    None when the cycle has no scheme for the type."""
    results = unit_type_results(cycle, unit_type)
    if results is None:
        return None
    total = len(results.scheme.elements())
    return {code: (total - len(r.not_assessed), total) for code, r in results.units.items()}


def elements_in_order(scheme: Scheme) -> list[tuple[Node, int]]:
    """Every node with its level, as the tree reads (for pages)."""
    return [(node, level) for node, level, _parent in scheme.nodes()]


def panel_questionnaire(version: SchemeVersion, per: str = "indicator"):
    """A draft panel scoring sheet from a scheme: one points item per first-level indicator
    (``per="indicator"``) or per element (``per="element"``), worth what the scheme gives it.

    Panels score through invitations with rater codes (never their own unit); their
    scores are corrected for severity by the analysis, which also shows their agreement.
    """
    from evalsurvey.domain.collecting import questionnaires as qdomain

    scheme = scheme_of(version)
    nodes = scheme.indicators if per == "indicator" else tuple(scheme.elements())
    items = [
        {
            "code": "p" + "_".join(node.code.split(".")),
            "text": f"{node.code} {node.title}",
            "type": "points",
            "max_points": node.points,
        }
        for node in nodes
    ]
    data = {
        "code": f"PANEL-{scheme.code}"[:40],
        "title": f"{scheme.title}（专家评分表）",
        "title_en": f"{scheme.title} (panel scoring sheet)",
        "intro": "请按考评标准逐项打分，不为本单位评分。",
        "intro_en": "Score each item by the scheme; never score your own unit.",
        "items": items,
    }
    return qdomain.create_draft(data)
