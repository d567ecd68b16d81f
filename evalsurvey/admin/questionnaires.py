"""Questionnaires: import from JSON, edit a draft, publish (after confirming), new version."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp, confirm_page, download
from evalsurvey.domain import questionnaires as qdomain
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import Questionnaire


def _load_json(raw: bytes | str):
    """The JSON document, or a message for the person."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        return json.loads(text), ""
    except UnicodeDecodeError:
        return None, _("文件不是 UTF-8 编码的文本。")
    except json.JSONDecodeError as exc:
        return None, _("不是有效的 JSON：第 {line} 行第 {col} 列。", line=exc.lineno, col=exc.colno)


@bp.route("/questionnaires", methods=["GET", "POST"])
@admin_only
def questionnaires():
    form = forms.FileForm()
    error = ""
    if form.validate_on_submit():
        data, error = _load_json(form.file.data.read())
        if not error:
            try:
                q = qdomain.create_draft(data)
                db.session.commit()
                flash(_("已导入问卷 {label}（草稿）。", label=q.label))
                return redirect(url_for("admin.questionnaire", qid=q.id))
            except qdomain.QuestionnaireError as exc:
                db.session.rollback()
                error = exc.text(_)
    rows = db.session.scalars(
        select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version)
    )
    return render_template("admin/questionnaires.html", form=form, rows=list(rows), error=error), (
        400 if error else 200
    )


@bp.get("/questionnaires/<int:qid>")
@admin_only
def questionnaire(qid: int):
    q = db.get_or_404(Questionnaire, qid)
    return render_template("admin/questionnaire.html", q=q, choices=qdomain.choices)


@bp.route("/questionnaires/<int:qid>/edit", methods=["GET", "POST"])
@admin_only
def edit_questionnaire(qid: int):
    q = db.get_or_404(Questionnaire, qid)
    if q.published:
        flash(_("已发布的版本不能修改，请复制为新版本。"))
        return redirect(url_for("admin.questionnaire", qid=q.id))
    form = forms.QuestionnaireJSONForm()
    error = ""
    if form.validate_on_submit():
        data, error = _load_json(form.definition.data)
        if not error:
            try:
                qdomain.replace_draft(q, data)
                db.session.commit()
                flash(_("已保存。"))
                return redirect(url_for("admin.questionnaire", qid=q.id))
            except qdomain.QuestionnaireError as exc:
                db.session.rollback()
                error = exc.text(_)
    elif request.method == "GET":
        form.definition.data = json.dumps(qdomain.to_json(q), ensure_ascii=False, indent=2)
    return render_template("admin/questionnaire_edit.html", q=q, form=form, error=error), (
        400 if error else 200
    )


@bp.get("/questionnaires/<int:qid>.json")
@admin_only
def questionnaire_json(qid: int):
    q = db.get_or_404(Questionnaire, qid)
    body = json.dumps(qdomain.to_json(q), ensure_ascii=False, indent=2)
    return download(body.encode(), f"{q.code}-v{q.version}.json", "application/json")


@bp.route("/questionnaires/<int:qid>/publish", methods=["GET", "POST"])
@admin_only
def publish_questionnaire(qid: int):
    q = db.get_or_404(Questionnaire, qid)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        try:
            qdomain.publish(q)
            db.session.commit()
            flash(_("已发布 {label}，此版本今后不可修改。", label=q.label))
        except qdomain.PublishedError:
            flash(_("该版本已经发布。"))
        return redirect(url_for("admin.questionnaire", qid=q.id))
    return confirm_page(
        form,
        _("发布问卷 {label}", label=q.label),
        _("发布后此版本不能再修改，只能复制为新版本。确定发布吗？"),
        _("确认发布"),
        url_for("admin.questionnaire", qid=q.id),
    )


@bp.post("/questionnaires/<int:qid>/new-version")
@admin_only
def new_questionnaire_version(qid: int):
    q = db.get_or_404(Questionnaire, qid)
    copy = qdomain.new_version(q)
    db.session.commit()
    flash(_("已创建新版本 {label}（草稿）。", label=copy.label))
    return redirect(url_for("admin.questionnaire", qid=copy.id))
