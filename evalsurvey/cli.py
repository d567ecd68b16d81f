"""The ``evalsurvey`` command (a Flask ``FlaskGroup``: ``run`` and ``db upgrade`` work too)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from evalsurvey import audit
from evalsurvey.domain import interchange, links, queries
from evalsurvey.domain.units import ImportError_, decode_csv
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Link, LinkMode, Role, StaffUser, Unit


def _create_app():
    from evalsurvey import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """evalsurvey: survey and third-party evaluation for Party-building assessment."""


def _cycle(code: str) -> Cycle:
    cycle = queries.get_by_code(Cycle, code)
    if cycle is None:
        raise click.ClickException(f"no cycle with code {code!r}")
    return cycle


@click.command("create-admin")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value)
@click.option("--unit", "unit_code", help="unit code, for a unit contact")
@with_appcontext
def create_admin(username: str, password: str, role: str, unit_code: str | None) -> None:
    """Create (or reset the password of) a staff user."""
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        user = StaffUser(username=username, role=role)
        db.session.add(user)
    user.role = role
    if unit_code:
        unit = queries.get_by_code(Unit, unit_code)
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
        user.unit = unit
    user.set_password(password)
    db.session.commit()
    click.echo(f"staff user {username} ({role}) is ready")


@click.command("demo")
@click.option("--responses", default=3000, show_default=True, help="synthetic responses")
@click.option("--if-empty", is_flag=True, help="do nothing when units already exist")
@click.option("--seed", default=2026, show_default=True)
@with_appcontext
def demo(responses: int, if_empty: bool, seed: int) -> None:
    """Load a realistic demo district with links and synthetic responses."""
    from evalsurvey.domain import demo as demo_data

    if db.session.scalar(select(func.count()).select_from(Unit)):
        if if_empty:
            click.echo("database already has data; demo not loaded")
            return
        raise click.ClickException("the database already has units; use an empty database")
    audit.set_cli_actor("demo")
    with click.progressbar(length=responses, label="synthetic responses") as bar:
        summary = demo_data.load(n_responses=responses, seed=seed, progress=bar.update)
    click.echo(summary)


@click.command("info")
@with_appcontext
def info() -> None:
    """Print how to sign in and one questionnaire URL to try."""
    base = current_app.config["PUBLIC_BASE_URL"]
    link = db.session.scalar(
        select(Link).where(Link.mode == LinkMode.PUBLIC, Link.active.is_(True)).order_by(Link.id)
    )
    click.echo(f"Staff pages:  {base}/admin/  (demo login: admin / admin-demo-2026)")
    if link is not None:
        click.echo(f"Rate a window: {links.link_url(base, link)}  ({link.unit.name})")


@click.command("links")
@click.option("--cycle", "cycle_code", required=True)
@with_appcontext
def links_command(cycle_code: str) -> None:
    """One line per link: unit, rater group, full URL."""
    cycle = _cycle(cycle_code)
    base = current_app.config["PUBLIC_BASE_URL"]
    for link in queries.cycle_links(cycle):
        url = links.link_url(base, link) if link.mode == LinkMode.PUBLIC else "(invitations only)"
        click.echo(f"{link.unit.code}\t{link.rater_group.code}\t{url}")


@click.command("export-responses")
@click.option("--cycle", "cycle_code", help="only this cycle")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="-", show_default=True)
@with_appcontext
def export_responses(cycle_code: str | None, out_path: str) -> None:
    """Write responses as the interchange CSV."""
    cycle = _cycle(cycle_code) if cycle_code else None
    if out_path == "-":
        interchange.export_responses(sys.stdout, cycle=cycle)
        return
    with (
        open(out_path, "w", encoding="utf-8", newline="") as out,
        click.progressbar(length=0, label="exporting", show_pos=True) as bar,
    ):
        n = interchange.export_responses(out, cycle=cycle, progress=bar.update)
    click.echo(f"{n} responses written to {out_path}", err=True)


@click.command("import-responses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--cycle", "cycle_code", required=True)
@with_appcontext
def import_responses(path: str, cycle_code: str) -> None:
    """Read interchange CSV (paper forms, other channels); all rows or none."""
    cycle = _cycle(cycle_code)
    audit.set_cli_actor("import-responses")
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        n = interchange.import_responses(decode_csv(data), cycle)
        db.session.commit()
    except ImportError_ as exc:
        db.session.rollback()
        for line in exc.lines():
            click.echo(f"{path}: {line}", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(2)
    click.echo(f"{n} responses imported into {cycle.code}")


@main.command("analyze")
@click.argument("responses", type=click.Path(exists=True, dir_okay=False))
@click.option("--scale", help="item scale: MIN-MAX, ITEM=MIN-MAX,… or both (default: inferred)")
@click.option("--weights", help="GROUP=W,… or internal=W,external=W (default: equal)")
@click.option(
    "--method",
    type=click.Choice(["mean", "trimmed", "adjusted"]),
    default="adjusted",
    show_default=True,
    help="score for identified raters (panels); anonymous groups use the mean",
)
@click.option("--min-n", default=5, show_default=True, help="fewest responses to score a unit")
@click.option(
    "--internal",
    default="member,leader,department",
    show_default=True,
    help="rater groups counted as internal for internal/external weights",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="write the report")
@click.option("--top", type=int, default=None, help="print only the first N units")
def analyze_command(
    responses: str,
    scale: str | None,
    weights: str | None,
    method: str,
    min_n: int,
    internal: str,
    json_out: str | None,
    top: int | None,
) -> None:
    """Score units, flag anomalous scoring and measure agreement from an interchange CSV."""
    import json

    from evalsurvey.analysis.reader import InputError, read_responses
    from evalsurvey.analysis.report import OptionError, Options, analyze, render_text

    try:
        table = read_responses(responses)
        report = analyze(
            table,
            Options(
                scale=scale,
                weights=weights,
                method=method,
                min_n=min_n,
                internal_groups=frozenset(g.strip() for g in internal.split(",") if g.strip()),
            ),
        )
    except InputError as exc:
        click.echo(f"{responses}: {exc}", err=True)
        sys.exit(2)
    except OptionError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except UnicodeDecodeError as exc:
        click.echo(f"{responses}: not UTF-8 text (byte {exc.start})", err=True)
        sys.exit(2)
    click.echo(render_text(report, limit=top))
    if json_out:
        with open(json_out, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=1)
        click.echo(f"report written to {json_out}", err=True)


COMMANDS = [create_admin, demo, info, links_command, export_responses, import_responses]


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
