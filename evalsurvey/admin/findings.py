"""Inspectors' findings and each unit's result, term by term."""

from __future__ import annotations

import os

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from evalsurvey.admin import forms
from evalsurvey.admin.blueprint import bp, readers, require_unit, scope
from evalsurvey.admin.composite import component_names
from evalsurvey.admin.schemes import rule_words
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.assessment.evidence import (
    MIMETYPES,
    EvidenceTooLarge,
    evidence_path,
    store_evidence,
)
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results import cycle as cycle_results
from evalsurvey.extensions import db
from evalsurvey.i18n import _
from evalsurvey.models import Cycle, CycleScheme, Finding, Role, Unit
from evalsurvey.web import run_action


@bp.get("/cycles/<int:cycle_id>/assessment")
@readers
def assessment(cycle_id: int):
    """Every unit's scheme result, per unit type (ranked within its type)."""
    cycle = db.get_or_404(Cycle, cycle_id)
    access = scope()
    types = list(
        db.session.scalars(
            select(CycleScheme.unit_type)
            .where(CycleScheme.cycle_id == cycle.id)
            .order_by(CycleScheme.unit_type)
        )
    )
    tables = []
    hidden: set[int] = set()  # units in scope whose results wait for publication
    for unit_type in types:
        results = scheme_domain.unit_type_results(cycle, unit_type)
        units = [
            u
            for u in db.session.scalars(
                select(Unit)
                .where(Unit.type == unit_type, Unit.active.is_(True))
                .order_by(Unit.code)
            )
            if access.sees_unit(u)
        ]
        hidden.update(u.id for u in units if not access.may_see_results(cycle, u))
        rows = [(u, None if u.id in hidden else results.units.get(u.code)) for u in units]
        rows.sort(key=lambda r: (r[1] is None or r[1].rank is None, r[1].rank if r[1] else 0))
        tables.append((unit_type, results, rows))
    return render_template("admin/assessment.html", cycle=cycle, tables=tables, hidden=hidden)


def _record_with_evidence(cycle: Cycle, unit: Unit, form) -> None:
    """One finding and its evidence file: both stored or neither."""
    found = scheme_domain.record_finding(
        cycle,
        unit,
        form.element.data,
        form.value.data,
        form.note.data,
        current_user.username,
        form.reason.data,
    )
    upload = form.evidence.data
    if upload is not None and getattr(upload, "filename", ""):
        store_evidence(evidence_folder(), found, upload.filename, upload.read())


@bp.route("/cycles/<int:cycle_id>/units/<int:unit_id>", methods=["GET", "POST"])
@readers
def unit_assessment(cycle_id: int, unit_id: int):
    """A unit's result, element → indicator → total, and (for inspectors) its findings."""
    cycle = db.get_or_404(Cycle, cycle_id)
    unit = require_unit(db.session.get(Unit, unit_id))
    results = scheme_domain.unit_type_results(cycle, unit.type)
    if results is None:
        abort(404)
    can_record = current_user.role in (Role.ADMIN, Role.INSPECTOR)
    form = forms.FindingForm()
    form.element.choices = [
        (item.code, f"{item.code} {item.title}")
        for item in (
            *results.scheme.elements(),
            *results.scheme.bonus,
            *results.scheme.penalties,
            *results.scheme.vetoes,
        )  # fmt: skip
        if getattr(getattr(item, "rule", None), "type", "") != "survey"
    ]
    refused = None
    if form.is_submitted():
        if not can_record:
            abort(403)
        if form.validate():
            done = run_action(_record_with_evidence, cycle, unit, form, form=form)
            if done:
                flash(_("已记录 {element}。", element=form.element.data))
                return redirect(
                    url_for("admin.unit_assessment", cycle_id=cycle.id, unit_id=unit.id)
                )
            refused = done.error
    if not scope().may_see_results(cycle, unit):
        # before publication a unit's contact sees the scheme, never its figures
        return render_template(
            "admin/unit_assessment.html",
            cycle=cycle,
            unit=unit,
            results=results,
            nodes=scheme_domain.elements_in_order(results.scheme),
            rule_words=rule_words,
            form=form,
            can_record=False,
            figures=False,
        )
    stored = {
        f.element: f
        for f in db.session.scalars(
            select(Finding).where(Finding.cycle_id == cycle.id, Finding.unit_id == unit.id)
        )
    }
    # its composite, standing score, rank, grade and groups from the cycle's one result (frozen
    # once published); the scheme total above is live, from the findings as they are now
    result_of_type = cycle_results.cycle_result(cycle, unit.type)
    combined = result_of_type.unit_result(unit.code) if result_of_type else None
    stale = cycle_results.staleness(cycle, unit.type) if scope().office else None
    return render_template(
        "admin/unit_assessment.html",
        combined=combined,
        standing=combined.standing if combined else None,
        composite_run=result_of_type.composite_run if result_of_type else None,
        stale=stale,
        recompute_type=unit.type,
        result_min_n=result_of_type.min_n if result_of_type else 5,
        names=component_names(cycle),
        cycle=cycle,
        unit=unit,
        results=results,
        result=results.units.get(unit.code),
        nodes=scheme_domain.elements_in_order(results.scheme),
        stored=stored,
        rule_words=rule_words,
        form=form,
        can_record=can_record,
        figures=True,
    ), form_status(form, refused)


def form_status(form, refused: DomainError | None) -> int:
    """A form page's status: 413 when its evidence file was too large (the page itself, with
    what was typed and the limit by the file field), 400 for any other refusal."""
    if isinstance(refused, EvidenceTooLarge):
        return 413
    return 400 if form.errors else 200


def evidence_folder() -> str:
    return current_app.config.get("EVIDENCE_FOLDER") or os.path.join(
        current_app.instance_path, "evidence"
    )


@bp.get("/findings/<int:finding_id>/evidence")
@readers
def finding_evidence(finding_id: int):
    """A finding's evidence file, only for people whose scope includes its unit."""
    found = db.get_or_404(Finding, finding_id)
    require_unit(found.unit)
    return send_evidence(found, f"{found.unit.code}-{found.element}")


def send_evidence(record, name: str):
    """A finding's or ledger item's evidence file as a download (scope checked by the caller)."""
    path = evidence_path(evidence_folder(), record)
    if path is None:
        abort(404)
    ext = os.path.splitext(path)[1]
    return send_file(path, mimetype=MIMETYPES[ext], as_attachment=True, download_name=name + ext)


def _entry(document: dict | None, code: str) -> dict | None:
    """The unit's entry in a stored run's result."""
    return next((u for u in (document or {}).get("units", []) if u["unit"] == code), None)
