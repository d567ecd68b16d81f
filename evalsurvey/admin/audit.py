"""The audit log, paged and filterable by what was changed and who changed it."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from evalsurvey.admin.blueprint import admin_only, bp
from evalsurvey.domain.checks import db_int
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, label
from evalsurvey.models import AuditLog

# the label of each recorded column, and which codes its values are
FIELDS = {
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
    "role": N_("角色"),
    "username": N_("用户名"),
    "password_hash": N_("密码"),
    "session_token": N_("登录凭据"),
    "period": N_("周期类型"),
    "opens_at": N_("开始时间"),
    "closes_at": N_("截止时间"),
    "closed_at": N_("关闭时间"),
    "published_at": N_("发布时间"),
    "mode": N_("方式"),
    "record_rater": N_("记录评委代号"),
    "internal": N_("内部评价"),
    "visible_to_unit": N_("单位可查看"),
    "reviewed": N_("已人工复核"),
    "reason": N_("原因"),
    "version": N_("版本"),
    "position": N_("序号"),
    "text": N_("题目"),
    "text_en": N_("英文题目"),
    "required": N_("必答"),
    "max_points": N_("满分"),
    "options": N_("选项"),
    "questionnaire_id": N_("问卷"),
    "cycle_id": N_("考评周期"),
    "rater_group_id": N_("评价群体"),
    "id": N_("编号"),
}
CODED = {
    ("Cycle", "status"): "cycle_status",
    ("Response", "status"): "response_status",
    ("Unit", "type"): "unit_type",
    ("Item", "type"): "item_type",
    ("StaffUser", "role"): "role",
    ("Link", "mode"): "link_mode",
    ("Cycle", "period"): "period",
}
SECRET = {"session_token"}


def change_rows(entry: AuditLog) -> list[tuple[str, str, str, bool]]:
    """(field label, old, new, shown as data) for each recorded change, in the reader's language."""
    rows = []
    for field, (old, new) in entry.changes.items():
        kind = CODED.get((entry.entity, field))
        rows.append(
            (
                _(FIELDS[field]) if field in FIELDS else field,
                _value(old, kind, field),
                _value(new, kind, field),
                kind is None,
            )
        )
    return rows


def _value(value, kind: str | None, field: str) -> str:
    if field in SECRET and value is not None:
        return "***"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if kind is not None:
        return label(kind, value)
    return str(value)


@bp.get("/audit")
@admin_only
def audit_log():
    entity = request.args.get("entity", "")
    actor = request.args.get("actor", "")
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if entity:
        query = query.where(AuditLog.entity == entity)
    if actor:
        query = query.where(AuditLog.actor == actor)
    page = db.paginate(
        query, page=request.args.get("page", 1, type=db_int), per_page=100, error_out=False
    )
    entities = list(
        db.session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity))
    )
    return render_template(
        "admin/audit.html",
        page=page,
        entity=entity,
        actor=actor,
        entities=entities,
        change_rows=change_rows,
    )
