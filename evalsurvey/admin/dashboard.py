"""The staff home page: cycles and how many responses each has (in the person's scope)."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from evalsurvey.admin.blueprint import bp, scope
from evalsurvey.auth.guards import STAFF_READERS, roles_required
from evalsurvey.domain import queries
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Role


@bp.get("/")
@roles_required(*STAFF_READERS, Role.PANEL, Role.DEPARTMENT)
def dashboard():
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.id.desc())))
    totals = queries.cycle_totals([c.id for c in cycles], scope())
    return render_template("admin/dashboard.html", cycles=cycles, totals=totals)
