"""Responses: counts, comments, the paged and filtered list, review decisions, CSV."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.analysis import flag_sentence
from evalsurvey.admin.blueprint import (
    analysts,
    bp,
    readers,
    require_unit,
    reviewers,
    scope,
    stream_download,
)
from evalsurvey.domain import queries
from evalsurvey.domain.assessment.evidence import MIMETYPES
from evalsurvey.domain.checks import check_date, db_int
from evalsurvey.domain.collecting import responses as response_domain
from evalsurvey.domain.collecting import suspects
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.files import exports, interchange
from evalsurvey.extensions import db
from evalsurvey.i18n import LABELS, _, label, pick
from evalsurvey.models import Channel, Cycle, RaterGroup, Response, ResponseStatus, Unit
from evalsurvey.timezones import from_local
from evalsurvey.web import run_action


@bp.get("/cycles/<int:cycle_id>/responses")
@readers
def responses(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    access = scope()
    unit_code = request.args.get("unit", "")
    unit_ids = None
    if unit_code:
        unit_ids = require_unit(queries.get_by_code(Unit, unit_code)).subtree_ids()
    group = request.args.get("group", "")
    status = request.args.get("status", "")
    channel = request.args.get("channel", "")
    reason = request.args.get("reason", "")
    since, until = _day(request.args.get("from", "")), _day(request.args.get("to", ""))
    flagged = None
    if reason:
        flags = suspects.flags_of(cycle)
        flagged = {rid for rid, f in flags.items() if reason in (f.get("reasons") or [])}
    counts = queries.response_counts(cycle, access, unit_ids)
    groups = list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))
    page = queries.responses_page(
        cycle,
        access,
        unit_ids=unit_ids,
        group=group or None,
        status=status if status in set(ResponseStatus) else None,
        channel=channel if channel in set(Channel) else None,
        since=since,
        until=until + timedelta(days=1) if until else None,
        public_ids=flagged,
        page=request.args.get("page", 1, type=db_int),
    )
    return render_template(
        "admin/responses.html",
        cycle=cycle,
        counts=counts,
        blocked=queries.blocked_counts(cycle, access, unit_ids),
        groups=groups,
        readable=[g for g in groups if access.sees_rows_of(g)],
        channels=[c.value for c in Channel],
        statuses=[s.value for s in ResponseStatus],
        page=page,
        comments=queries.recent_comments(cycle, access, unit_ids),
        unit_code=unit_code,
        group=group,
        status=status,
        channel=channel,
        reason=reason,
        reasons=list(LABELS["flag"]),
        date_from=request.args.get("from", ""),
        date_to=request.args.get("to", ""),
        total=sum(c.total for c in counts),
        status_form=forms.ResponseStatusForm(),
        can_review=access.can_review,
        hidden_groups=[g for g in groups if not access.sees_rows_of(g)],
    )


def _day(raw: str):
    """A date typed in the office's zone (YYYY-MM-DD) as the UTC start of that day."""
    try:
        day = datetime.strptime(raw.strip(), "%Y-%m-%d") if raw.strip() else None
        return from_local(check_date(day, "from"))
    except (ValueError, DomainError):  # not a date, or none an assessment could be about
        return None


@bp.post("/responses/<public_id>/status")
@reviewers
def response_status(public_id: str):
    r = db.first_or_404(select(Response).where(Response.public_id == public_id))
    form = forms.ResponseStatusBackForm()
    if form.validate_on_submit():
        if run_action(response_domain.set_status, r, form.status.data):
            flash(_("答卷 {id} 已复核。", id=r.public_id))
    else:
        flash(_("不允许的状态。"))
    back = (form.back.data or "") if not form.back.errors else ""
    if not back.startswith("/admin/") or "\r" in back or "\n" in back:
        back = url_for("admin.responses", cycle_id=r.cycle_id)
    return redirect(back)


@bp.get("/cycles/<int:cycle_id>/responses.csv")
@readers
def export_csv(cycle_id: int):
    """The responses as the interchange CSV: a data file for other systems and statistics
    software, exactly the contract (cells as they are, no Excel BOM); people who open files in
    Excel are pointed to the XLSX export, whose cells cannot run."""
    cycle = db.get_or_404(Cycle, cycle_id)
    chunks = interchange.export_chunks(cycle=cycle, scope=scope())
    # streamed: sent as the rows are read, whatever their number
    return stream_download(chunks, f"responses-{cycle.code}.csv", "text/csv; charset=utf-8")


@bp.route("/cycles/<int:cycle_id>/review-queue", methods=["GET", "POST"])
@analysts
def review_queue(cycle_id: int):
    """Suspect responses by reason and unit; reviewers decide them with a reason."""
    cycle = db.get_or_404(Cycle, cycle_id)
    access = scope()
    groups = suspects.review_queue(cycle, access)
    form = forms.SuspectDecisionForm()
    if request.method == "POST":
        if not access.can_review:
            abort(403)
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                flash(_("页面已过期或来源无法验证，请返回刷新后重试。"))
            else:  # the page shows no field of its own: the first problem, flashed
                flash(next(iter(form.errors.values()))[0])
            return redirect(url_for("admin.review_queue", cycle_id=cycle.id), 303)
        chosen = form.group.data or ""
        if chosen:  # a whole group at once
            picked = [r for g in groups if g.key == chosen for r, _r, _d in g.entries]
        else:
            ids = set(form.ids.data or [])
            picked = [r for g in groups for r, _r, _d in g.entries if r.public_id in ids]
        done = run_action(suspects.decide, picked, form.decision.data or "", form.reason.data or "")
        if done:
            flash(_("已复核 {n} 份答卷，下次计算时生效。", n=done.value))
        return redirect(url_for("admin.review_queue", cycle_id=cycle.id), 303)
    return render_template(
        "admin/review_queue.html",
        cycle=cycle,
        groups=groups,
        form=form,
        can_review=access.can_review,
        flag_sentence=flag_sentence,
    )


@bp.get("/responses/<public_id>")
@readers
def response_detail(public_id: str):
    """One response as submitted: answers, comment, timings, why it was flagged, and (for
    the office) other responses from the same device."""
    access = scope()
    query = select(Response).where(Response.public_id == public_id[:40])
    found = db.session.scalar(query)
    if found is None:
        abort(404)
    if db.session.scalar(access.rows(query)) is None:
        abort(403)  # another unit's, or a group whose rows this person may not read
    flags = suspects.flags_of(found.cycle).get(found.public_id, {})
    q = found.questionnaire
    return render_template(
        "admin/response.html",
        r=found,
        items=[(item, found.answers.get(item.code)) for item in q.items],
        flags=flags,
        flag_sentence=flag_sentence,
        siblings=suspects.siblings(found, access),
        identities=access.identities,
    )


XLSX = MIMETYPES[".xlsx"]


@bp.get("/cycles/<int:cycle_id>/responses.xlsx")
@readers
def export_xlsx(cycle_id: int):
    """The responses this person may read, with unit names and question text, for Excel."""
    cycle = db.get_or_404(Cycle, cycle_id)
    labels = {
        "sheet": _("答卷"), "id": _("编号"), "unit": _("单位编码"), "unit_name": _("单位"),
        "parent": _("上级单位"), "group": _("群体"), "channel": _("渠道"), "status": _("状态"),
        "started": _("开始时间"), "submitted": _("提交时间"), "seconds": _("用时（秒）"),
        "comment": _("意见和建议"),
    }  # fmt: skip
    names = {
        "status": {s.value: label("response_status", s.value) for s in ResponseStatus},
        "channel": {c.value: label("channel", c.value) for c in Channel},
        "group": {g.code: pick(g.name, g.name_en) for g in db.session.scalars(select(RaterGroup))},
    }
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it
    exports.responses_xlsx(out, cycle, scope(), labels, names)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"responses-{cycle.code}.xlsx")  # fmt: skip


@bp.get("/cycles/<int:cycle_id>/responses.sav")
@readers
def export_sav(cycle_id: int):
    """The responses this person may read as an SPSS data file (variable and value labels),
    zlib-compressed (``.zsav``, SPSS 21 and later, PSPP, R's haven, pyreadstat): its size does
    not follow the longest comment, as the bytecode ``.sav`` did."""
    cycle = db.get_or_404(Cycle, cycle_id)
    labels = {"id": _("编号"), "unit": _("单位编码"), "unit_name": _("单位"), "group": _("群体"),
              "channel": _("渠道"), "status": _("状态"), "submitted": _("提交时间"),
              "comment": _("意见和建议")}  # fmt: skip
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it
    exports.responses_sav(out, cycle, scope(), labels)
    out.seek(0)
    return send_file(out, mimetype="application/x-spss-sav", as_attachment=True,
                     download_name=f"responses-{cycle.code}.zsav")  # fmt: skip
