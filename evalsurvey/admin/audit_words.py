"""The audit log in words: each row as a sentence naming what was done to what (units, cycles,
questionnaires, schemes by their names), then each recorded change with its field's label and
its values as people read them (statuses by label, times in the display zone, yes/no, names
instead of ids, documents summarised). Nothing here writes; the log itself stays as recorded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, current_lang, datetime_local, label, pick, sep
from evalsurvey.models import (
    AnalysisRun,
    AuditLog,
    Cycle,
    CycleScheme,
    GradeSetting,
    Item,
    Link,
    Publication,
    Questionnaire,
    RaterGroup,
    Response,
    SchemeVersion,
    StaffUser,
    Unit,
)
from evalsurvey.scoring.categories import value_words as category_values
from evalsurvey.scoring.grading import GradingError, parse_rules
from evalsurvey.scoring.schemes import SchemeError, parse_scheme

# What each recorded column is called. (entity, column) wins over the column alone: an
# item's "text" is its question, an objection's "text" what the objection says.
FIELDS: dict[str | tuple[str, str], str] = {
    "code": N_("编码"),
    "name": N_("名称"),
    "name_en": N_("英文名称"),
    "title": N_("标题"),
    "title_en": N_("英文标题"),
    "intro": N_("说明"),
    "intro_en": N_("英文说明"),
    "type": N_("类型"),
    "status": N_("状态"),
    "active": N_("启用"),
    "parent_id": N_("上级单位"),
    "unit_id": N_("所属单位"),
    "cycle_id": N_("所属周期"),
    "questionnaire_id": N_("所用问卷"),
    "rater_group_id": N_("所属评价群体"),
    "scheme_id": N_("所用考核方案"),
    "unit_type": N_("单位类型"),
    "role": N_("角色"),
    "username": N_("用户名"),
    "password_hash": N_("密码"),
    "session_token": N_("登录凭据"),
    "period": N_("周期类型"),
    "opens_at": N_("开始时间"),
    "closes_at": N_("截止时间"),
    "closed_at": N_("关闭时间"),
    "published_at": N_("发布时间"),
    "group_min_n": N_("各评价群体最少答卷数"),
    "mode": N_("方式"),
    "record_rater": N_("记录评委代号"),
    "internal": N_("内部评价"),
    "visible_to_unit": N_("单位可查看"),
    "reviewed": N_("已人工复核"),
    "reason": N_("原因说明"),
    "version": N_("版本"),
    "position": N_("序号"),
    "text": N_("题目"),
    "text_en": N_("英文题目"),
    "required": N_("必答"),
    "max_points": N_("满分"),
    "options": N_("选项"),
    "definition": N_("方案内容"),
    "element": N_("考核要素"),
    "value": N_("取值"),
    "note": N_("情况说明"),
    "evidence": N_("佐证材料"),
    "recorded_by": N_("记录人"),
    "recorded_at": N_("记录时间"),
    "weights": N_("权重"),
    "missing": N_("缺项处理"),
    "split": N_("满意度在内部、外部评价之间的分配"),
    "rules": N_("等级规则"),
    "run_id": N_("依据的综合结果"),
    "rows": N_("公示的单位"),
    "reports": N_("反馈报告"),
    "result": N_("公示的结果"),
    "override_reason": N_("未解决问题仍发布的理由"),
    "overridden": N_("发布时未解决的问题"),
    "published_by": N_("发布人"),
    "objections_until": N_("异议截止时间"),
    "publication_id": N_("所涉结果公示"),
    "unit_code": N_("所涉单位"),
    ("Objection", "text"): N_("异议的内容"),
    ("Link", "code"): N_("链接编码"),
    ("Link", "unit_id"): N_("被评价单位"),
    ("Objection", "name"): N_("提出人"),
    "contact": N_("联系方式"),
    "submitted_at": N_("提交时间"),
    "answer": N_("答复"),
    "answered_by": N_("答复人"),
    "answered_at": N_("答复时间"),
    "source": N_("来源"),
    "reference": N_("来源记录"),
    "detail": N_("详细情况"),
    "owner": N_("责任人"),
    "due_on": N_("整改期限"),
    "visit_due_on": N_("回访期限"),
    ("RectificationItem", "note"): N_("整改情况"),
    "created_at": N_("创建时间"),
    "closed_by": N_("销号人"),
    ("RectificationItem", "closed_at"): N_("销号时间"),
    "item": N_("加减分项"),
    ("Adjustment", "reason"): N_("理由"),
    "submitted_by": N_("提出人"),
    "decided_by": N_("审批人"),
    "decision": N_("审批意见"),
    "decided_at": N_("审批时间"),
    "body_id": N_("申报单位"),
    "score": N_("申报得分"),
    "grade": N_("申报等级"),
    ("GradeProposal", "note"): N_("申报说明"),
    "proposed_by": N_("申报人"),
    "proposed_at": N_("申报时间"),
    "reviewed_score": N_("复核得分"),
    "review_note": N_("复核意见"),
    "reviewed_by": N_("复核人"),
    "reviewed_at": N_("复核时间"),
    "computed_score": N_("申报时的计算得分"),
    "computed_run_id": N_("申报时依据的综合结果"),
    "reviewed_computed": N_("复核时的计算得分"),
    "reviewed_run_id": N_("复核时依据的综合结果"),
    "always": N_("全部复核的等级"),
    "rate": N_("其余单位的抽查比例"),
    "seed": N_("随机种子"),
    "units": N_("抽中的单位"),
    "drawn_by": N_("抽取人"),
    "drawn_at": N_("抽取时间"),
    "user_id": N_("所属用户"),
    "scope": N_("权限范围"),
    "prefix": N_("前缀"),
    "secret_hash": N_("密钥"),
    "created_by": N_("创建人"),
    "last_used_at": N_("最近使用时间"),
    "revoked_at": N_("作废时间"),
    "method": N_("请求方式"),
    "path": N_("访问地址"),
    ("ApiToken", "status"): N_("响应状态码"),
}
# columns whose value is a code with labels (i18n.LABELS kinds)
CODED = {
    ("Cycle", "status"): "cycle_status",
    ("Response", "status"): "response_status",
    ("Unit", "type"): "unit_type",
    ("Item", "type"): "item_type",
    ("StaffUser", "role"): "role",
    ("Link", "mode"): "link_mode",
    ("Cycle", "period"): "period",
    ("RectificationItem", "status"): "ledger_status",
    ("RectificationItem", "source"): "ledger_source",
    ("Adjustment", "status"): "adjustment_status",
    ("CompositeSetting", "missing"): "missing_policy",
}
UNIT_FIELDS = {"unit_id", "parent_id", "body_id"}
RUN_FIELDS = {"run_id", "computed_run_id", "reviewed_run_id"}
TIME_FIELDS = {
    "opens_at", "closes_at", "closed_at", "published_at", "recorded_at", "objections_until",
    "submitted_at", "answered_at", "created_at", "decided_at", "proposed_at", "reviewed_at",
    "drawn_at", "last_used_at", "revoked_at",
}  # fmt: skip
DATE_FIELDS = {"due_on", "visit_due_on"}
SECRET = {"password_hash", "session_token", "secret_hash"}
# never listed: the row's own id, and what the row's time and actor already say
QUIET = {"id"}
# an actor that is no staff account
ACTORS = {
    "system": N_("系统（命令行）"),
    "anonymous": N_("未登录的访问者"),
    # the commands that name themselves (cli: audit.set_cli_actor)
    "demo": N_("演示数据（命令行）"),
    "import-responses": N_("导入答卷（命令行）"),
    "create-admin": N_("创建管理员（命令行）"),
    "api-token": N_("接口令牌（命令行）"),
}
# the sentence of each action; {what} is the object in words
ACTIONS = {
    "create": N_("新建{what}"),
    "update": N_("修改{what}"),
    "delete": N_("删除{what}"),
    "review": N_("人工复核{what}"),
    "reopen": N_("重新开放{what}"),
    "paper": N_("为{what}录入纸质问卷"),
    "drop": N_("{what}不予立项"),
    "override": N_("在有未解决问题时发布{what}"),
    "use": N_("使用{what}"),
}
LONG = 200  # longer texts are cut here (the record keeps them whole)


@dataclass
class Entry:
    """One audit row as the page shows it."""

    row: AuditLog
    actor: str
    sentence: str
    changes: list[str] = field(default_factory=list)


class Names:
    """Names of what the log's ids point at, read for a whole page at once."""

    MODELS = {
        "unit": Unit,
        "cycle": Cycle,
        "questionnaire": Questionnaire,
        "group": RaterGroup,
        "scheme": SchemeVersion,
        "run": AnalysisRun,
        "publication": Publication,
        "staff": StaffUser,
    }

    def __init__(self, rows: Iterable[AuditLog]):
        rows = list(rows)
        wanted: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            for key, model in _OWN.items():
                if row.entity == model.__name__:
                    wanted[key].add(row.entity_id)
            for column, (old, new) in (row.changes or {}).items():
                kind = _ID_KIND.get(column)
                for v in (old, new):
                    if kind and isinstance(v, int) and not isinstance(v, bool):
                        wanted[kind].add(v)
        self.found: dict[str, dict[int, Any]] = {}
        for kind, ids in wanted.items():
            model = self.MODELS.get(kind) or _OWN[kind]
            self.found[kind] = {
                o.id: o for o in db.session.scalars(select(model).where(model.id.in_(ids)))
            }
        # what the found objects point at in turn (a run's or publication's cycle, …)
        self._units_by_code: dict[str, Unit] | None = None
        self._schemes: dict[int, Any] = {}
        self._grades: dict[tuple[int, str], dict[str, str]] = {}
        self.actors = {
            s.username: s
            for s in db.session.scalars(
                select(StaffUser).where(StaffUser.username.in_({r.actor for r in rows}))
            )
        }

    def get(self, kind: str, ident: Any) -> Any:
        return self.found.get(kind, {}).get(ident)

    def unit(self, ident: Any) -> str | None:
        unit = self.get("unit", ident)
        return unit.name if unit is not None else None

    def unit_by_code(self, code: str) -> str:
        if self._units_by_code is None:
            self._units_by_code = {u.code: u for u in db.session.scalars(select(Unit))}
        unit = self._units_by_code.get(code)
        return unit.name if unit is not None else code

    def cycle(self, ident: Any) -> str | None:
        cycle = self.get("cycle", ident) or db.session.get(Cycle, ident) if ident else None
        return cycle.name if cycle is not None else None

    def questionnaire(self, ident: Any) -> str | None:
        q = self.get("questionnaire", ident)
        if q is None:
            return None
        return _("{title}（第 {v} 版）", title=pick(q.title, q.title_en), v=q.version)

    def group(self, ident: Any) -> str | None:
        g = self.get("group", ident)
        return pick(g.name, g.name_en) if g is not None else None

    def scheme(self, ident: Any) -> str | None:
        s = self.get("scheme", ident)
        return _("{title}（第 {v} 版）", title=s.title, v=s.version) if s is not None else None

    def run(self, ident: Any) -> str | None:
        run = self.get("run", ident)
        if run is None:
            return None
        message = (
            N_("{cycle}{type}的综合结果（{at} 计算）")
            if run.kind == "composite"
            else N_("{cycle}{type}的满意度分析结果（{at} 计算）")
        )
        return _(
            message,
            cycle=run.cycle.name,
            type=label("unit_type", run.unit_type) if run.unit_type else "",
            at=datetime_local(run.created_at, "minutes"),
        )

    def publication(self, ident: Any) -> str | None:
        p = self.get("publication", ident)
        if p is None:
            return None
        return _("{cycle}{type}的结果公示", cycle=self.cycle(p.cycle_id) or "",
                 type=label("unit_type", p.unit_type))  # fmt: skip

    def element(self, scheme_id: Any, code: str) -> str:
        """An element's or extra item's code and title in the scheme version."""
        if scheme_id not in self._schemes:
            version = db.session.get(SchemeVersion, scheme_id) if scheme_id else None
            try:
                self._schemes[scheme_id] = (
                    parse_scheme({**version.definition, "version": version.version})
                    if version is not None
                    else None
                )
            except SchemeError:
                self._schemes[scheme_id] = None
        scheme = self._schemes[scheme_id]
        item = scheme.item(code) if scheme is not None else None
        return f"{code} {item.title}" if item is not None else code

    def item(self, cycle_id: Any, unit_id: Any, code: str) -> str:
        """A bonus, penalty or veto item's code and title in the scheme the cycle uses for
        the unit's type."""
        unit = self.get("unit", unit_id) or (db.session.get(Unit, unit_id) if unit_id else None)
        scheme_id = (
            db.session.scalar(
                select(CycleScheme.scheme_id).where(
                    CycleScheme.cycle_id == cycle_id, CycleScheme.unit_type == unit.type
                )
            )
            if unit is not None and cycle_id
            else None
        )
        return self.element(scheme_id, code)

    def grades(self, cycle_id: Any, unit_type: str) -> dict[str, str]:
        """The labels of the cycle's grades for a unit type (stars as stars)."""
        key = (cycle_id, unit_type)
        if key not in self._grades:
            setting = db.session.scalar(
                select(GradeSetting).where(
                    GradeSetting.cycle_id == cycle_id, GradeSetting.unit_type == unit_type
                )
            )
            try:
                bands = parse_rules(setting.rules).bands if setting is not None else ()
            except GradingError:
                bands = ()
            self._grades[key] = {b.code: b.label for b in bands}
        return self._grades[key]

    def staff(self, ident: Any) -> str | None:
        staff = self.get("staff", ident)
        return staff.username if staff is not None else None

    def actor(self, name: str) -> str:
        return actor_words(name, self.actors.get(name))


def actor_words(name: str, staff: StaffUser | None) -> str:
    """Who did something, as people know them: a command's words, else the account's name
    beside its user name ("东华门街道联络员（s01）"), else the user name alone."""
    if name in ACTORS:
        return _(ACTORS[name])
    if staff is not None and staff.name and staff.name != name:
        return f"{staff.name}（{name}）" if _is_zh() else f"{staff.name} ({name})"
    return name


# the model a row's own entity_id points at, by kind (for its name)
_OWN = {
    "unit": Unit,
    "cycle": Cycle,
    "questionnaire": Questionnaire,
    "group": RaterGroup,
    "scheme": SchemeVersion,
    "publication": Publication,
    "staff": StaffUser,
    "item": Item,
    "link": Link,
    "response": Response,
    "cycle_scheme": CycleScheme,
}
_ID_KIND = {
    **{f: "unit" for f in UNIT_FIELDS},
    **{f: "run" for f in RUN_FIELDS},
    "cycle_id": "cycle",
    "questionnaire_id": "questionnaire",
    "rater_group_id": "group",
    "scheme_id": "scheme",
    "publication_id": "publication",
    "user_id": "staff",
}


def _is_zh() -> bool:
    from evalsurvey.i18n import current_lang

    return current_lang() == "zh"


def quoted(text: str) -> str:
    return f"“{text}”"


def field_label(entity: str, column: str) -> str:
    source = FIELDS.get((entity, column)) or FIELDS.get(column)
    # a column added later without a label still reads as words, not as its name
    return _(source) if source else _("其他信息")


def _time(value: Any, kind: str) -> str:
    if isinstance(value, str):
        try:
            value = (datetime if kind != "date" else date).fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return datetime_local(value, "seconds")
    return value.isoformat() if isinstance(value, date) else str(value)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _joined(parts: Iterable[str]) -> str:
    return sep(",").join(parts) or "—"


def value_words(row: AuditLog, column: str, value: Any, names: Names) -> str:
    """A recorded value as a person reads it."""
    entity = row.entity
    if column in SECRET:
        return _("（不显示）")
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    kind = CODED.get((entity, column))
    if kind is not None:
        return label(kind, value)
    if column == "unit_type":
        return label("unit_type", value)
    if column in TIME_FIELDS:
        return _time(value, "seconds")
    if column in DATE_FIELDS:
        return _time(value, "date")
    id_kind = _ID_KIND.get(column)
    if id_kind is not None:
        named = getattr(names, id_kind)(value)
        return named or _("（已删除的记录）")
    if column == "unit_code" or (column == "units" and isinstance(value, list)):
        codes = value if isinstance(value, list) else [value]
        return _joined(names.unit_by_code(str(c)) for c in codes)
    if column in ("rows", "reports") and isinstance(value, dict | list):
        count = value.get("count", 0) if isinstance(value, dict) else len(value)
        return _("{n} 个单位", n=count)
    if column == "result" and isinstance(value, dict):
        count = value.get("count")
        if count is None:
            count = len(value.get("units") or ())
        return _("{n} 个单位的结果", n=count)
    if column == "definition" and isinstance(value, dict):
        try:
            scheme = parse_scheme(value)
        except SchemeError:
            return _("（无法读取的方案）")
        return _("{title}，{n} 个考核要素，满分 {total} 分", title=scheme.title,
                 n=len(scheme.elements()), total=_number(scheme.total))  # fmt: skip
    if column == "rules" and isinstance(value, dict):
        return _rules_words(value)
    if column in ("weights", "group_min_n") and isinstance(value, dict):
        from evalsurvey.admin.composite import component_names

        known = component_names()
        return _joined(f"{known.get(k, k)} {_number(v)}" for k, v in value.items())
    if column == "split" and isinstance(value, dict):
        return _split_words(value)
    if column == "options" and isinstance(value, list):
        return _joined(_option(o) for o in value)
    if column == "overridden" and isinstance(value, list):
        return _joined(label("publish_blocker", v) for v in value)
    if column == "always" and isinstance(value, list):
        cycle_id = (row.changes.get("cycle_id") or [None, None])[1]
        unit_type = (row.changes.get("unit_type") or [None, None])[1]
        labels = names.grades(cycle_id, unit_type) if cycle_id else {}
        return _joined(labels.get(v, _grade_fallback(v)) for v in value)
    if column == "value" and entity in ("Finding", "Adjustment"):
        return category_values(str(value), current_lang())
    if column == "element":
        return names.element(_after(row, "scheme_id"), str(value))
    if column == "item" and row.entity == "Adjustment":
        return names.item(_after(row, "cycle_id"), _after(row, "unit_id"), str(value))
    if column == "grade":
        return _grade_fallback(str(value))
    if column == "rate" and isinstance(value, int | float):
        return f"{value * 100:g}%"
    if column == "reason" and row.action == "paper" and " · " in str(value):
        count, filename = str(value).split(" · ", 1)
        return _("{n} 份，文件 {file}", n=count, file=filename)
    if isinstance(value, dict | list):
        return _("（{n} 项）", n=len(value))
    text = _number(value) if isinstance(value, int | float) else str(value)
    return text if len(text) <= LONG else text[:LONG] + "…"


def _option(option: Any) -> str:
    if isinstance(option, dict):
        return str(pick(option.get("text") or option.get("label") or "", option.get("text_en"))
                   or option.get("code", ""))  # fmt: skip
    return str(option)


def _grade_fallback(code: str) -> str:
    if code.startswith("star") and code[4:].isdigit():
        return "★" * int(code[4:])
    return code


def _rules_words(rules: dict) -> str:
    try:
        parsed = parse_rules(rules)
    except GradingError:
        return _("（无法读取的等级规则）")
    parts = []
    for band in parsed.bands:
        if band.min_score is None:
            parts.append(_("其余 {grade}", grade=band.label))
        elif band.max_share is None:
            parts.append(_("{score} 分及以上 {grade}", score=_number(band.min_score),
                           grade=band.label))  # fmt: skip
        else:
            share = _number(band.max_share * 100)
            parts.append(_("{score} 分及以上 {grade}（至多 {share}%）",
                           score=_number(band.min_score), grade=band.label,
                           share=share))  # fmt: skip
    return _joined(parts)


def _split_words(split: dict) -> str:
    from evalsurvey.admin.composite import component_names

    known = component_names()
    parts = []
    for side, part in split.items():
        if not isinstance(part, dict):
            continue
        groups = _joined(known.get(g, g) for g in part.get("groups", ()))
        side_name = _("内部评价") if side == "internal" else _("外部评价")
        parts.append(f"{side_name} {_number(part.get('part', ''))}（{groups}）")
    return _joined(parts) if parts else _("（{n} 项）", n=len(split))


def _after(row: AuditLog, column: str) -> Any:
    old, new = (row.changes or {}).get(column, [None, None])
    return new if new is not None else old


# each kind of record with its name ({name}: quoted, or empty when not known)
NOUNS = {
    "Unit": N_("单位{name}"),
    "Cycle": N_("考评周期{name}"),
    "RaterGroup": N_("评价群体{name}"),
    "Questionnaire": N_("问卷{name}"),
    "Item": N_("题目{name}"),
    "Link": N_("评价链接{name}"),
    "StaffUser": N_("用户{name}"),
    "Response": N_("答卷{name}"),
    "SchemeVersion": N_("考核方案{name}"),
    "CycleScheme": N_("周期所用方案{name}"),
    "Finding": N_("考核记录{name}"),
    "CompositeSetting": N_("综合权重{name}"),
    "GradeSetting": N_("等级规则{name}"),
    "Publication": N_("结果公示{name}"),
    "Objection": N_("异议{name}"),
    "RectificationItem": N_("整改事项{name}"),
    "Adjustment": N_("部门意见{name}"),
    "GradeProposal": N_("等级申报{name}"),
    "ReviewDraw": N_("复核抽样{name}"),
    "ApiToken": N_("接口令牌{name}"),
}


def what_words(row: AuditLog, names: Names) -> str:
    """The object of a row: its kind and its name where the log or the database knows it."""
    named = _name_of(row, names)
    noun = NOUNS.get(row.entity)
    if noun is None:
        return label("entity", row.entity) + (quoted(named) if named else "")
    return _(noun, name=quoted(named) if named else "").strip()


def _name_of(row: AuditLog, names: Names) -> str | None:
    entity, ident = row.entity, row.entity_id
    unit_type = _after(row, "unit_type")
    if entity == "Unit":
        return names.unit(ident) or _after(row, "name")
    if entity == "Cycle":
        return names.cycle(ident) or _after(row, "name")
    if entity == "RaterGroup":
        return names.group(ident) or _after(row, "name")
    if entity == "Questionnaire":
        return names.questionnaire(ident) or _after(row, "title")
    if entity == "SchemeVersion":
        return names.scheme(ident) or _after(row, "title")
    if entity == "StaffUser":
        staff = names.get("staff", ident)
        return staff.username if staff is not None else _after(row, "username")
    if entity == "Item":
        item = names.get("item", ident)
        return pick(item.text, item.text_en) if item is not None else _after(row, "text")
    if entity == "Link":
        link = names.get("link", ident)
        if link is None:
            return None
        return _("{unit} · {group}", unit=link.unit.name if link.unit else "",
                 group=pick(link.rater_group.name, link.rater_group.name_en))  # fmt: skip
    if entity == "Response":
        response = names.get("response", ident)
        return response.public_id if response is not None else None
    if entity == "Publication":
        return names.publication(ident) or _pair(row, names, unit_type)
    if entity in ("CompositeSetting", "GradeSetting", "ReviewDraw", "CycleScheme"):
        return _pair(row, names, unit_type)
    if entity == "Finding":
        unit = names.unit(_after(row, "unit_id"))
        element = names.element(_after(row, "scheme_id"), _after(row, "element") or "")
        return f"{unit or ''} · {element}" if unit or element else None
    if entity == "RectificationItem":
        return _after(row, "title")
    if entity == "ApiToken":
        return _after(row, "name")
    if entity in ("Adjustment", "GradeProposal"):
        return names.unit(_after(row, "unit_id"))
    if entity == "Objection":
        code = _after(row, "unit_code")
        return names.unit_by_code(code) if code else None
    return None


def _pair(row: AuditLog, names: Names, unit_type: str | None) -> str | None:
    cycle = names.cycle(_after(row, "cycle_id"))
    if not cycle and not unit_type:
        return None
    return f"{cycle or ''} · {label('unit_type', unit_type) if unit_type else ''}".strip(" ·")


def change_words(row: AuditLog, names: Names) -> list[str]:
    """Each recorded change as a sentence (a new record: what it was created with)."""
    out = []
    for column, (old, new) in (row.changes or {}).items():
        if column in QUIET:
            continue
        name = field_label(row.entity, column)
        old_words = quoted(value_words(row, column, old, names))
        new_words = quoted(value_words(row, column, new, names))
        if row.action in ("create", "delete"):
            value = new if row.action == "create" else old
            if value is not None and value not in ("", [], {}):
                text = value_words(row, column, value, names)
                out.append(_("{field}：{value}", field=name, value=text))
        elif column in SECRET:
            out.append(_("{field}已更改", field=name))
        elif old is None or old == "":
            out.append(_("{field}设为{new}", field=name, new=new_words))
        elif new is None or new == "":
            out.append(_("{field}已清空（原为{old}）", field=name, old=old_words))
        else:
            out.append(_("{field}由{old}改为{new}", field=name, old=old_words, new=new_words))
    return out


def entries(rows: Iterable[AuditLog]) -> list[Entry]:
    rows = list(rows)
    names = Names(rows)
    out = []
    for row in rows:
        action = ACTIONS.get(row.action)
        what = what_words(row, names)
        sentence = _(action, what=what) if action else f"{label('audit_action', row.action)} {what}"
        out.append(Entry(row, names.actor(row.actor), sentence, change_words(row, names)))
    return out
