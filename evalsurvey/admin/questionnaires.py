"""Questionnaires: the form-based builder with its phone preview, import from JSON, edit a
draft as JSON, publish (after confirming), new version."""

from __future__ import annotations

import json
from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, session, url_for
from markupsafe import Markup
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin import questionnaire_forms as qforms
from evalsurvey.admin.blueprint import admin_only, bp, confirm_page, download
from evalsurvey.domain.checks import db_int, load_json
from evalsurvey.domain.collecting import questionnaires as qdomain
from evalsurvey.domain.collecting.responses import COMMENT_MAX
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import _
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
    new = qforms.NewQuestionnaireForm()
    error = ""
    if new.action.data is not None:  # the "new" form's button (the import form has none)
        if new.validate_on_submit():
            done = run_action(qdomain.new_questionnaire, new.code.data, new.title.data, form=new)
            if done:
                return redirect(url_for("admin.build_questionnaire", qid=done.value.id), 303)
        elif new.csrf_token.errors:
            abort(400)
    elif form.validate_on_submit():
        data, error = _load_json(form.file.data.read())
        if not error:
            done = run_action(qdomain.create_draft, data, show=False)
            if done:
                flash(_("已导入问卷 {label}（草稿）。", label=done.value.label))
                return redirect(url_for("admin.questionnaire", qid=done.value.id))
            error = done.message
    rows = db.session.scalars(
        select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version)
    )
    page = render_template(
        "admin/questionnaires.html", form=form, new=new, rows=list(rows), error=error
    )
    return page, (400 if error or new.messages() else 200)


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


def _done_message(form: qforms.ActionForm, value) -> str:
    """What the button did, in words (a move or removal says so, not "saved")."""
    action = form.action.data
    if action == "copy":
        return _("已复制 {n} 道题。", n=value)
    n = (form.index.data or 0) + 1 if isinstance(form, qforms.MoveForm) else 0
    if action == "up":
        return _("已将第 {n} 题上移。", n=n)
    if action == "down":
        return _("已将第 {n} 题下移。", n=n)
    if action == "remove":
        return _("已删除第 {n} 题。", n=n)
    return _("已保存。")


def _landing(q: Questionnaire, form: qforms.ActionForm, value) -> str:
    """The card a builder action concerns, once done (its ``id`` on the page): the item
    saved, moved (at its new place), copied (the first copied), the one now where a removed
    item was, or the titles."""
    count, index = len(q.items), getattr(getattr(form, "index", None), "data", None)
    if isinstance(form, qforms.TextsForm):
        return "texts"
    if isinstance(form, qforms.CopyForm):
        return f"item-{count - value + 1}"
    if isinstance(form, qforms.RemoveForm):
        return f"item-{min(index + 1, count)}"
    if isinstance(form, qforms.MoveForm):
        return f"item-{index + 1 + form.step}"
    return f"item-{count if index is None else index + 1}"


BUILT = "evalsurvey.built"  # the session key of the last builder action's [card, words]


def _build(q: Questionnaire, form: qforms.ActionForm):
    """One post of the builder as one action: the preview (a transient questionnaire,
    nothing written), the number of items copied, or None for the other changes."""
    if isinstance(form, qforms.ItemForm):
        if form.action.data == "preview":
            return qdomain.preview_item(q, form.index.data, form.item())
        qdomain.put_item(q, form.index.data, form.item())
    elif isinstance(form, qforms.TextsForm):
        qdomain.set_texts(q, form.title.data, form.title_en.data, form.intro.data,
                          form.intro_en.data)  # fmt: skip
    elif isinstance(form, qforms.CopyForm):
        return qdomain.copy_items(q, form.found, form.codes.data)
    elif isinstance(form, qforms.RemoveForm):
        qdomain.remove_item(q, form.index.data)
    elif isinstance(form, qforms.MoveForm):
        qdomain.move_item(q, form.index.data, form.step)
    return None


@bp.route("/questionnaires/<int:qid>/build", methods=["GET", "POST"])
@admin_only
def build_questionnaire(qid: int):
    """The form-based builder of a draft: texts, items added, edited, moved, removed and
    copied from another version, and a preview exactly as the phone page renders the items.
    "Preview" shows an item's edits without saving them (no JavaScript needed); with
    JavaScript, builder.js asks for that preview as one types (``X-Preview`` header).
    Each button posts its own form (:func:`questionnaire_forms.builder_form`)."""
    q = db.get_or_404(Questionnaire, qid)
    if q.published:
        flash(_("已发布的版本不能修改，请复制为新版本。"))
        return redirect(url_for("admin.questionnaire", qid=q.id))
    if request.method == "GET":
        return _builder(q)
    form = qforms.builder_form()
    live = bool(request.headers.get("X-Preview"))  # builder.js: the preview pane alone
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        if live:
            return _phone(q, form.messages()[0]), 400
        return _builder(q, posted=form), 400
    done = run_action(_build, q, form, form=form)
    if done and form.action.data == "preview":
        return _phone(done.value) if live else _builder(q, done.value, posted=form)
    if done:
        # said by the card it concerns, where the page opens (not at the top, 5,000 px
        # above it on a phone): as a flash, but shown by the card rather than base.html
        card = _landing(q, form, done.value)
        session[BUILT] = [card, _done_message(form, done.value)]
        return redirect(url_for("admin.build_questionnaire", qid=q.id, _anchor=card), 303)
    q = db.session.get(Questionnaire, qid)
    if live:
        return _phone(q, done.message), 400
    return _builder(q, posted=form), 400


def _phone(q, error: str = "") -> str:
    """The preview pane alone: the items as the phone page renders them."""
    return render_template("admin/_phone.html", q=q, error=error, answers={}, problems={},
                           choices=qdomain.choices)  # fmt: skip


def _builder(q: Questionnaire, shown=None, posted: qforms.ActionForm | None = None) -> str:
    """The builder page: a form per item (the posted one as typed, with its problems), the
    titles, a new item and the copy form; ``shown`` is the preview (``q`` itself unless an
    unsaved item is previewed)."""
    texts = (
        posted if isinstance(posted, qforms.TextsForm) else qforms.TextsForm(formdata=None, obj=q)
    )
    items = [qforms.ItemForm.of(item, n) for n, item in enumerate(q.items, start=1)]
    new = qforms.ItemForm.of(None, len(q.items) + 1)
    copy = posted if isinstance(posted, qforms.CopyForm) else qforms.CopyForm(formdata=None)
    error = ""  # a problem that belongs to no form shown (a stale page, an item gone)
    index = getattr(getattr(posted, "index", None), "data", None)
    shown_at = index is not None and 0 <= index < len(items)  # the item posted is listed
    if isinstance(posted, qforms.ItemForm) and index is None:
        new = posted
    elif isinstance(posted, qforms.ItemForm) and shown_at:
        items[index] = posted
    elif isinstance(posted, qforms.MoveForm) and shown_at:
        items[index].form_errors.extend(posted.messages())  # by the item's buttons
    elif posted is not None and not isinstance(posted, qforms.TextsForm | qforms.CopyForm):
        error = next(iter(posted.messages()), "")
    done = session.pop(BUILT, None) if posted is None else None
    if not isinstance(done, list) or len(done) != 2:
        done = None
    elif done[0] != "texts" and done[0] not in {f"item-{n}" for n in range(1, len(items) + 1)}:
        done = ["top", done[1]]  # its card is gone meanwhile: said at the top
    source = copy.found
    if source is None and request.args.get("from", type=db_int):
        source = db.session.get(Questionnaire, request.args.get("from", type=db_int))
    others = db.session.scalars(
        select(Questionnaire)
        .where(Questionnaire.id != q.id)
        .order_by(Questionnaire.code, Questionnaire.version.desc())
    )
    return render_template(
        "admin/questionnaire_build.html",
        q=q,
        shown=shown if shown is not None else q,
        texts=texts,
        items=items,
        new=new,
        copy=copy,
        previewed=posted if shown is not None else None,
        error=error,
        done=done,
        others=list(others),
        source=source if source is not None and source.id != q.id else None,
        choices=qdomain.choices,
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
