"""The audit log, paged and filterable by what was changed and who changed it; each row in
words (:mod:`evalsurvey.admin.audit_words`)."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select

from evalsurvey.admin.audit_words import entries
from evalsurvey.admin.blueprint import admin_only, bp
from evalsurvey.domain.checks import db_int
from evalsurvey.extensions import db
from evalsurvey.models import AuditLog


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
        entries=entries(page.items),
    )
