"""``evalsurvey findings-sheet``: a cycle's findings spreadsheet for one unit type, as the
staff page downloads it (how the demo's filled spreadsheet in ``docs/examples/`` is made)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.i18n import in_language
from evalsurvey.models import Cycle, Finding, Unit


@click.command("findings-sheet")
@click.option("--cycle", "cycle_code", required=True, help="cycle code")
@click.option("--unit-type", required=True, help="unit type with a scheme in the cycle")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@with_appcontext
def findings_sheet_command(cycle_code: str, unit_type: str, out_path: str, lang: str) -> None:
    """Write the findings spreadsheet of every active unit of a type, filled with the
    cycle's findings so far (fill it in and upload it on the cycle's findings page)."""
    from evalsurvey.admin.findings_bulk import findings_workbook
    from evalsurvey.domain.assessment import schemes as scheme_domain

    cycle = db.session.scalar(select(Cycle).where(Cycle.code == cycle_code))
    if cycle is None:
        raise click.ClickException(f"no cycle with code {cycle_code!r}")
    results = scheme_domain.unit_type_results(cycle, unit_type)
    if results is None:
        raise click.ClickException(f"cycle {cycle_code} has no scheme for {unit_type!r}")
    units = list(
        db.session.scalars(
            select(Unit).where(Unit.type == unit_type, Unit.active.is_(True)).order_by(Unit.code)
        )
    )
    findings = db.session.scalars(
        select(Finding).where(
            Finding.cycle_id == cycle.id, Finding.unit_id.in_([u.id for u in units])
        )
    )
    with in_language(lang):
        body = findings_workbook(cycle, unit_type, results, units, findings)
    Path(out_path).write_bytes(body)
    click.echo(f"{out_path}: {len(units)} units")
