"""Questionnaires: the form-based builder with its phone preview, import from JSON, edit a
draft as JSON, publish (after confirming), new version."""

from __future__ import annotations

import json
from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp, confirm_page, download
from evalsurvey.domain.checks import db_int, load_json
from evalsurvey.domain.collecting import questionnaires as qdomain
from evalsurvey.domain.collecting.responses import COMMENT_MAX
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import LABELS, _
from evalsurvey.models import Questionnaire
from evalsurvey.web import run_action


def _load_json(raw: bytes | str):
    """The JSON document, or a message for the person."""
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        return load_json(text), ""
    except DomainError as exc:
        return None, exc.text(_)
    except UnicodeDecodeError:
        return None, _("文件不是 UTF-8 编码的文本。")
    except json.JSONDecodeError as exc:
        return None, _("不是有效的 JSON：第 {line} 行第 {col} 列。", line=exc.lineno, col=exc.colno)


@bp.route("/questionnaires", methods=["GET", "POST"])
@admin_only
def questionnaires():
    form = forms.FileForm()
    error = ""
    if request.form.get("action") != "new" and form.validate_on_submit():
        data, error = _load_json(form.file.data.read())
        if not error:
            done = run_action(qdomain.create_draft, data, show=False)
            if done:
                flash(_("已导入问卷 {label}（草稿）。", label=done.value.label))
                return redirect(url_for("admin.questionnaire", qid=done.value.id))
            error = done.message
    if request.method == "POST" and request.form.get("action") == "new":
        if not forms.ConfirmForm().validate_on_submit():
            abort(400)
        done = run_action(
            qdomain.new_questionnaire,
            request.form.get("code", ""),
            request.form.get("title", ""),
            show=False,
        )
        if done:
            return redirect(url_for("admin.build_questionnaire", qid=done.value.id), 303)
        error = done.message
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
            done = run_action(qdomain.replace_draft, q, data, show=False)
            if done:
                flash(_("已保存。"))
                return redirect(url_for("admin.questionnaire", qid=q.id))
            error = done.message
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
def freeze_questionnaire(qid: int):
    q = db.get_or_404(Questionnaire, qid)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        # publish refuses only a version published already (by someone else meanwhile)
        if run_action(qdomain.freeze_version, q, show=False):
            flash(_("已发布 {label}，此版本今后不可修改。", label=q.label))
        else:
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


def _item_from_form() -> dict:
    """One item as the builder's form posts it, in the questionnaire JSON's terms."""
    form = request.form
    item = {
        "code": form.get("code", "").strip(),
        "text": form.get("text", "").strip(),
        "text_en": form.get("text_en", "").strip(),
        "type": form.get("type", ""),
        "required": form.get("required") == "1",
    }
    if item["type"] == "points":
        item["max_points"] = form.get("max_points", "").strip()
    if item["type"] in ("single", "multiple"):
        item["options"] = qdomain.parse_options(form.get("options", ""))
    return item


ITEM_ACTIONS = ("save", "preview", "up", "down", "remove")


def _done_message(action: str, index: int | None, value) -> str:
    """What the button did, in words (a move or removal says so, not "saved")."""
    n = (index or 0) + 1
    if action == "copy":
        return _("已复制 {n} 道题。", n=value)
    if action == "up":
        return _("已将第 {n} 题上移。", n=n)
    if action == "down":
        return _("已将第 {n} 题下移。", n=n)
    if action == "remove":
        return _("已删除第 {n} 题。", n=n)
    return _("已保存。")


def _build(q: Questionnaire, action: str, index: int | None):
    """One post of the builder as one action: the preview (a transient questionnaire,
    nothing written), the number of items copied, or None for the other changes."""
    if action == "preview":
        return qdomain.preview_item(q, index, _item_from_form())
    if action == "texts":
        qdomain.set_texts(
            q,
            request.form.get("title", "").strip(),
            request.form.get("title_en", "").strip(),
            request.form.get("intro", "").strip(),
            request.form.get("intro_en", "").strip(),
        )
    elif action == "save":
        qdomain.put_item(q, index, _item_from_form())
    elif action == "copy":
        source = db.session.get(Questionnaire, request.form.get("source", type=db_int) or 0)
        if source is None:
            raise qdomain.QuestionnaireError("请选择另一份问卷或另一个版本。")
        return qdomain.copy_items(q, source, request.form.getlist("codes"))
    elif action in ("up", "down"):
        qdomain.move_item(q, index if index is not None else -1, -1 if action == "up" else 1)
    elif action == "remove":
        if request.form.get("sure") != "1":  # removing is not one click
            raise qdomain.QuestionnaireError("删除前请勾选“确认删除”。")
        qdomain.remove_item(q, index if index is not None else -1)
    else:
        abort(400)
    return None


@bp.route("/questionnaires/<int:qid>/build", methods=["GET", "POST"])
@admin_only
def build_questionnaire(qid: int):
    """The form-based builder of a draft: texts, items added, edited, moved, removed and
    copied from another version, and a preview exactly as the phone page renders the items.
    "Preview" shows an item's edits without saving them (no JavaScript needed); with
    JavaScript, builder.js asks for that preview as one types (``X-Preview`` header)."""
    q = db.get_or_404(Questionnaire, qid)
    if q.published:
        flash(_("已发布的版本不能修改，请复制为新版本。"))
        return redirect(url_for("admin.questionnaire", qid=q.id))
    form = forms.ConfirmForm()
    error, error_at, shown = "", None, q
    # the action is the clicked button's own name and value, never a hidden field, which
    # would be posted with every button and win (remove, move and preview once saved)
    actions = request.form.getlist("action")
    action = actions[0] if len(set(actions)) == 1 else ""
    index = request.form.get("index", type=db_int)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if len(set(actions)) > 1:  # a page from before this rule: do nothing rather than guess
            page = _builder(q, q, form, _("页面已过期，请刷新后重试。"), None, keep=False)
            return page, 400
        done = run_action(_build, q, action, index, show=False)
        if done and action == "preview":
            shown = done.value
            if request.headers.get("X-Preview"):
                return _phone(shown)
            return _builder(q, shown, form, "", index, keep=True)
        if done:
            flash(_done_message(action, index, done.value))
            return redirect(url_for("admin.build_questionnaire", qid=q.id), 303)
        q = shown = db.session.get(Questionnaire, qid)
        if request.headers.get("X-Preview"):
            return _phone(q, done.message), 400
        # shown by the item the button belongs to (the new item's form when index is None)
        error, error_at = done.message, (index if action in ITEM_ACTIONS else None)
    page = _builder(q, shown, form, error, error_at, keep=bool(error))
    return page, (400 if error else 200)


def _phone(q, error: str = "") -> str:
    """The preview pane alone: the items as the phone page renders them."""
    return render_template("admin/_phone.html", q=q, error=error, answers={}, problems={},
                           choices=qdomain.choices)  # fmt: skip


def _builder(q, shown, form, error: str, error_at, keep: bool) -> str:
    others = db.session.scalars(
        select(Questionnaire)
        .where(Questionnaire.id != q.id)
        .order_by(Questionnaire.code, Questionnaire.version.desc())
    )
    source = None
    if request.args.get("from", type=db_int):
        source = db.session.get(Questionnaire, request.args.get("from", type=db_int))
    return render_template(
        "admin/questionnaire_build.html",
        q=q,
        shown=shown,
        form=form,
        error=error,
        error_at=error_at,
        posted=request.form if keep else {},
        others=list(others),
        source=source if source is not None and source.id != q.id else None,
        choices=qdomain.choices,
        options_text=qdomain.options_text,
        types=list(LABELS["item_type"]),
        answers={},
        problems={},
    )


@bp.get("/questionnaires/<int:qid>/preview")
@admin_only
def preview_questionnaire(qid: int):
    """The questionnaire exactly as a phone shows it (the same templates), not submittable."""
    q = db.get_or_404(Questionnaire, qid)
    link = SimpleNamespace(unit=SimpleNamespace(name=_("（单位名称）")))
    items_html = Markup(
        render_template("public/_items.html", q=q, answers={}, problems={}, choices=qdomain.choices)
    )
    return render_template(
        "public/survey.html",
        link=link,
        q=q,
        ticket="",
        comment="",
        comment_max=COMMENT_MAX,
        answers={},
        problems={},
        notice=_("预览：这是手机上看到的样子，不能提交。"),
        action="#",
        choices=qdomain.choices,
        items_html=items_html,
    )
