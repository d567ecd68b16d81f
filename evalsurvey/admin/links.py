"""Links, their QR codes and posters, and invitations."""

from __future__ import annotations

import csv
import io
import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from wtforms import SelectChoice

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import (
    admin_only,
    base_url,
    bp,
    confirm_page,
    download,
    is_loopback,
    readers,
    require_unit,
    scope,
)
from evalsurvey.domain import queries
from evalsurvey.domain.assessment.evidence import MIMETYPES
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting import paper
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.files.tables import PEOPLE_HEADERS, read_table
from evalsurvey.domain.units import ImportError_
from evalsurvey.extensions import db
from evalsurvey.i18n import _, current_lang, pick
from evalsurvey.models import Cycle, Invitation, Link, LinkMode, Questionnaire, RaterGroup, Unit
from evalsurvey.web import run_action


def link_form() -> forms.LinkForm:
    form = forms.LinkForm(prefix="link")
    published = db.session.scalars(
        select(Questionnaire)
        .where(Questionnaire.published_at.is_not(None))
        .order_by(Questionnaire.code, Questionnaire.version)
    )
    form.questionnaire.choices = [
        SelectChoice(q.id, f"{q.label} {pick(q.title, q.title_en)}") for q in published
    ]
    form.rater_group.choices = [
        SelectChoice(g.id, pick(g.name, g.name_en))
        for g in db.session.scalars(select(RaterGroup).order_by(RaterGroup.id))
    ]
    return form


def _create_links(cycle, q, group, targets, form) -> tuple[int, int]:
    """A link per target unit: how many were made and how many existed already."""
    made = existing = 0
    for unit in targets:
        _link, created = link_domain.create_link(
            cycle=cycle,
            questionnaire=q,
            unit=unit,
            rater_group=group,
            mode=form.mode.data,
            record_rater=form.record_rater.data,
        )
        made += created
        existing += not created
    return made, existing


@bp.post("/cycles/<int:cycle_id>/links")
@admin_only
def create_links(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = link_form()
    if not form.validate_on_submit():
        url = base_url()
        return render_template(
            "admin/cycle.html",
            cycle=cycle,
            links=queries.cycle_links(cycle, scope()),
            link_form=form,
            moves=[],
            base_url=url,
            loopback=is_loopback(url),
        ), 400
    q = db.get_or_404(Questionnaire, form.questionnaire.data)
    group = db.get_or_404(RaterGroup, form.rater_group.data)
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
    # all of the units' links or none; a refusal is flashed on the cycle's page
    done = run_action(_create_links, cycle, q, group, targets, form)
    if not done:
        return redirect(url_for("admin.cycle", cycle_id=cycle.id))
    made, existing = done.value
    flash(_("已创建 {n} 个链接。", n=made))
    if existing:
        flash(_("{n} 个单位已有相同的链接，沿用原链接和二维码。", n=existing))
    return redirect(url_for("admin.cycle", cycle_id=cycle.id))


@bp.get("/cycles/<int:cycle_id>/posters")
@readers
def posters(cycle_id: int):
    """A4 sheets of QR posters: each with the unit's name, code and parent, so windows that
    share a name are told apart; filtered by a street (its subtree) or a unit type."""
    cycle = db.get_or_404(Cycle, cycle_id)
    url = base_url()
    within = request.args.get("within", "").strip()
    kind = request.args.get("type", "").strip()
    subtree = None
    if within:
        top = queries.get_by_code(Unit, within)
        subtree = require_unit(top).subtree_ids() if top is not None else set()
    links = [
        link
        for link in queries.cycle_links(cycle, scope())
        if link.mode == LinkMode.PUBLIC and link.active
    ]
    rows = [
        link
        for link in links
        if (subtree is None or link.unit_id in subtree) and (not kind or link.unit.type == kind)
    ]
    cards = [
        (link, link_domain.link_url(url, link), link_domain.qr_svg(link_domain.link_url(url, link)))
        for link in rows
    ]
    parents = sorted(
        {link.unit.parent for link in links if link.unit.parent is not None},
        key=lambda u: u.code,
    )
    return render_template(
        "admin/posters.html",
        cycle=cycle,
        cards=cards,
        loopback=is_loopback(url),
        base_url=url,
        parents=parents,
        types=sorted({link.unit.type for link in links}),
        within=within,
        kind=kind,
    )


@bp.get("/links/<int:link_id>/slips")
@admin_only
def invitation_slips(link_id: int):
    """A4 sheets of invitation slips to hand out at a meeting: one unused invitation each,
    with its QR code and link and cut marks. Only invitations made without a name are
    printed, in random order, so no record says who got which slip."""
    link = db.get_or_404(Link, link_id)
    if link.mode != LinkMode.INVITE:
        abort(404)
    url = base_url()
    unnamed = list(
        db.session.scalars(
            select(Invitation).where(
                Invitation.link_id == link.id,
                Invitation.used.is_(False),
                Invitation.name == "",
                Invitation.contact == "",
            )
        )
    )
    secrets.SystemRandom().shuffle(unnamed)
    slips = []
    for inv in unnamed:
        address = link_domain.invitation_url(url, inv)
        slips.append((address, link_domain.qr_svg(address)))
    return render_template(
        "admin/slips.html", link=link, slips=slips, loopback=is_loopback(url), base_url=url
    )


@bp.get("/links/<int:link_id>/qr.<fmt>")
@readers
def link_qr(link_id: int, fmt: str):
    link = db.get_or_404(Link, link_id)
    require_unit(link.unit)
    url = link_domain.link_url(base_url(), link)
    name = f"qr-{link.unit.code}-{link.rater_group.code}"
    if fmt == "png":
        return download(link_domain.qr_png(url), f"{name}.png", "image/png")
    if fmt == "svg":
        return download(link_domain.qr_svg(url).encode(), f"{name}.svg", "image/svg+xml")
    abort(404)


@bp.route("/links/<int:link_id>/close", methods=["GET", "POST"])
@admin_only
def close_link(link_id: int):
    link = db.get_or_404(Link, link_id)
    form = forms.ConfirmForm()
    if form.validate_on_submit():
        link_domain.close_link(link)
        db.session.commit()
        flash(_("链接已关闭。"))
        return redirect(url_for("admin.cycle", cycle_id=link.cycle_id))
    return confirm_page(
        form,
        _(
            "关闭链接：{unit} · {group}",
            unit=link.unit.name,
            group=pick(link.rater_group.name, link.rater_group.name_en),
        ),
        _("关闭后，扫描此二维码或打开邀请的人将无法提交。重新开放需要填写原因。"),
        _("确认关闭"),
        url_for("admin.cycle", cycle_id=link.cycle_id),
    )


@bp.route("/links/<int:link_id>/reopen", methods=["GET", "POST"])
@admin_only
def reopen_link(link_id: int):
    link = db.get_or_404(Link, link_id)
    form = forms.ReasonForm()
    if form.validate_on_submit() and run_action(
        link_domain.reopen_link, link, form.reason.data, form=form
    ):
        flash(_("链接已重新开放。"))
        return redirect(url_for("admin.cycle", cycle_id=link.cycle_id))
    return confirm_page(
        form,
        _("重新开放链接：{unit}", unit=link.unit.name),
        _("请填写重新开放的原因，它会记入操作日志。"),
        _("确认重新开放"),
        url_for("admin.cycle", cycle_id=link.cycle_id),
    )


def _create_invitations(link: Link, form: forms.InvitationForm) -> list[Invitation]:
    """Invitations for the people listed (a file, typed lines) or a number of unnamed ones."""
    upload = form.people_file.data
    if upload is not None and upload.filename:
        try:
            text = read_table(upload.filename, upload.read(), PEOPLE_HEADERS)
        except DomainError as exc:  # said by the list's own field
            exc.field = "people_file"
            raise
        people = [
            {k: (row.get(k) or "").strip() for k in PEOPLE_COLUMNS}
            for row in csv.DictReader(io.StringIO(text))
        ]
    else:
        people = _parse_people(form.people.data or "") or [{}] * (form.count.data or 0)
    return link_domain.create_invitations(link, people)


@bp.route("/links/<int:link_id>/invitations", methods=["GET", "POST"])
@admin_only
def invitations(link_id: int):
    link = db.get_or_404(Link, link_id)
    if link.mode != LinkMode.INVITE:
        abort(404)
    form = forms.InvitationForm()
    if form.validate_on_submit():
        done = run_action(_create_invitations, link, form, form=form)
        if done:
            flash(_("已生成 {n} 份邀请。", n=len(done.value)))
            return redirect(url_for("admin.invitations", link_id=link.id))
    total, used = db.session.execute(
        select(func.count(), func.count().filter(Invitation.used)).where(
            Invitation.link_id == link.id
        )
    ).one()
    return render_template("admin/invitations.html", link=link, form=form, total=total, used=used)


PEOPLE_COLUMNS = ("name", "contact", "rater_code", "rater_unit")


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
    link = db.get_or_404(Link, link_id)
    return download(
        link_domain.invitations_csv(base_url(), link, _),
        f"invitations-{link.code}.csv",
        "text/csv",
    )


@bp.route("/links/<int:link_id>/paper", methods=["GET", "POST"])
@admin_only
def paper_forms(link_id: int):
    """Type in paper forms: download the sheet, fill one row per form, upload it back."""
    link = db.get_or_404(Link, link_id)
    form = forms.FileForm(prefix="paper")
    if form.validate_on_submit():
        upload = form.file.data
        try:  # a refused file is said by its field; rows in error are listed
            done = run_action(paper.import_paper, link, upload.filename, upload.read(), form=form)
        except ImportError_ as exc:
            back = url_for("admin.paper_forms", link_id=link.id)
            return render_template("admin/import_errors.html", errors=exc.errors, back=back), 400
        if done:
            flash(_("已录入 {n} 份纸质问卷。", n=done.value))
            return redirect(url_for("admin.paper_forms", link_id=link.id))
    return render_template(
        "admin/paper.html", link=link, form=form, typed=paper.forms_typed(link)
    ), (400 if form.errors else 200)


@bp.get("/links/<int:link_id>/paper.xlsx")
@admin_only
def paper_template(link_id: int):
    link = db.get_or_404(Link, link_id)
    name = f"{link.cycle.code}-{link.unit.code}-{link.rater_group.code}-paper.xlsx"
    sheet = paper.paper_template(link, translate=_, english=current_lang() == "en")
    return download(sheet, name, MIMETYPES[".xlsx"])
