"""Indicator schemes: import (JSON or workbook), the tree in words, export, publish, versions,
and which scheme a cycle uses for each unit type."""

from __future__ import annotations

import json
import re

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import admin_only, bp, confirm_page, download, readers
from evalsurvey.admin.questionnaire_forms import PanelSheetForm
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, _, current_lang, label, pick, sep
from evalsurvey.models import Cycle, CycleScheme, RaterGroup, SchemeVersion
from evalsurvey.models.units import UNIT_TYPES
from evalsurvey.scoring import Rule, SchemeError
from evalsurvey.scoring.categories import NAMES as CATEGORY_NAMES
from evalsurvey.scoring.categories import category_name, value_words
from evalsurvey.scoring.workbook import read_workbook, write_workbook
from evalsurvey.web import run_action

ORDER = {"desc": N_("从高到低"), "asc": N_("从低到高")}


def rule_words(rule: Rule | None) -> str:
    """A rule as an office reads it, in the reader's language."""
    if rule is None:
        return ""
    p = rule.params
    if rule.type == "checklist":
        return _("每缺一项扣 {d} 分，扣完为止", d=f"{p['deduct']:g}")
    if rule.type == "tiers":
        parts = [_("达到 {b} 得 {p} 分", b=f"{b:g}", p=f"{v:g}") for b, v in p["tiers"]]
        return _("分档：") + sep(",").join(parts) + _("；低于最低档 0 分")
    if rule.type == "rank_tiers":
        parts = [
            _("其余 {p} 分", p=f"{v:g}") if r is None else _("前 {r} 名 {p} 分", r=r, p=f"{v:g}")
            for r, v in p["tiers"]
        ]
        order = ORDER[p["order"]]
        return _("按名次（{order}）：", order=_(order)) + sep(",").join(parts)
    if rule.type == "per_occurrence":
        # a category by its name where it has one (a value may be written with it), else
        # by the scheme's own code
        parts = [
            Markup("{} {}").format(category_name(c, current_lang()), f"{v:+g}")
            if c in CATEGORY_NAMES
            else Markup("<code>{}</code> {}").format(c, f"{v:+g}")
            for c, v in p["points"].items()
        ]
        text = Markup(_("每次计分：")) + Markup(sep(",")).join(parts)
        if p.get("cap") is not None:
            text += _("；合计不超过 {cap} 分", cap=f"{p['cap']:g}")
        return text
    if rule.type == "survey":
        group = db.session.scalar(select(RaterGroup).where(RaterGroup.code == p["rater_group"]))
        name = pick(group.name, group.name_en) if group is not None else p["rater_group"]
        return _("{group} 满意度得分 × 分值 ÷ 100", group=name)
    return _("人工打分，须写明理由")


@bp.app_template_filter("finding_value")
def finding_value(raw: str) -> str:
    """A finding's value with its categories by name (pages, reports and the PDF)."""
    return value_words(raw, current_lang())


# grade codes a scheme's vetoes name, in words (a cycle's rules may label them otherwise)
GRADE_NAMES = {
    "excellent": N_("优秀"),
    "advanced": N_("先进"),
    "good": N_("良好"),
    "meets": N_("达标"),
    "below": N_("不达标"),
}


@bp.app_template_filter("barred_grades")
def barred_grades(codes) -> str:
    """The grades a veto bars: stars as stars, the usual grade codes by name."""
    words = []
    for code in codes:
        if code.startswith("star") and code[4:].isdigit():
            words.append("★" * int(code[4:]))
        else:
            words.append(_(GRADE_NAMES[code]) if code in GRADE_NAMES else code)
    return sep(",").join(words)


VALUE_SYNTAX = re.compile(r"\b[A-Za-z_]+:\d+(?:\.\d+)?(?:;[A-Za-z_]+:\d+(?:\.\d+)?)*")


def mark_values(text: str) -> Markup:
    """Escape a note and show value examples in it (``city:2;province:1``) as code."""
    out, last = Markup(""), 0
    for found in VALUE_SYNTAX.finditer(text or ""):
        out += text[last : found.start()] + Markup("<code>{}</code>").format(found.group())
        last = found.end()
    return out + (text or "")[last:]


def _scheme_error(exc: SchemeError) -> str:
    return scheme_domain.scheme_error_text(exc, _)


@bp.route("/schemes", methods=["GET", "POST"])
@admin_only
def schemes():
    form = forms.FileForm()
    error = ""
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        try:
            if (upload.filename or "").lower().endswith(".xlsx"):
                data = read_workbook(raw)
            else:
                data = json.loads(raw.decode("utf-8-sig"))
        except SchemeError as exc:
            error = _scheme_error(exc)
        except DomainError as exc:  # a workbook past the bounded reader's limits
            error = exc.text(_)
        except (UnicodeDecodeError, json.JSONDecodeError):
            error = _("文件不是有效的 UTF-8 JSON 或 .xlsx 工作簿。")
        else:
            done = run_action(scheme_domain.import_scheme, data, show=False)
            if done:
                flash(_("已导入考核方案 {label}（草稿）。", label=done.value.label))
                return redirect(url_for("admin.scheme", scheme_id=done.value.id))
            # a scheme that does not hold together is told by its place in the file
            invalid = isinstance(done.error, scheme_domain.SchemeInvalid)
            error = _scheme_error(done.error.error) if invalid else done.message
    rows = db.session.scalars(
        select(SchemeVersion).order_by(SchemeVersion.code, SchemeVersion.version)
    )
    return render_template("admin/schemes.html", form=form, rows=list(rows), error=error), (
        400 if error else 200
    )


@bp.get("/schemes/<int:scheme_id>")
@readers
def scheme(scheme_id: int):
    version = db.get_or_404(SchemeVersion, scheme_id)
    parsed = scheme_domain.scheme_of(version)
    return render_template(
        "admin/scheme.html",
        version=version,
        scheme=parsed,
        nodes=scheme_domain.elements_in_order(parsed),
        rule_words=rule_words,
        form=forms.ConfirmForm(),
        panel=PanelSheetForm(),
    )


@bp.get("/schemes/<int:scheme_id>.<fmt>")
@readers
def scheme_file(scheme_id: int, fmt: str):
    version = db.get_or_404(SchemeVersion, scheme_id)
    name = f"{version.code}-v{version.version}"
    if fmt == "json":
        body = json.dumps(version.definition, ensure_ascii=False, indent=1).encode()
        return download(body, f"{name}.json", "application/json")
    if fmt == "xlsx":
        body = write_workbook(scheme_domain.scheme_of(version))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return download(body, f"{name}.xlsx", mimetype)
    abort(404)


@bp.route("/schemes/<int:scheme_id>/publish", methods=["GET", "POST"])
@admin_only
def freeze_scheme(scheme_id: int):
    version = db.get_or_404(SchemeVersion, scheme_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        if run_action(scheme_domain.freeze_scheme_version, version):
            flash(_("已发布 {label}，此版本今后不可修改。", label=version.label))
        return redirect(url_for("admin.scheme", scheme_id=version.id))
    return confirm_page(
        form,
        _("发布考核方案 {label}", label=version.label),
        _("发布后此版本不能再修改，只能复制为新版本。确定发布吗？"),
        _("确认发布"),
        url_for("admin.scheme", scheme_id=version.id),
    )


@bp.post("/schemes/<int:scheme_id>/new-version")
@admin_only
def new_scheme_version(scheme_id: int):
    version = db.get_or_404(SchemeVersion, scheme_id)
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    copy = scheme_domain.new_scheme_version(version)
    db.session.commit()
    flash(_("已创建新版本 {label}（草稿）。", label=copy.label))
    return redirect(url_for("admin.scheme", scheme_id=copy.id))


@bp.route("/cycles/<int:cycle_id>/schemes", methods=["GET", "POST"])
@admin_only
def cycle_schemes(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.CycleSchemeForm()
    published = list(
        db.session.scalars(
            select(SchemeVersion)
            .where(SchemeVersion.published_at.is_not(None))
            .order_by(SchemeVersion.code, SchemeVersion.version)
        )
    )
    form.scheme.choices = [(v.id, f"{v.label} {v.title}") for v in published]
    form.unit_type.choices = [(k, label("unit_type", k)) for k in UNIT_TYPES]
    if form.validate_on_submit() and run_action(
        scheme_domain.assign_scheme,
        cycle,
        form.unit_type.data,
        db.get_or_404(SchemeVersion, form.scheme.data),
        form=form,
    ):
        flash(_("已保存。"))
        return redirect(url_for("admin.cycle_schemes", cycle_id=cycle.id))
    assigned = db.session.scalars(select(CycleScheme).where(CycleScheme.cycle_id == cycle.id))
    return render_template(
        "admin/cycle_schemes.html",
        cycle=cycle,
        form=form,
        assigned=list(assigned),
        type_=request.args.get("type", ""),
    )


@bp.post("/schemes/<int:scheme_id>/panel-sheet")
@admin_only
def panel_sheet(scheme_id: int):
    """Make a draft panel scoring questionnaire from the scheme."""
    version = db.get_or_404(SchemeVersion, scheme_id)
    form = PanelSheetForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        for message in form.per.errors:
            flash(message)
    else:
        done = run_action(scheme_domain.panel_questionnaire, version, form.per.data)
        if done:
            flash(_("已生成专家评分表 {label}（草稿）。", label=done.value.label))
            return redirect(url_for("admin.questionnaire", qid=done.value.id))
    return redirect(url_for("admin.scheme", scheme_id=version.id))
