"""Findings in bulk: a unit's whole scheme as one grid saved at once, a cycle's findings as a
spreadsheet to download, fill in and upload, and each unit's progress. Both save through
:func:`evalsurvey.domain.assessment.schemes.record_findings` (all or nothing)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import bp, download, require_unit, reviewers, scope
from evalsurvey.admin.findings import evidence_folder
from evalsurvey.admin.findings_forms import FindingsGridForm, grid_form, section
from evalsurvey.admin.schemes import rule_words
from evalsurvey.domain.assessment import grades as grade_domain
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.assessment.evidence import EvidenceTooLarge, max_bytes
from evalsurvey.domain.assessment.schemes import FindingEntry, FindingsRefused
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.files.findings_sheet import read_findings_sheet, write_findings_sheet
from evalsurvey.errors import LARGE_UPLOADS
from evalsurvey.extensions import db
from evalsurvey.i18n import _, current_lang, label, sep
from evalsurvey.models import Cycle, CycleScheme, Finding, Unit
from evalsurvey.scoring.categories import category_name
from evalsurvey.scoring.schemes import Extra, Node, Scheme, Veto
from evalsurvey.uploads import DRAIN_FACTOR, megabytes
from evalsurvey.web import run_action
from evalsurvey.xlsxread import DEFAULT_LIMITS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The grid is an evidence page (errors.EVIDENCE_PAGES): a file past the limit comes back
# beside its element with everything typed. The spreadsheet takes a workbook as large as
# the bounded reader does.
LARGE_UPLOADS.setdefault("admin.findings_sheet", DEFAULT_LIMITS.file_bytes + 64 * 1024)

STARS = re.compile(r"^(?:star(\d)|(one|two|three|four|five)_star)$")
STAR_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def grade_words(cycle: Cycle, unit_type: str, codes) -> str:
    """The grades a veto bars, by the labels of the cycle's grade rules (stars as stars)."""
    labels = grade_domain.grade_labels_of(cycle, unit_type)
    words = []
    for code in codes:
        star = STARS.match(code)
        if code in labels:
            words.append(labels[code])
        elif star:
            words.append("★" * int(star.group(1) or STAR_WORDS[star.group(2)]))
        else:
            words.append(code)
    return sep(",").join(words)


def item_words(item, cycle: Cycle, unit_type: str) -> Markup:
    """An element's, bonus's, penalty's or veto's rule in words (the pages' wording)."""
    if isinstance(item, Veto):
        text = _("发生填 1，未发生填 0；发生扣 {d} 分", d=f"{item.deduct:g}")
        if item.bars:
            text += _("，不得评为 {grades}", grades=grade_words(cycle, unit_type, item.bars))
        return Markup.escape(text)
    return Markup(rule_words(item.rule))


def value_hint(item) -> str:
    """What to type in an element's value box, as its placeholder."""
    if isinstance(item, Veto):
        return _("1 或 0")
    rule = item.rule
    if rule.type == "checklist":
        return _("缺少的项数")
    if rule.type in ("tiers", "rank_tiers"):
        return _("实测数值")
    if rule.type == "per_occurrence":
        return category_name(next(iter(rule.params["points"])), current_lang()) + ":1"
    if rule.type == "manual" and isinstance(item, Node):
        return _("0–{max} 分", max=f"{item.points:g}")
    return ""


@dataclass
class Section:
    """A first-level indicator (or the bonus, penalty and veto items) of the grid."""

    anchor: str
    title: str
    points: float | None
    rows: list  # (node or item, level)


def sections_of(scheme: Scheme) -> list[Section]:
    out = []
    for n, top in enumerate(scheme.indicators, start=1):
        nodes = [(node, level) for node, level, _p in _walk(top)]
        out.append(Section(f"sec-{n}", f"{top.code} {top.title}", top.points, nodes))
    extras = [(item, 0) for item in (*scheme.bonus, *scheme.penalties, *scheme.vetoes)]
    if extras:
        out.append(Section("sec-extras", _("加分、减分和否决项"), None, extras))
    return out


def _walk(top: Node, level: int = 1):
    yield top, level, None
    for child in top.children:
        yield from _walk(child, level + 1)


def entry_items(scheme: Scheme) -> list:
    """Everything the grid takes a value for: elements (not satisfaction ones), bonus,
    penalty and veto items, in the scheme's order."""
    elements = [e for e in scheme.elements() if e.rule is None or e.rule.type != "survey"]
    return [*elements, *scheme.bonus, *scheme.penalties, *scheme.vetoes]


def _type_of(cycle: Cycle, unit_type: str):
    results = scheme_domain.unit_type_results(cycle, unit_type)
    if results is None:
        abort(404)
    return results


@bp.route("/cycles/<int:cycle_id>/units/<int:unit_id>/findings", methods=["GET", "POST"])
@reviewers
def findings_grid(cycle_id: int, unit_id: int):
    """The unit's whole scheme on one page: a value, note and evidence file per element,
    saved at once; errors beside their elements, nothing typed lost; after saving, back
    where the save button was."""
    cycle = db.get_or_404(Cycle, cycle_id)
    unit = require_unit(db.session.get(Unit, unit_id))
    results = _type_of(cycle, unit.type)
    scheme = results.scheme
    stored = {
        f.element: f
        for f in db.session.scalars(
            select(Finding).where(Finding.cycle_id == cycle.id, Finding.unit_id == unit.id)
        )
    }
    form = grid_form([item.code for item in entry_items(scheme)], stored)
    form_problems: list[str] = []
    too_large = False
    # the section whose save button was pressed: the page comes back there
    at = form.at.data if request.method == "POST" else section(request.args.get("at", ""))
    open_ = cycle.status in scheme_domain.OPEN_FOR_FINDINGS
    if request.method == "POST":
        if not open_:
            abort(403)
        saved, form_problems, too_large = _save(form, cycle, unit)
        if saved is not None:
            flash(_("已保存 {n} 项考核记录。", n=saved))
            back = url_for("admin.findings_grid", cycle_id=cycle.id, unit_id=unit.id, at=at or None)
            return redirect(back + (f"#save-{at[4:]}" if at else ""))
    result = results.units.get(unit.code)
    progress = scheme_domain.assessment_progress(cycle, unit.type) or {}
    kind = {e.code: k for k, group in (("bonus", scheme.bonus), ("penalty", scheme.penalties),
                                        ("veto", scheme.vetoes)) for e in group}  # fmt: skip
    return render_template(
        "admin/findings_grid.html",
        cycle=cycle,
        unit=unit,
        results=results,
        result=result,
        sections=sections_of(scheme),
        stored=stored,
        problems=form.problems(),
        form_problems=form_problems,
        form=form,
        at=at,
        open_=open_,
        progress=progress.get(unit.code),
        words=lambda item: item_words(item, cycle, unit.type),
        hint=value_hint,
        kind=kind,
        evidence_note=_(forms.EVIDENCE_LABEL, mb=megabytes(max_bytes())),
        is_veto=lambda item: isinstance(item, Veto),
        is_extra=lambda item: isinstance(item, Extra | Veto),
    ), (413 if too_large else 400 if form_problems else 200)


def _check_rows(form: FindingsGridForm, cycle: Cycle, unit: Unit, codes: list[str]) -> None:
    """The domain's problems with the rows ``codes``, put on the form by their fields."""
    entries = [
        FindingEntry(unit, code, form.row(code).value.data, form.row(code).note.data,
                     form.row(code).reason.data, None, where=code)
        for code in codes
    ]  # fmt: skip
    try:
        scheme_domain.record_findings(cycle, entries, current_user.username, check_only=True)
    except FindingsRefused as refused:
        for problem in refused.problems:
            form.add_problem(problem.where, problem.field, problem.error.text(_))
    except DomainError:
        pass  # the cycle is closed and the like: said when the form's problems are fixed


def _save(form: FindingsGridForm, cycle: Cycle, unit: Unit) -> tuple[int | None, list[str], bool]:
    """Save the grid as posted, all or nothing: how many findings were written (None when
    refused), the problems for the top of the page, and whether a file was too large. Each
    item's problems go on the form by its field."""
    problems: list[str] = []
    too_large = False
    if not form.validate():
        if form.csrf_token.errors:
            problems.append(_("页面已过期，请重新填写后保存。"))
        problems.extend(form.evidence_for.errors)
    unread = form.unread()
    if unread:
        too_large = True
        problems.append(
            _(
                "一次提交的佐证材料过多（合计不能超过 {mb} MB），从 {code} 起的要素没有读到，"
                "什么也没有保存。请分几次选择文件保存。",
                mb=megabytes(DRAIN_FACTOR * max_bytes()),
                code=unread[0],
            )  # fmt: skip
        )
    by_item = form.problems()
    if by_item and not problems:
        # the rows the form took are checked by the domain too, nothing written: one save
        # names every problem (QA: "有 1 处" said, two more found on the next save)
        _check_rows(form, cycle, unit, [code for code in form.CODES if code not in by_item])
        by_item = form.problems()
        count = sum(len(m) for fields in by_item.values() for m in fields.values())
        problems.append(_("有 {n} 处需要修改，没有保存任何考核记录。", n=count))
    uploads = {} if form.evidence_for.errors else form.uploads()
    if not problems:
        entries = []
        for code in form.CODES:
            row, upload = form.row(code), uploads.get(code)
            evidence = (upload.filename, upload.read()) if upload is not None else None
            entries.append(FindingEntry(unit, code, row.value.data, row.note.data,
                                        row.reason.data, evidence, where=code))  # fmt: skip
        user = current_user.username
        done = run_action(
            scheme_domain.record_findings, cycle, entries, user, evidence_folder(), show=False
        )
        if done:
            return len(done.value), [], False
        if isinstance(done.error, FindingsRefused):
            for problem in done.error.problems:
                # a file past the limit: 413, as the other evidence pages answer
                too_large |= isinstance(problem.error, EvidenceTooLarge)
                form.add_problem(problem.where, problem.field, problem.error.text(_))
        problems.append(done.message)
    # nothing was stored: a file chosen has to be chosen again (a browser never refills it)
    for code, upload in uploads.items():
        if code not in unread:
            again = _("文件 {name} 没有保存，请重新选择。", name=upload.filename)
            form.add_problem(code, "evidence", again)
    return None, problems, too_large


# -- the spreadsheet ----------------------------------------------------------------------------


def _sheet_units(unit_type: str) -> list[Unit]:
    """The type's active units the signed-in person may record for, by code."""
    access = scope()
    return [
        u
        for u in db.session.scalars(
            select(Unit).where(Unit.type == unit_type, Unit.active.is_(True)).order_by(Unit.code)
        )
        if access.sees_unit(u)
    ]


def _assigned_types(cycle: Cycle) -> list[str]:
    return list(
        db.session.scalars(
            select(CycleScheme.unit_type)
            .where(CycleScheme.cycle_id == cycle.id)
            .order_by(CycleScheme.unit_type)
        )
    )


@bp.get("/cycles/<int:cycle_id>/findings-<unit_type>.xlsx")
@reviewers
def findings_sheet_file(cycle_id: int, unit_type: str):
    """The findings spreadsheet of one unit type, pre-filled with the current findings."""
    cycle = db.get_or_404(Cycle, cycle_id)
    results = _type_of(cycle, unit_type)
    units = _sheet_units(unit_type)
    findings = db.session.scalars(
        select(Finding).where(
            Finding.cycle_id == cycle.id, Finding.unit_id.in_([u.id for u in units])
        )
    )
    body = findings_workbook(cycle, unit_type, results, units, findings)
    return download(body, f"{cycle.code}-{unit_type}-findings.xlsx", XLSX)


def findings_workbook(cycle: Cycle, unit_type: str, results, units, findings) -> bytes:
    """The workbook in the reader's language (also for the command that writes the demo's)."""
    return write_findings_sheet(
        cycle,
        label("unit_type", unit_type),
        results.version,
        results.scheme,
        units,
        findings,
        lambda item: item_words(item, cycle, unit_type).striptags(),
        current_lang(),
    )


@bp.route("/cycles/<int:cycle_id>/findings", methods=["GET", "POST"])
@reviewers
def findings_sheet(cycle_id: int):
    """A unit type's findings by spreadsheet (download, fill in, upload), with each unit's
    progress and its grid."""
    cycle = db.get_or_404(Cycle, cycle_id)
    types = _assigned_types(cycle)
    if not types:
        abort(404)
    unit_type = request.args.get("type") or types[0]
    if unit_type not in types:
        abort(404)
    results = _type_of(cycle, unit_type)
    form = forms.FileForm()
    errors: list[tuple[str, str, str, str]] = []  # sheet, row, column, message
    message = ""
    open_ = cycle.status in scheme_domain.OPEN_FOR_FINDINGS
    if form.validate_on_submit():
        if not open_:
            abort(403)
        units = {u.code: u for u in _sheet_units(unit_type)}
        data = form.file.data.read()

        def upload():
            entries = read_findings_sheet(data, cycle, results.version, results.scheme, units)
            return scheme_domain.record_findings(cycle, entries, current_user.username)

        done = run_action(upload, show=False)
        if done:
            flash(_("已导入，{n} 项考核记录有变化。", n=len(done.value)))
            return redirect(url_for("admin.findings_sheet", cycle_id=cycle.id, type=unit_type))
        message = done.message
        if isinstance(done.error, FindingsRefused):
            for problem in done.error.problems:
                place = problem.where
                letter, header = place.column_of(problem.field)
                column = (
                    _("{letter}（{header}）", letter=letter, header=header) if header else letter
                )
                errors.append((place.sheet, str(place.row or ""), column, problem.error.text(_)))
    elif form.errors:
        message = sep(",").join(e for es in form.errors.values() for e in es)
    progress = scheme_domain.assessment_progress(cycle, unit_type) or {}
    rows = [(u, progress.get(u.code)) for u in _sheet_units(unit_type)]
    return render_template(
        "admin/findings_sheet.html",
        cycle=cycle,
        types=types,
        unit_type=unit_type,
        results=results,
        rows=rows,
        form=form,
        errors=errors,
        message=message,
        open_=open_,
    ), (400 if message else 200)


def cycle_progress(cycle: Cycle) -> list[tuple[str, list[tuple[Unit, tuple[int, int] | None]]]]:
    """Per unit type with a scheme: its units (in scope) and their elements assessed of all,
    for the cycle page."""
    access = scope()
    out = []
    for unit_type in _assigned_types(cycle):
        progress = scheme_domain.assessment_progress(cycle, unit_type) or {}
        units = [
            u
            for u in db.session.scalars(
                select(Unit)
                .where(Unit.type == unit_type, Unit.active.is_(True))
                .order_by(Unit.code)
            )
            if access.sees_unit(u)
        ]
        out.append((unit_type, [(u, progress.get(u.code)) for u in units]))
    return out
