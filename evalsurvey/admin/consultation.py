"""Department consultation: departments submit adjustments, the office decides."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import bp
from evalsurvey.admin.findings import evidence_folder, send_evidence
from evalsurvey.auth.guards import roles_required
from evalsurvey.domain import consultation as consultation_domain
from evalsurvey.domain.checks import db_int
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.evidence import store_evidence
from evalsurvey.domain.queries import get_by_code
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import Adjustment, Cycle, Role, Unit
from evalsurvey.web import run_action


def _submit(cycle: Cycle) -> None:
    """A department's adjustment for the unit it names, with its evidence: one action."""
    unit = get_by_code(Unit, request.form.get("unit", "").strip())
    if unit is None:
        raise DomainError("找不到该单位。", "unit")
    found = consultation_domain.submit_adjustment(
        cycle,
        unit,
        request.form.get("item", ""),
        request.form.get("value", ""),
        request.form.get("reason", ""),
        current_user.username,
    )
    upload = request.files.get("evidence")
    if upload is not None and upload.filename:
        store_evidence(evidence_folder(), found, upload.filename, upload.read())


@bp.route("/cycles/<int:cycle_id>/consultation", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.DEPARTMENT)
def consultation(cycle_id: int):
    cycle = db.get_or_404(Cycle, cycle_id)
    form = forms.ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        action = request.form.get("action", "")
        if action == "submit":
            if current_user.role != Role.DEPARTMENT:
                abort(403)
            if run_action(_submit, cycle):
                flash(_("已提交，待考核办审批。"))
        elif action in ("approve", "reject"):
            if current_user.role != Role.ADMIN:
                abort(403)
            found = db.get_or_404(Adjustment, request.form.get("adjustment", type=db_int) or 0)
            if found.cycle_id != cycle.id:
                abort(404)
            if run_action(
                consultation_domain.decide,
                found,
                action == "approve",
                request.form.get("decision", ""),
                current_user.username,
            ):
                flash(_("已处理。"))
        return redirect(url_for("admin.consultation", cycle_id=cycle.id))
    query = select(Adjustment).where(Adjustment.cycle_id == cycle.id).order_by(Adjustment.id.desc())
    if current_user.role == Role.DEPARTMENT:
        query = query.where(Adjustment.submitted_by == current_user.username)
    return render_template(
        "admin/consultation.html",
        cycle=cycle,
        rows=list(db.session.scalars(query)),
        form=form,
    )


@bp.get("/adjustments/<int:adjustment_id>/evidence")
@roles_required(Role.ADMIN, Role.INSPECTOR, Role.DEPARTMENT)
def adjustment_evidence(adjustment_id: int):
    """A department's evidence: for the office and the department that submitted it (it may
    name petitioners, so never for the unit)."""
    found = db.get_or_404(Adjustment, adjustment_id)
    if current_user.role == Role.DEPARTMENT and found.submitted_by != current_user.username:
        abort(403)
    return send_evidence(found, f"{found.unit.code}-{found.item}")
