"""Staff pages. Views stay thin: the rules live in :mod:`evalsurvey.domain`."""

from __future__ import annotations

import io
import json

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from evalsurvey.admin import forms
from evalsurvey.analysis.reader import InputError
from evalsurvey.analysis.report import OptionError
from evalsurvey.auth.guards import STAFF_READERS, require_unit, roles_required, visible_unit_ids
from evalsurvey.domain import analysis as cycle_analysis
from evalsurvey.domain import interchange, links, queries
from evalsurvey.domain import questionnaires as qdomain
from evalsurvey.domain.units import ImportError_, decode_csv, import_units
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import (
    AuditLog,
    Cycle,
    CycleStatus,
    Link,
    LinkMode,
    Questionnaire,
    RaterGroup,
    Role,
    StaffUser,
    Unit,
)
from evalsurvey.models import (
    Response as SurveyResponse,
)
from evalsurvey.models.cycles import CYCLE_TRANSITIONS
from evalsurvey.models.types import utcnow
from evalsurvey.models.units import UNIT_TYPES
from evalsurvey.timezones import from_local, to_local

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.ADMIN)
readers = roles_required(*STAFF_READERS)


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


# -- dashboard -------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF_READERS, Role.PANEL)
def dashboard():
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.id.desc())))
    totals = queries.cycle_totals([c.id for c in cycles])
    return render_template("admin/dashboard.html", cycles=cycles, totals=totals)


# -- units -----------------------------------------------------------------------------


@bp.route("/units", methods=["GET", "POST"])
@admin_only
def units():
    form = forms.UnitForm()
    if form.validate_on_submit():
        unit = Unit(
            code=form.code.data, name=form.name.data, type=form.type.data, active=form.active.data
        )
        if form.parent.data:
            unit.parent = queries.get_by_code(Unit, form.parent.data)
        db.session.add(unit)
        db.session.commit()
        flash(_("已创建单位 {code}。", code=unit.code))
        return redirect(url_for("admin.units"))
    rows = db.session.scalars(select(Unit).options(selectinload(Unit.parent)).order_by(Unit.code))
    return render_template(
        "admin/units.html", form=form, units=list(rows), import_form=forms.FileForm(prefix="imp")
    )


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_unit(unit_id: int):
    unit = get_or_404(Unit, unit_id)
    form = forms.UnitForm(obj=unit, unit=unit)
    if request.method == "GET":
        form.parent.data = unit.parent.code if unit.parent else ""
    if form.validate_on_submit():
        unit.code, unit.name, unit.type = form.code.data, form.name.data, form.type.data
        unit.active = form.active.data
        unit.parent = queries.get_by_code(Unit, form.parent.data) if form.parent.data else None
        db.session.commit()
        flash(_("已保存。"))
        return redirect(url_for("admin.units"))
    return render_template("admin/unit_edit.html", form=form, unit=unit)


@bp.post("/units/import")
@admin_only
def import_units_view():
    form = forms.FileForm(prefix="imp")
    if not form.validate_on_submit():
        flash(_("请选择 CSV 文件。"))
        return redirect(url_for("admin.units"))
    try:
        created, updated = import_units(decode_csv(form.file.data.read()))
        db.session.commit()
    except ImportError_ as exc:
        db.session.rollback()
        return render_template(
            "admin/import_errors.html", errors=exc.lines(), back=url_for("admin.units")
        ), 400
    flash(_("导入完成：新增 {c} 个，更新 {u} 个。", c=created, u=updated))
    return redirect(url_for("admin.units"))


# -- rater groups ----------------------------------------------------------------------


@bp.route("/rater-groups", methods=["GET", "POST"])
@admin_only
def rater_groups():
    form = forms.RaterGroupForm()
    if form.validate_on_submit():
        db.session.add(
            RaterGroup(
                code=form.code.data,
                name=form.name.data,
                name_en=form.name_en.data or "",
                internal=form.internal.data,
            )
        )
        db.session.commit()
        return redirect(url_for("admin.rater_groups"))
    groups = db.session.scalars(select(RaterGroup).order_by(RaterGroup.id))
    return render_template("admin/rater_groups.html", form=form, groups=list(groups))


# -- questionnaires --------------------------------------------------------------------


@bp.route("/questionnaires", methods=["GET", "POST"])
@admin_only
def questionnaires():
    form = forms.FileForm()
    error = ""
    if form.validate_on_submit():
        try:
            q = qdomain.from_json(json.loads(form.file.data.read().decode("utf-8-sig")))
            db.session.add(q)
            db.session.commit()
            flash(_("已导入问卷 {label}（草稿）。", label=q.label))
            return redirect(url_for("admin.questionnaire", qid=q.id))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            error = _("文件不是有效的 UTF-8 JSON：") + str(exc)
        except qdomain.QuestionnaireError as exc:
            error = str(exc)
    rows = db.session.scalars(
        select(Questionnaire).order_by(Questionnaire.code, Questionnaire.version)
    )
    return render_template("admin/questionnaires.html", form=form, rows=list(rows), error=error), (
        400 if error else 200
    )


@bp.get("/questionnaires/<int:qid>")
@admin_only
def questionnaire(qid: int):
    q = get_or_404(Questionnaire, qid)
    return render_template("admin/questionnaire.html", q=q, choices=qdomain.choices)


@bp.route("/questionnaires/<int:qid>/edit", methods=["GET", "POST"])
@admin_only
def edit_questionnaire(qid: int):
    q = get_or_404(Questionnaire, qid)
    if q.published:
        flash(_("已发布的版本不能修改，请复制为新版本。"))
        return redirect(url_for("admin.questionnaire", qid=q.id))
    form = forms.QuestionnaireJSONForm()
    error = ""
    if form.validate_on_submit():
        try:
            qdomain.replace_draft(q, json.loads(form.definition.data))
            db.session.commit()
            flash(_("已保存。"))
            return redirect(url_for("admin.questionnaire", qid=q.id))
        except json.JSONDecodeError as exc:
            db.session.rollback()
            error = _("不是有效的 JSON：") + str(exc)
        except qdomain.QuestionnaireError as exc:
            db.session.rollback()
            error = str(exc)
    elif request.method == "GET":
        form.definition.data = json.dumps(qdomain.to_json(q), ensure_ascii=False, indent=2)
    return render_template("admin/questionnaire_edit.html", q=q, form=form, error=error), (
        400 if error else 200
    )


@bp.get("/questionnaires/<int:qid>.json")
@admin_only
def questionnaire_json(qid: int):
    q = get_or_404(Questionnaire, qid)
    body = json.dumps(qdomain.to_json(q), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{q.code}-v{q.version}.json"'},
    )


@bp.post("/questionnaires/<int:qid>/publish")
@admin_only
def publish_questionnaire(qid: int):
    q = get_or_404(Questionnaire, qid)
    try:
        qdomain.publish(q)
        db.session.commit()
        flash(_("已发布 {label}，此版本今后不可修改。", label=q.label))
    except qdomain.PublishedError:
        flash(_("该版本已经发布。"))
    return redirect(url_for("admin.questionnaire", qid=q.id))


@bp.post("/questionnaires/<int:qid>/new-version")
@admin_only
def new_questionnaire_version(qid: int):
    q = get_or_404(Questionnaire, qid)
    copy = qdomain.new_version(q)
    db.session.commit()
    flash(_("已创建新版本 {label}（草稿）。", label=copy.label))
    return redirect(url_for("admin.questionnaire", qid=copy.id))


# -- cycles and links ------------------------------------------------------------------


@bp.route("/cycles", methods=["GET", "POST"])
@admin_only
def cycles():
    form = forms.CycleForm()
    if form.validate_on_submit():
        cycle = Cycle(
            code=form.code.data,
            name=form.name.data,
            period=form.period.data,
            opens_at=_utc(form.opens_at.data),
            closes_at=_utc(form.closes_at.data),
        )
        db.session.add(cycle)
        db.session.commit()
        return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    rows = db.session.scalars(select(Cycle).order_by(Cycle.id.desc()))
    return render_template("admin/cycles.html", form=form, cycles=list(rows))


def _link_form() -> forms.LinkForm:
    form = forms.LinkForm(prefix="link")
    published = db.session.scalars(
        select(Questionnaire)
        .where(Questionnaire.published_at.is_not(None))
        .order_by(Questionnaire.code, Questionnaire.version)
    )
    form.questionnaire.choices = [SelectChoice(q.id, f"{q.label} {q.title}") for q in published]
    form.rater_group.choices = [
        SelectChoice(g.id, f"{g.code} {g.name}")
        for g in db.session.scalars(select(RaterGroup).order_by(RaterGroup.id))
    ]
    return form


def _status_form(cycle: Cycle) -> forms.CycleStatusForm:
    form = forms.CycleStatusForm(prefix="st")
    form.status.choices = [
        SelectChoice(s.value, s.value) for s in CYCLE_TRANSITIONS[CycleStatus(cycle.status)]
    ]
    return form


@bp.route("/cycles/<int:cycle_id>", methods=["GET", "POST"])
@readers
def cycle(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    link_form = _link_form()
    if request.method == "POST":
        if current_user.role != Role.ADMIN:
            abort(403)
        if link_form.validate_on_submit():
            made = _create_links(cycle, link_form)
            db.session.commit()
            flash(_("已创建 {n} 个链接。", n=made))
            return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    unit_ids = visible_unit_ids()
    return render_template(
        "admin/cycle.html",
        cycle=cycle,
        links=queries.cycle_links(cycle, unit_ids),
        link_form=link_form,
        status_form=_status_form(cycle),
        base_url=_base_url(),
    )


def _create_links(cycle: Cycle, form: forms.LinkForm) -> int:
    q = get_or_404(Questionnaire, form.questionnaire.data)
    group = get_or_404(RaterGroup, form.rater_group.data)
    if form.unit.data:
        targets = [queries.get_by_code(Unit, form.unit.data)]
    else:
        targets = list(
            db.session.scalars(
                select(Unit)
                .where(Unit.type == form.unit_type.data, Unit.active.is_(True))
                .order_by(Unit.code)
            )
        )
    for unit in targets:
        links.create_link(
            cycle=cycle,
            questionnaire=q,
            unit=unit,
            rater_group=group,
            mode=form.mode.data,
            record_rater=form.record_rater.data,
        )
    return len(targets)


_utc = from_local  # forms take the office's wall-clock time


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@admin_only
def edit_cycle(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    form = forms.CycleEditForm(obj=cycle)
    if request.method == "GET":
        for field, value in ((form.opens_at, cycle.opens_at), (form.closes_at, cycle.closes_at)):
            field.data = to_local(value).replace(tzinfo=None) if value else None
    if form.validate_on_submit():
        cycle.name = form.name.data
        cycle.opens_at, cycle.closes_at = _utc(form.opens_at.data), _utc(form.closes_at.data)
        db.session.commit()
        flash(_("已保存。"))
        return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    return render_template("admin/cycle_edit.html", form=form, cycle=cycle)


@bp.route("/staff", methods=["GET", "POST"])
@admin_only
def staff():
    form = forms.StaffForm()
    if form.validate_on_submit():
        user = StaffUser(
            username=form.username.data, name=form.name.data or "", role=form.role.data
        )
        user.unit = queries.get_by_code(Unit, form.unit.data) if form.unit.data else None
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        flash(_("已创建用户 {u}。", u=user.username))
        return redirect(url_for("admin.staff"))
    users = db.session.scalars(
        select(StaffUser).options(selectinload(StaffUser.unit)).order_by(StaffUser.username)
    )
    return render_template("admin/staff.html", form=form, users=list(users))


@bp.post("/staff/<int:user_id>/active")
@admin_only
def toggle_staff(user_id: int):
    user = get_or_404(StaffUser, user_id)
    if user.id == current_user.id:
        flash(_("不能停用自己的账号。"))
    else:
        user.active = not user.active
        db.session.commit()
        flash(_("已更新用户 {u}。", u=user.username))
    return redirect(url_for("admin.staff"))


@bp.get("/audit")
@admin_only
def audit_log():
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(300))
    return render_template("admin/audit.html", rows=list(rows))


@bp.post("/cycles/<int:cycle_id>/status")
@admin_only
def cycle_status(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    form = _status_form(cycle)
    if form.validate_on_submit():
        cycle.status = form.status.data
        if cycle.status == CycleStatus.CLOSED:
            cycle.closed_at = utcnow()
        db.session.commit()
        flash(_("周期状态已改为 {s}。", s=cycle.status))
    else:
        flash(_("不允许的状态变更。"))
    return redirect(url_for("admin.cycle", cycle_id=cycle.id))


@bp.get("/cycles/<int:cycle_id>/posters")
@readers
def posters(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    rows = [
        link
        for link in queries.cycle_links(cycle, visible_unit_ids())
        if link.mode == LinkMode.PUBLIC and link.active
    ]
    cards = [
        (link, links.link_url(_base_url(), link), links.qr_svg(links.link_url(_base_url(), link)))
        for link in rows
    ]
    return render_template("admin/posters.html", cycle=cycle, cards=cards)


@bp.get("/cycles/<int:cycle_id>/responses")
@readers
def responses(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    unit_ids = visible_unit_ids()
    unit_code = request.args.get("unit")
    if unit_code:
        unit = require_unit(queries.get_by_code(Unit, unit_code))
        unit_ids = unit.subtree_ids()
    counts = queries.response_counts(cycle, unit_ids)
    groups = list(db.session.scalars(select(RaterGroup).order_by(RaterGroup.id)))
    external_only = current_user.role == Role.UNIT_CONTACT
    recent = queries.recent_responses(cycle, unit_ids, external_only)
    comments = queries.recent_comments(cycle, unit_ids, external_only)
    return render_template(
        "admin/responses.html",
        cycle=cycle,
        counts=counts,
        groups=groups,
        channels=forms.CHANNELS,
        recent=recent,
        comments=comments,
        unit_code=unit_code or "",
        total=sum(c.total for c in counts),
        status_form=forms.ResponseStatusForm(),
    )


ANALYSTS = (Role.ADMIN, Role.INSPECTOR, Role.VIEWER)


def _analysis(cycle: Cycle):
    """(report, message, status): the report, or why there is none."""
    method = request.values.get("method", "adjusted")
    weights = request.values.get("weights", "").strip() or None
    unit_type = request.values.get("type") or None
    try:
        report = cycle_analysis.analyze_cycle(
            cycle, method=method, weights=weights, unit_type=unit_type
        )
        return report, "", 200
    except InputError:
        return None, _("还没有可分析的答卷。"), 200
    except OptionError as exc:
        return None, _("参数有误：") + str(exc), 400


@bp.get("/cycles/<int:cycle_id>/analysis")
@roles_required(*ANALYSTS)
def analysis(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    report, message, status = _analysis(cycle)
    suspects = [r for r in report["responses"] if r["suspect"]] if report else []
    return render_template(
        "admin/analysis.html",
        cycle=cycle,
        report=report,
        message=message,
        suspects=suspects,
        method=request.args.get("method", "adjusted"),
        weights=request.args.get("weights", ""),
        unit_type=request.args.get("type", ""),
        unit_types=UNIT_TYPES,
    ), status


@bp.post("/cycles/<int:cycle_id>/analysis/mark")
@roles_required(Role.ADMIN, Role.INSPECTOR)
def mark_suspects(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    report, message, _status = _analysis(cycle)
    if report is None:
        flash(message)
    else:
        changed = cycle_analysis.mark_suspects(report)
        db.session.commit()
        flash(_("已将 {n} 份答卷标记为可疑，待人工复核。", n=changed))
    return redirect(url_for("admin.analysis", cycle_id=cycle.id))


@bp.get("/cycles/<int:cycle_id>/responses.csv")
@readers
def export_csv(cycle_id: int):
    cycle = get_or_404(Cycle, cycle_id)
    out = io.StringIO()
    interchange.export_responses(
        out,
        cycle=cycle,
        unit_ids=visible_unit_ids(),
        external_only=current_user.role == Role.UNIT_CONTACT,
    )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="responses-{cycle.code}.csv"'},
    )


@bp.post("/responses/<public_id>/status")
@roles_required(Role.ADMIN, Role.INSPECTOR)
def response_status(public_id: str):
    r = db.session.scalar(select(SurveyResponse).where(SurveyResponse.public_id == public_id))
    if r is None:
        abort(404)
    form = forms.ResponseStatusForm()
    if form.validate_on_submit():
        r.status = form.status.data
        db.session.commit()
        flash(_("答卷 {id} 状态已改为 {s}。", id=r.public_id, s=r.status))
    return redirect(url_for("admin.responses", cycle_id=r.cycle_id))


@bp.get("/links/<int:link_id>/qr.<fmt>")
@readers
def link_qr(link_id: int, fmt: str):
    link = get_or_404(Link, link_id)
    require_unit(link.unit)
    url = links.link_url(_base_url(), link)
    name = f"qr-{link.unit.code}-{link.rater_group.code}"
    if fmt == "png":
        return Response(
            links.qr_png(url),
            mimetype="image/png",
            headers={"Content-Disposition": f'attachment; filename="{name}.png"'},
        )
    if fmt == "svg":
        return Response(
            links.qr_svg(url),
            mimetype="image/svg+xml",
            headers={"Content-Disposition": f'attachment; filename="{name}.svg"'},
        )
    abort(404)


@bp.post("/links/<int:link_id>/close")
@admin_only
def close_link(link_id: int):
    link = get_or_404(Link, link_id)
    link.active = False
    link.closed_at = utcnow()
    db.session.commit()
    flash(_("链接已关闭。"))
    return redirect(url_for("admin.cycle", cycle_id=link.cycle_id))


@bp.route("/links/<int:link_id>/invitations", methods=["GET", "POST"])
@admin_only
def invitations(link_id: int):
    link = get_or_404(Link, link_id)
    if link.mode != LinkMode.INVITE:
        abort(404)
    form = forms.InvitationForm()
    if form.validate_on_submit():
        people = _parse_people(form.people.data or "") or [{}] * (form.count.data or 0)
        made = links.create_invitations(link, people)
        db.session.commit()
        flash(_("已生成 {n} 份邀请。", n=len(made)))
        return redirect(url_for("admin.invitations", link_id=link.id))
    total = len(
        link_invitations := list(
            db.session.scalars(select(links.Invitation).where(links.Invitation.link_id == link.id))
        )
    )
    used = sum(1 for i in link_invitations if i.used)
    return render_template("admin/invitations.html", link=link, form=form, total=total, used=used)


def _parse_people(text: str) -> list[dict[str, str]]:
    people = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")] + ["", "", "", ""]
        people.append(
            {"name": parts[0], "contact": parts[1], "rater_code": parts[2], "rater_unit": parts[3]}
        )
    return people


@bp.get("/links/<int:link_id>/invitations.csv")
@admin_only
def invitations_csv(link_id: int):
    link = get_or_404(Link, link_id)
    return Response(
        links.invitations_csv(_base_url(), link),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="invitations-{link.code}.csv"'},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
