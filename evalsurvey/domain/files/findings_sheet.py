"""The findings spreadsheet: a cycle's findings for one unit type as the XLSX an office
fills in, and that XLSX read back as rows for
:func:`evalsurvey.domain.assessment.schemes.record_findings`.

One sheet per unit, in the layout of the scheme's 考核细则 (the same columns as the scheme
workbook, :mod:`evalsurvey.scoring.workbook`), so that an inspection team fills a unit's
sheet as it fills the paper form, and sheets can be sent to different teams and copied back:

- row 1: 单位编码 | code | 单位名称 | name; row 2: 考核周期 | cycle code | 考核方案 | scheme
  label (the import checks both: a sheet of another cycle or scheme is refused);
- row 3: 一级指标 | 二级指标 | 三级指标 | 编码 | 分值 | 计分规则 | 取值 | 情况说明 | 修改原因;
- then the tree (a node's title in the column of its level), then the bonus, penalty and
  veto items under a heading row each.

The current value and note of every element are filled in, so a sheet downloaded, partly
changed and uploaded again changes only what was changed (and asks a reason for that only).
Headers are written in the reader's language and read in either; columns are found by their
header, so they may be moved. A first sheet (填写说明) says how to fill it in and is skipped.

Reading goes through the bounded reader (:mod:`evalsurvey.xlsxread`); every problem names
its sheet, row and column, and all of them are reported at once (:class:`SheetPlace`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from evalsurvey.cells import original, xlsx_row
from evalsurvey.domain.assessment.schemes import EntryProblem, FindingEntry, FindingsRefused
from evalsurvey.domain.errors import DomainError
from evalsurvey.i18n import N_, _
from evalsurvey.models import Cycle, Finding, SchemeVersion, Unit
from evalsurvey.scoring.schemes import Node, Scheme
from evalsurvey.xlsxread import open_xlsx

# (field, Chinese header, English header): written in the reader's language, read in either
COLUMNS = (
    ("level1", "一级指标", "Indicator"),
    ("level2", "二级指标", "Level 2"),
    ("level3", "三级指标", "Level 3"),
    ("code", "编码", "Code"),
    ("points", "分值", "Points"),
    ("rule", "计分规则", "Scoring rule"),
    ("value", "取值", "Value"),
    ("note", "情况说明", "Note"),
    ("reason", "修改原因", "Reason for a change"),
)
UNIT_MARK = ("单位编码", "Unit code")
NAME_MARK = ("单位名称", "Unit name")
CYCLE_MARK = ("考核周期", "Cycle")
SCHEME_MARK = ("考核方案", "Scheme")
GUIDE = ("填写说明", "How to fill in")
HEADER_ROW = 3
MAX_ROWS = 2000  # rows of one unit's sheet (a scheme has a few hundred at most)
ENTRY_FIELDS = ("code", "value", "note", "reason")


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


@dataclass(frozen=True)
class SheetPlace:
    """Where a row of the spreadsheet is: its sheet, row and the columns its fields are in
    (field → (letter, header as written)). A problem's field names its column."""

    sheet: str
    row: int
    columns: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    column: str = ""  # a fixed column (a problem outside the entry's fields)

    def column_of(self, name: str | None) -> tuple[str, str]:
        if self.column:
            return self.column, ""
        if name == "element":
            name = "code"
        return self.columns.get(name or "value") or self.columns.get("value") or ("", "")


def _problem(sheet: str, row: int, column: str, message: str, **params: Any) -> EntryProblem:
    return EntryProblem(SheetPlace(sheet, row, column=column), None, DomainError(message, **params))


def sheet_name(unit: Unit, taken: set[str]) -> str:
    """A sheet name for the unit: its code and name, as Excel allows (31 characters, none
    of ``[]:*?/\\``), unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "_", f"{unit.code} {unit.name}")[:31].strip() or unit.code
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


# -- writing ------------------------------------------------------------------------------------

BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="F0F0F3")
INDICATOR_FILL = PatternFill("solid", fgColor="FBF3E4")
WIDTHS = (14, 18, 30, 8, 6, 40, 16, 40, 24)


def write_findings_sheet(
    cycle: Cycle,
    unit_type_name: str,
    version: SchemeVersion,
    scheme: Scheme,
    units: Iterable[Unit],
    findings: Iterable[Finding],
    describe: Callable[[Any], str],
    lang: str = "zh",
) -> bytes:
    """The workbook for ``units`` (one type), pre-filled with their ``findings``.

    ``describe`` gives an element's, bonus's, penalty's or veto's rule in words, as plain
    text in the reader's language (the pages' wording).
    """
    units = list(units)
    stored = {(f.unit_id, f.element): f for f in findings}
    wb = Workbook()
    guide = wb.active
    guide.title = _pick(GUIDE, lang)
    lines = [
        _("考核记录填写表"),
        _("考核周期：{name}（{code}）", name=cycle.name, code=cycle.code),
        _("单位类型：{type}", type=unit_type_name),
        _("考核方案：{label} {title}", label=version.label, title=scheme.title),
        "",
        _("每个单位一张工作表，按考核细则逐项填写“取值”和“情况说明”。"),
        _("取值按“计分规则”一列填写：缺少的项数、实测数值或人工打分（须写情况说明）。"),
        _("按次计分的填“类别:次数”，多个用分号隔开；否决项发生填 1，未发生填 0。"),
        _("已有的考核记录已经填好；修改已有记录须在“修改原因”一列写明原因。"),
        _("取值留空的要素视为未考核；满意度要素由问卷测评自动计算，不用填写。"),
        _("请不要改动第 1、2 行、表头和“编码”一列；列的顺序和宽度可以调整。"),
        _("填好后在考核记录页面上传：有错误时整份表格都不导入，并列出每处错误的工作表、行和列。"),
    ]  # fmt: skip
    for n, line in enumerate(lines):
        guide.append(xlsx_row(guide, [line], font=BOLD if n == 0 else None))
    guide.column_dimensions["A"].width = 120
    taken = {guide.title.lower()}
    for unit in units:
        ws = wb.create_sheet(sheet_name(unit, taken))
        ws.append(
            xlsx_row(ws, [_pick(UNIT_MARK, lang), unit.code, _pick(NAME_MARK, lang), unit.name])
        )
        ws.append(
            xlsx_row(
                ws, [_pick(CYCLE_MARK, lang), cycle.code, _pick(SCHEME_MARK, lang), version.label]
            )
        )
        head = xlsx_row(ws, [(en if lang == "en" else zh) for _f, zh, en in COLUMNS], font=BOLD)
        for cell in head:
            cell.fill = HEAD_FILL
        ws.append(head)
        for node, level, _parent in scheme.nodes():
            titles: list[Any] = [None, None, None]
            titles[min(level, 3) - 1] = node.title
            if node.children:
                row = xlsx_row(ws, [*titles, node.code, node.points], font=BOLD)
                for cell in row:
                    cell.fill = INDICATOR_FILL
                ws.append(row)
                continue
            found = stored.get((unit.id, node.code))
            rule = describe(node)
            if node.rule is not None and node.rule.type == "survey":
                rule = rule + _("（由满意度测评自动计算，不用填写）")
                found = None
            ws.append(
                xlsx_row(
                    ws,
                    [
                        *titles,
                        node.code,
                        node.points,
                        rule,
                        found.value if found else None,
                        found.note if found else None,
                        None,
                    ],
                )  # fmt: skip
            )
        sections = (
            (_("加分项"), scheme.bonus),
            (_("减分项"), scheme.penalties),
            (_("否决项"), scheme.vetoes),
        )
        for heading, items in sections:
            if not items:
                continue
            ws.append(xlsx_row(ws, [heading], font=BOLD))
            for item in items:
                found = stored.get((unit.id, item.code))
                ws.append(
                    xlsx_row(
                        ws,
                        [
                            None,
                            item.title,
                            None,
                            item.code,
                            None,
                            describe(item),
                            found.value if found else None,
                            found.note if found else None,
                            None,
                        ],
                    )  # fmt: skip
                )
        for i, width in enumerate(WIDTHS, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        wrap = Alignment(wrap_text=True, vertical="top")
        for row in ws.iter_rows(min_row=HEADER_ROW + 1):
            for cell in row:
                cell.alignment = wrap
        ws.freeze_panes = f"A{HEADER_ROW + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as the text a finding holds: numbers as people write them (3, not 3.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return original(str(value)).strip()


def read_findings_sheet(
    data: bytes,
    cycle: Cycle,
    version: SchemeVersion,
    scheme: Scheme,
    units: Mapping[str, Unit],
) -> list[FindingEntry]:
    """Every filled row of the workbook as a :class:`FindingEntry` (``where`` a
    :class:`SheetPlace`), for the units in ``units`` (by code: the type's units the reader
    may record for). Raises :class:`FindingsRefused` with every problem found in the file,
    or a :class:`DomainError` for the ``file`` field for a file the bounded reader refuses.
    """
    book = open_xlsx(data)
    problems: list[EntryProblem] = []
    entries: list[FindingEntry] = []
    sheets_of: dict[str, str] = {}  # unit code → sheet
    try:
        for name in book.sheetnames:
            if name in GUIDE:
                continue
            rows = book.rows(name)
            try:
                _read_unit(name, rows, cycle, version, scheme, units, sheets_of, entries, problems)
            finally:
                rows.close()
    finally:
        book.close()
    if not sheets_of and not problems:
        problems.append(_problem("–", 0, "", N_("文件中没有单位的考核表。")))
    if problems:
        raise FindingsRefused(problems)
    return entries


def _read_unit(name, rows, cycle, version, scheme, units, sheets_of, entries, problems) -> None:
    first = next(rows, None)
    cells = [cell_text(v) for v in first[1]] if first and first[0] == 1 else []
    cells += [""] * 4
    if cells[0] not in UNIT_MARK:
        problems.append(
            _problem(name, 1, "A", N_("这张工作表不是单位考核表（A1 应为“单位编码”）。"))
        )
        return
    code = cells[1]
    unit = units.get(code)
    if unit is None:
        problems.append(_problem(name, 1, "B", N_("没有可录入的单位 {code}。"), code=code))
        return
    if code in sheets_of:
        problems.append(
            _problem(
                name,
                1,
                "B",
                N_("单位 {code} 已在工作表 {sheet} 中。"),
                code=code,
                sheet=sheets_of[code],
            )  # fmt: skip
        )
        return
    sheets_of[code] = name
    second = next(rows, None)
    cells = [cell_text(v) for v in second[1]] if second and second[0] == 2 else []
    cells += [""] * 4
    if cells[1] != cycle.code:
        problems.append(
            _problem(
                name,
                2,
                "B",
                N_("这张表属于考核周期 {other}，不是 {cycle}。"),
                other=cells[1] or "–",
                cycle=cycle.code,
            )  # fmt: skip
        )
        return
    if cells[3] != version.label:
        problems.append(
            _problem(
                name,
                2,
                "D",
                N_("这张表按考核方案 {other} 生成，本周期用的是 {label}，请重新下载。"),
                other=cells[3] or "–",
                label=version.label,
            )  # fmt: skip
        )
        return
    head = next(rows, None)
    if head is None or head[0] != HEADER_ROW:
        problems.append(_problem(name, HEADER_ROW, "A", N_("第 3 行应为表头。")))
        return
    headers = [cell_text(v) for v in head[1]]
    columns: dict[str, tuple[int, str, str]] = {}
    for key, zh, en in COLUMNS:
        for i, text in enumerate(headers):
            if text in (zh, en) and key not in columns:
                columns[key] = (i, get_column_letter(i + 1), text)
    for key in ("code", "value"):
        if key not in columns:
            zh, en = next((z, e) for k, z, e in COLUMNS if k == key)
            problems.append(
                _problem(name, HEADER_ROW, "", N_("缺少“{column}”一列。"), column=f"{zh} / {en}")
            )
    if "code" not in columns or "value" not in columns:
        return
    letters = {k: (letter, text) for k, (_i, letter, text) in columns.items()}
    for row_no, values in rows:
        if row_no > MAX_ROWS:
            problems.append(_problem(name, row_no, "", N_("一张表最多 {n} 行。"), n=MAX_ROWS))
            return
        texts = {
            k: cell_text(values[i]) if i < len(values) else "" for k, (i, _l, _t) in columns.items()
        }
        element = texts["code"]
        typed = texts["value"] or texts.get("note") or texts.get("reason")
        item = scheme.item(element) if element else None
        if not element or (isinstance(item, Node) and item.children):
            if typed:  # a value beside a heading or an indicator goes nowhere: say so
                problems.append(
                    EntryProblem(
                        SheetPlace(name, row_no, letters),
                        "value",
                        DomainError(N_("这一行不是考核要素，不能填写取值；请填在要素所在的行。")),
                    )
                )
            continue
        entries.append(
            FindingEntry(
                unit,
                element,
                texts["value"],
                texts.get("note", ""),
                texts.get("reason", ""),
                where=SheetPlace(name, row_no, letters),
            )
        )
