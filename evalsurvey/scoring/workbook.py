"""A scheme as the Excel workbook offices write their 考核细则 in (the same content as the JSON).

Three sheets, Chinese headers:

- 方案: one row per setting (编码, 版本, 名称, 总分, 加分上限, 说明), value in column B;
- 考核细则: one row per node: its title in the column of its level (一级指标, 二级指标,
  三级指标), then 编码, 分值, 考核方法 (查阅资料、听取汇报、随机访谈、问卷调查、实地查看,
  separated by 、), 计分规则 and 说明. Indicators leave 计分规则 empty;
- 加减分: one row per bonus, penalty or veto item: 类别 (加分/减分/否决), 编码, 名称, 计分规则
  (or 扣分 for a veto), 取消资格, 说明.

计分规则 is written in words an office reads and types (a category by its name where
:mod:`evalsurvey.scoring.categories` has one, else its code)::

    每缺一项扣 0.5 分
    分档：0 以上 10 分，80 以上 15 分，90 以上 20 分，100 以上 25 分
    按名次（从高到低）：前 5 名 10 分，前 10 名 8 分，前 15 名 5 分，其余 3 分
    按次计分：市级 +1，省级 +4，中央级 +6；合计不超过 5 分
    满意度测评：citizen，问卷 CITIZEN-WINDOW
    人工打分

and 取消资格 names grades in words (五星、四星; 优秀、先进). The compact form of earlier
workbooks (``checklist 0.5``, ``tiers 0:10 80:15``, ``rank_tiers desc 5:10 *:3``,
``per_occurrence city:1 cap:5``, ``survey citizen CITIZEN-WINDOW``, ``manual``; grades by
code) is still read.

JSON → workbook → JSON is lossless. Every error names the sheet, row and column. A title or
note that begins like a formula (``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is
written as text with a leading ``'`` (:mod:`evalsurvey.cells`), which reading takes off again.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any, BinaryIO

from openpyxl import Workbook

from evalsurvey.cells import original, xlsx_row
from evalsurvey.scoring.categories import NAMES as CATEGORY_NAMES
from evalsurvey.scoring.categories import category_name
from evalsurvey.scoring.schemes import Rule, Scheme, SchemeError, parse_scheme, scheme_to_json
from evalsurvey.xlsxread import DEFAULT_LIMITS, Unreadable, XlsxBook, open_xlsx

METHOD_NAMES = {
    "document": "查阅资料",
    "report": "听取汇报",
    "interview": "随机访谈",
    "survey": "问卷调查",
    "visit": "实地查看",
}
METHOD_CODES = {v: k for k, v in METHOD_NAMES.items()}
SETTINGS = [("code", "编码"), ("version", "版本"), ("title", "名称"), ("total", "总分"),
            ("bonus_cap", "加分上限"), ("note", "说明")]  # fmt: skip
TREE = "考核细则"
TREE_HEAD = ["一级指标", "二级指标", "三级指标", "编码", "分值", "考核方法", "计分规则", "说明"]
EXTRAS = "加减分"
EXTRA_HEAD = ["类别", "编码", "名称", "计分规则", "扣分", "取消资格", "说明"]
KINDS = {"bonus": "加分", "penalties": "减分", "vetoes": "否决"}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def rule_text(rule: Rule) -> str:
    """A rule in the workbook's words (see the module docstring)."""
    p = rule.params
    if rule.type == "checklist":
        return f"每缺一项扣 {_num(p['deduct'])} 分"
    if rule.type == "tiers":
        return "分档：" + "，".join(f"{_num(b)} 以上 {_num(v)} 分" for b, v in p["tiers"])
    if rule.type == "rank_tiers":
        tiers = "，".join(f"其余 {_num(v)} 分" if r is None else f"前 {r} 名 {_num(v)} 分"
                         for r, v in p["tiers"])  # fmt: skip
        return f"按名次（{ORDER_WORDS[p['order']]}）：{tiers}"
    if rule.type == "per_occurrence":
        parts = "，".join(f"{category_name(c)} {_signed(v)}" for c, v in p["points"].items())
        cap = f"；合计不超过 {_num(p['cap'])} 分" if p.get("cap") is not None else ""
        return f"按次计分：{parts}{cap}"
    if rule.type == "survey":
        questionnaire = f"，问卷 {p['questionnaire']}" if p.get("questionnaire") else ""
        return f"满意度测评：{p['rater_group']}{questionnaire}"
    return "人工打分"


ORDER_WORDS = {"desc": "从高到低", "asc": "从低到高"}
ORDER_CODES = {v: k for k, v in ORDER_WORDS.items()}
NUMBER = r"-?\d+(?:\.\d+)?"
WORDED = {
    "checklist": re.compile(rf"每缺一项扣\s*({NUMBER})\s*分"),
    "tiers": re.compile(r"分档[:：]\s*(.+)"),
    "rank_tiers": re.compile(r"按名次[（(]\s*(从高到低|从低到高)\s*[）)][:：]\s*(.+)"),
    "per_occurrence": re.compile(
        r"按次计分[:：]\s*(.+?)(?:[；;]\s*合计不超过\s*(" + NUMBER + r")\s*分)?"
    ),
    "survey": re.compile(r"满意度测评[:：]\s*([^，,\s]+)(?:\s*[，,]\s*问卷\s*(\S+))?"),
}
TIER = re.compile(rf"({NUMBER})\s*以上\s*({NUMBER})\s*分")
RANK = re.compile(rf"(?:前\s*(\d+)\s*名|(其余))\s*({NUMBER})\s*分")
CATEGORY = re.compile(rf"(.+?)\s*([+-]{NUMBER.lstrip('-')})")


def _signed(x: float) -> str:
    return ("+" if x >= 0 else "-") + _num(abs(x))


def _parts(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[，,、]", text) if p.strip()]


def _worded_rule(text: str) -> dict[str, Any] | None:
    """The JSON form of a rule in the workbook's words, or None when it is not one."""
    if text == "人工打分":
        return {"type": "manual"}
    for kind, pattern in WORDED.items():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        if kind == "checklist":
            return {"type": kind, "deduct": _number(found.group(1))}
        if kind == "tiers":
            tiers = [TIER.fullmatch(p) for p in _parts(found.group(1))]
            if tiers and all(tiers):
                bounds = [[_number(t.group(1)), _number(t.group(2))] for t in tiers]
                return {"type": kind, "tiers": bounds}
        if kind == "rank_tiers":
            ranks = [RANK.fullmatch(p) for p in _parts(found.group(2))]
            if ranks and all(ranks):
                return {"type": kind, "order": ORDER_CODES[found.group(1)],
                        "tiers": [[None if r.group(2) else int(r.group(1)), _number(r.group(3))]
                                  for r in ranks]}  # fmt: skip
        if kind == "per_occurrence":
            pairs = [CATEGORY.fullmatch(p) for p in _parts(found.group(1))]
            if pairs and all(pairs):
                cap = found.group(2)
                return {"type": kind,
                        "points": {_category(m.group(1)): _number(m.group(2)) for m in pairs},
                        "cap": _number(cap) if cap is not None else None}  # fmt: skip
        if kind == "survey":
            return {"type": kind, "rater_group": found.group(1),
                    "questionnaire": found.group(2) or ""}  # fmt: skip
    return None


def _category(word: str) -> str:
    """A category's code from its Chinese name (a word no name is taken as the code)."""
    word = word.strip()
    return next((code for code, (zh, _en) in CATEGORY_NAMES.items() if zh == word), word)


# Grades a veto bars, in words: stars, and the grade codes the shipped rules use
GRADE_WORDS = {f"star{n}": f"{'一二三四五'[n - 1]}星" for n in range(1, 6)} | {
    "excellent": "优秀",
    "advanced": "先进",
    "good": "良好",
    "meets": "达标",
    "below": "不达标",
}
GRADE_CODES = {v: k for k, v in GRADE_WORDS.items()}


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() else value


def parse_rule_text(text: str) -> dict[str, Any]:
    """The JSON form of a rule written in words or in the compact form of earlier
    workbooks; ``ValueError`` when it cannot be read."""
    worded = _worded_rule(" ".join(text.split()))
    if worded is not None:
        return worded
    words = text.split()
    if not words:
        raise ValueError("empty")
    kind, rest = words[0], words[1:]
    pairs = [w.split(":", 1) for w in rest]
    if kind == "checklist" and len(rest) == 1:
        return {"type": kind, "deduct": _number(rest[0])}
    if kind == "tiers" and rest and all(len(p) == 2 for p in pairs):
        return {"type": kind, "tiers": [[_number(a), _number(b)] for a, b in pairs]}
    if kind == "rank_tiers" and rest and rest[0] in ("asc", "desc"):
        tiers = [w.split(":", 1) for w in rest[1:]]
        if tiers and all(len(t) == 2 for t in tiers):
            return {
                "type": kind,
                "order": rest[0],
                "tiers": [[None if a == "*" else int(a), _number(b)] for a, b in tiers],
            }
    if kind == "per_occurrence" and rest and all(len(p) == 2 for p in pairs):
        points = {a: _number(b) for a, b in pairs if a != "cap"}
        caps = [_number(b) for a, b in pairs if a == "cap"]
        return {"type": kind, "points": points, "cap": caps[0] if caps else None}
    if kind == "survey" and 1 <= len(rest) <= 2:
        return {"type": kind, "rater_group": rest[0], "questionnaire": rest[1] if rest[1:] else ""}
    if kind == "manual" and not rest:
        return {"type": kind}
    raise ValueError(text)


# -- writing ------------------------------------------------------------------------------------


def write_workbook(scheme: Scheme) -> bytes:
    """The scheme as an .xlsx file."""
    data = scheme_to_json(scheme)
    wb = Workbook()
    ws = wb.active
    ws.title = "方案"
    for key, label in SETTINGS:
        ws.append(xlsx_row(ws, [label, data.get(key)]))
    tree = wb.create_sheet(TREE)
    tree.append(xlsx_row(tree, TREE_HEAD))

    def add(node: Mapping, level: int) -> None:
        titles: list[Any] = [None, None, None]
        titles[level - 1] = node["title"]
        methods = "、".join(METHOD_NAMES[m] for m in node.get("methods", []))
        rule = rule_text(_rule(node["rule"])) if "rule" in node else None
        tree.append(
            xlsx_row(
                tree,
                [*titles, node["code"], node["points"], methods or None, rule, node.get("note")],
            )
        )
        for child in node.get("children", []):
            add(child, level + 1)

    for top in data["indicators"]:
        add(top, 1)
    extras = wb.create_sheet(EXTRAS)
    extras.append(xlsx_row(extras, EXTRA_HEAD))
    for key, kind in KINDS.items():
        for item in data[key]:
            if key == "vetoes":
                bars = "、".join(GRADE_WORDS.get(g, g) for g in item["bars"]) or None
                row = [kind, item["code"], item["title"], None, item["deduct"], bars,
                       item.get("note")]  # fmt: skip
            else:
                rule = rule_text(_rule(item["rule"]))
                row = [kind, item["code"], item["title"], rule, None, None,
                       item.get("note")]  # fmt: skip
            extras.append(xlsx_row(extras, row))
    for sheet, widths in (
        (tree, [14, 18, 40, 8, 6, 18, 34, 50]),
        (extras, [6, 6, 40, 40, 6, 18, 50]),
    ):
        for i, width in enumerate(widths):
            sheet.column_dimensions[chr(ord("A") + i)].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rule(data: Mapping) -> Rule:
    return Rule(data["type"], {k: v for k, v in data.items() if k != "type"})


# -- reading ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return original(str(value)).strip()


def _fail(code: str, sheet: str, row: int, column: str, **detail: Any) -> SchemeError:
    error = SchemeError(code, f"{sheet}!{row}", **detail)
    error.sheet, error.row, error.column = sheet, row, column  # type: ignore[attr-defined]
    return error


def read_workbook(source: bytes | BinaryIO) -> Scheme:
    """Read a scheme workbook. Raises :class:`SchemeError` with ``sheet``, ``row`` and
    ``column`` set (also for a rule problem found later, by the node's row), and
    :class:`~evalsurvey.domain.errors.DomainError` for a file past the bounded reader's
    limits (:mod:`evalsurvey.xlsxread`), which reads it."""
    if not isinstance(source, bytes):
        source = source.read(DEFAULT_LIMITS.file_bytes + 1)
    try:
        wb = open_xlsx(source)
        try:
            return _read_book(wb)
        finally:
            wb.close()
    except Unreadable:
        raise _fail("not_a_workbook", "-", 0, "-", reason="Unreadable") from None


def _read_book(wb: XlsxBook) -> Scheme:
    for name in ("方案", TREE, EXTRAS):
        if name not in wb.sheetnames:
            raise _fail("missing_sheet", name, 0, "-")
    settings = {_cell(r[0]): r[1] for _n, r in wb.rows("方案") if r and r[0]}
    data: dict[str, Any] = {}
    for key, label in SETTINGS:
        value = settings.get(label)
        if isinstance(value, str):
            value = original(value)
        if value is not None and value != "":
            data[key] = value
    rows_of: dict[str, tuple[str, int]] = {}
    data["indicators"] = _read_tree(wb, rows_of)
    for key in KINDS:
        data[key] = []
    _read_extras(wb, data, rows_of)
    try:
        return parse_scheme(data)
    except SchemeError as exc:
        sheet, row = rows_of.get(exc.where, ("方案", 0))
        column = _column_of(exc, sheet)
        raise _fail(exc.code, sheet, row, column, node=exc.where, **exc.detail) from None


def _column_of(error: SchemeError, sheet: str) -> str:
    """The column a scheme problem found after reading belongs to."""
    field = str(error.detail.get("field", ""))
    if sheet == "方案":
        return "B"
    if error.code in ("children_sum", "total_sum") or field == "points":
        return "分值"
    if error.code in ("unknown_method", "no_methods"):
        return "考核方法"
    if field in ("title", "code"):
        return {"title": "名称", "code": "编码"}[field]
    if sheet == EXTRAS and field == "deduct" and error.code != "not_positive":
        return "扣分"
    return "计分规则"


def _header(wb: XlsxBook, sheet: str, expected: list[str]):
    """The sheet's rows after the header, and the header's columns by name."""
    rows = wb.rows(sheet)
    first = next(rows, None)
    head = [_cell(c) for c in first[1]] if first and first[0] == 1 else []
    for col in expected:
        if col not in head:
            raise _fail("missing_column", sheet, 1, col)
    return rows, {name: head.index(name) for name in expected}


def _read_tree(wb: XlsxBook, rows_of: dict[str, tuple[str, int]]) -> list[dict]:
    rows, col = _header(wb, TREE, TREE_HEAD)
    top: list[dict] = []
    stack: list[dict] = []  # the current node of each level
    for row_no, row in rows:
        cells = [_cell(v) for v in row] + [""] * len(TREE_HEAD)
        if not any(cells):
            continue
        levels = [i for i in range(3) if cells[col[TREE_HEAD[i]]]]
        if len(levels) != 1:
            raise _fail("one_level", TREE, row_no, "一级指标")
        level = levels[0] + 1
        if level > len(stack) + 1:
            raise _fail("no_parent", TREE, row_no, TREE_HEAD[level - 1])
        code = cells[col["编码"]]
        node: dict[str, Any] = {"code": code, "title": cells[col[TREE_HEAD[level - 1]]]}
        points = row[col["分值"]] if col["分值"] < len(row) else None
        if isinstance(points, str):
            try:
                points = _number(points)
            except ValueError:
                raise _fail("not_a_number", TREE, row_no, "分值", value=points) from None
        node["points"] = points
        methods = [m for m in cells[col["考核方法"]].replace(",", "、").split("、") if m.strip()]
        unknown = [m for m in methods if m.strip() not in METHOD_CODES]
        if unknown:
            raise _fail("unknown_method", TREE, row_no, "考核方法", method=unknown[0])
        if methods:
            node["methods"] = [METHOD_CODES[m.strip()] for m in methods]
        if cells[col["计分规则"]]:
            try:
                node["rule"] = parse_rule_text(cells[col["计分规则"]])
            except ValueError:
                raise _fail(
                    "bad_rule_text", TREE, row_no, "计分规则", text=cells[col["计分规则"]]
                ) from None
        if cells[col["说明"]]:
            node["note"] = cells[col["说明"]]
        rows_of.setdefault(code, (TREE, row_no))
        del stack[level - 1 :]
        if level == 1:
            top.append(node)
        else:
            stack[-1].setdefault("children", []).append(node)
        stack.append(node)
    return top


def _read_extras(wb: XlsxBook, data: dict, rows_of: dict[str, tuple[str, int]]) -> None:
    rows, col = _header(wb, EXTRAS, EXTRA_HEAD)
    kinds = {v: k for k, v in KINDS.items()}
    for row_no, row in rows:
        cells = [_cell(v) for v in row] + [""] * len(EXTRA_HEAD)
        if not any(cells):
            continue
        kind = kinds.get(cells[col["类别"]])
        if kind is None:
            raise _fail("unknown_kind", EXTRAS, row_no, "类别", kind=cells[col["类别"]])
        item: dict[str, Any] = {"code": cells[col["编码"]], "title": cells[col["名称"]]}
        if kind == "vetoes":
            try:
                item["deduct"] = _number(cells[col["扣分"]] or "0")
            except ValueError:
                raise _fail("not_a_number", EXTRAS, row_no, "扣分") from None
            bars = cells[col["取消资格"]]
            item["bars"] = [GRADE_CODES.get(b.strip(), b.strip())
                            for b in bars.replace(",", "、").replace("，", "、").split("、")
                            if b.strip()]  # fmt: skip
        else:
            try:
                item["rule"] = parse_rule_text(cells[col["计分规则"]])
            except ValueError:
                raise _fail(
                    "bad_rule_text", EXTRAS, row_no, "计分规则", text=cells[col["计分规则"]]
                ) from None
        if cells[col["说明"]]:
            item["note"] = cells[col["说明"]]
        rows_of.setdefault(item["code"], (EXTRAS, row_no))
        data[kind].append(item)
