"""The ``evalsurvey`` command (a Flask ``FlaskGroup``: ``run`` and ``db upgrade`` work too)."""

from __future__ import annotations

import csv
import sys
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, has_app_context
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from evalsurvey import audit
from evalsurvey.cli.api_tokens import api_token_group
from evalsurvey.cli.backup import backup_command, restore_command
from evalsurvey.cli.findings import findings_sheet_command
from evalsurvey.cli.scoring import grade_command, scheme_group, score_command
from evalsurvey.cli.serve import serve_command
from evalsurvey.domain import queries
from evalsurvey.domain.collecting import links
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.files import interchange
from evalsurvey.domain.units import ImportError_, csv_lines
from evalsurvey.extensions import db
from evalsurvey.i18n import _, in_language
from evalsurvey.models import Cycle, CycleStatus, Link, LinkMode, Role, StaffUser, Unit


def _create_app():
    from evalsurvey import create_app
    from evalsurvey.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:  # a setting the app refuses: said plainly, exit 2
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """evalsurvey: survey and third-party evaluation for Party-building assessment."""


class Refused(click.ClickException):
    """A request the command cannot carry out: its message, and exit status 2 like every
    other error of these commands (click's own exceptions exit 1)."""

    exit_code = 2


def _cycle(code: str) -> Cycle:
    cycle = queries.get_by_code(Cycle, code)
    if cycle is None:
        raise Refused(f"no cycle with code {code!r}")
    return cycle


@click.command("create-admin")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value)
@click.option("--unit", "unit_code", help="unit code, for a unit contact")
@with_appcontext
def create_admin(username: str, password: str, role: str, unit_code: str | None) -> None:
    """Create a staff user, or reset an existing one's password, role and unit."""
    from evalsurvey.domain import staff

    audit.set_cli_actor("create-admin")
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    try:
        if user is None:
            user = staff.create_staff(username, password, role, unit_code)
        else:
            staff.change_role(user, role, unit_code)
            staff.set_password(user, password)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc)
    click.echo(f"staff user {username} ({role}) is ready")


def _fail(error: DomainError) -> None:
    """A domain error for the terminal: the message, and exit status 2."""
    click.echo(f"error: {english(error.text)}", err=True)
    sys.exit(2)


def english(make):
    """``make(translate)`` with the English catalogue: commands speak English."""
    with in_language("en"):
        return make(_)


def _base_url() -> str:
    """The public address for printed links, and a warning when it will not work on a phone."""
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    host = urlsplit(base).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1") or host.startswith("127."):
        click.echo(
            f"warning: links point at {base}, which phones cannot reach; set "
            "EVALSURVEY_PUBLIC_BASE_URL to the public address before printing QR codes",
            err=True,
        )
    return base


@click.command("demo")
@click.option("--responses", default=3000, show_default=True, help="synthetic responses")
@click.option("--if-empty", is_flag=True, help="do nothing when units already exist")
@click.option("--seed", default=2026, show_default=True)
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="also an earlier cycle, closed and published (trends, change against it)",
)
@with_appcontext
def demo(responses: int, if_empty: bool, seed: int, history: bool) -> None:
    """Load a realistic demo district with links and synthetic responses."""
    from evalsurvey import demo as demo_data

    if db.session.scalar(select(func.count()).select_from(Unit)):
        if if_empty:
            click.echo("database already has data; demo not loaded")
            return
        raise click.ClickException("the database already has units; use an empty database")
    audit.set_cli_actor("demo")
    with click.progressbar(length=responses, label="synthetic responses") as bar:
        summary = demo_data.load(
            n_responses=responses, seed=seed, progress=bar.update, history=history
        )
    click.echo(summary)


@click.command("info")
@with_appcontext
def info() -> None:
    """Print how to sign in and one questionnaire URL to try."""
    base = _base_url()
    link = _open_public_link()
    click.echo(f"Staff pages:  {base}/admin/  (demo login: admin / admin-demo-2026)")
    click.echo("Unit contact: c0101 / admin-demo-2026 · office viewer: viewer / admin-demo-2026")
    click.echo(
        "Street (proposes grades): s01 · inspector (re-reviews): inspector · "
        "petitions office: petitions — same password"
    )
    if link is not None:
        click.echo(f"Rate a window: {links.link_url(base, link)}  ({link.unit.name})")
    else:
        click.echo("No questionnaire is open now: no public link of an open cycle accepts answers.")


def _open_public_link() -> Link | None:
    """The first public link that takes answers now (active, its cycle open and within its
    dates; the demo's earlier cycle is closed), a service window's where there is one."""
    query = (
        select(Link)
        .join(Cycle, Cycle.id == Link.cycle_id)
        .join(Unit, Unit.id == Link.unit_id)
        .where(
            Link.mode == LinkMode.PUBLIC,
            Link.active.is_(True),
            Cycle.status == CycleStatus.OPEN,
        )
        .order_by(Link.id)
    )
    for chosen in (query.where(Unit.type == "service_window"), query):
        found = next((link for link in db.session.scalars(chosen) if link.cycle.accepting()), None)
        if found is not None:
            return found
    return None


@click.command("links")
@click.option("--cycle", "cycle_code", required=True)
@with_appcontext
def links_command(cycle_code: str) -> None:
    """One line per link: unit, rater group, full URL."""
    cycle = _cycle(cycle_code)
    base = _base_url()
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
    try:
        with open(path, "rb") as fh:  # read as it is imported, never held whole
            n = interchange.import_responses(csv_lines(fh), cycle)
        db.session.commit()
    except ImportError_ as exc:
        db.session.rollback()
        for line in english(exc.lines):
            click.echo(f"{path}: {line}", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(2)
    except DomainError as exc:  # a value no column can hold, found when rows are stored
        db.session.rollback()
        click.echo(f"{path}: {english(exc.text)}", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(2)
    except OSError as exc:  # the file cannot be read (permissions, a device error)
        db.session.rollback()
        click.echo(f"{path}: cannot read the file ({exc.strerror or exc})", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:  # e.g. the same ids stored meanwhile by another import
        db.session.rollback()
        click.echo(f"{path}: the database refused the rows ({type(exc).__name__})", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(2)
    click.echo(f"{n} responses imported into {cycle.code}")


# What each OptionError code means, for the terminal (pages use their own catalogue).
OPTION_MESSAGES = {
    "scale_syntax": "--scale: {detail!r} is not MIN-MAX",
    "scale_order": "--scale: {detail!r} needs MAX > MIN",
    "scale_item": "--scale: {detail!r} is not a numeric item column",
    "scale_unknown": "cannot infer the scale of item {detail!r}: give --scale MIN-MAX "
    "or --scale {detail}=MIN-MAX",
    "weights_syntax": "--weights: {detail!r} is not GROUP=WEIGHT",
    "weights_number": "--weights: {detail!r} is not a number",
    "weights_negative": "--weights: {detail} must be a non-negative number",
    "weights_zero": "--weights: the weights must not all be zero",
    "weights_side": "--weights: no rater group in the data is {detail}",
    "weights_group": "--weights names rater group(s) not in the data: {detail}",
    "method": "--method must be one of mean, trimmed, adjusted",
    "min_n": "--min-n must be at least 1",
}


@main.command("analyze", with_appcontext=False)  # a file needs no app; --cycle loads it
@click.argument("responses", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--cycle", "cycle_code", help="analyze this cycle's stored responses instead")
@click.option("--unit-type", help="with --cycle: only units of this type (default: each type)")
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
    help="rater groups counted as internal for internal/external weights (file input)",
)
@click.option(
    "--rater-min-effect",
    type=click.FloatRange(0, 100),
    default=10.0,
    show_default=True,
    help="points (of 100) from the other raters before a rater is lenient or severe",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="write the report")
@click.option("--top", type=int, default=None, help="print only the first N units")
@click.pass_context
def analyze_command(
    ctx: click.Context,
    responses: str | None,
    cycle_code: str | None,
    unit_type: str | None,
    scale: str | None,
    weights: str | None,
    method: str,
    min_n: int,
    internal: str,
    rater_min_effect: float,
    json_out: str | None,
    top: int | None,
) -> None:
    """Score units, flag anomalous scoring and measure agreement.

    From an interchange CSV file (no database needed), or with --cycle from the
    database, honouring review decisions and storing the result as a run.
    """
    import json

    from evalsurvey.analysis.reader import InputError, read_responses
    from evalsurvey.analysis.report import (
        OptionError,
        Options,
        analyze,
        parse_scale,
        parse_weights,
        render_text,
    )

    if (responses is None) == (cycle_code is None):
        raise click.UsageError("give a responses CSV file or --cycle CODE (one of them)")
    try:
        parsed_weights = parse_weights(weights)
        if cycle_code is not None:
            reports = _analyze_cycle(
                ctx, cycle_code, unit_type, parsed_weights, method, min_n, rater_min_effect
            )
        else:
            default_scale, item_scales = parse_scale(scale)
            options = Options(
                scale=default_scale,
                item_scales=item_scales,
                weights=parsed_weights,
                method=method,
                min_n=min_n,
                internal_groups=frozenset(g.strip() for g in internal.split(",") if g.strip()),
                rater_min_effect=rater_min_effect,
            )
            reports = {"": analyze(read_responses(responses), options)}
    except InputError as exc:
        click.echo(f"{responses}: {exc}", err=True)
        sys.exit(2)
    except csv.Error as exc:  # a field past csv.field_size_limit() or a broken quote
        click.echo(f"{responses}: cannot read the CSV ({exc})", err=True)
        sys.exit(2)
    except OptionError as exc:
        message = OPTION_MESSAGES.get(exc.code, exc.code).format(detail=exc.detail)
        click.echo(f"error: {message}", err=True)
        sys.exit(2)
    except UnicodeDecodeError as exc:
        click.echo(f"{responses}: not UTF-8 text (byte {exc.start})", err=True)
        sys.exit(2)
    for kind, report in reports.items():
        if kind:
            click.echo(f"== unit type {kind} ==")
        if report is None:
            click.echo("no responses to analyze")
            continue
        click.echo(render_text(report, limit=top))
    if json_out:
        document = reports[""] if list(reports) == [""] else reports
        with open(json_out, "w", encoding="utf-8") as fh:
            # json.dumps, compact, is the C encoder; json.dump (to a file) and any indent
            # run the pure-Python one, 2 s on a million responses' report. People read the
            # text above; programs read this
            fh.write(json.dumps(document, ensure_ascii=False))
        click.echo(f"report written to {json_out}", err=True)


def _analyze_cycle(ctx, cycle_code, unit_type, weights, method, min_n, rater_min_effect) -> dict:
    from evalsurvey.domain.results import analysis as cycle_analysis

    app = current_app._get_current_object() if has_app_context() else None
    app = app or ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        cycle = _cycle(cycle_code)
        options = cycle_analysis.cycle_options(
            cycle, weights=weights, method=method, min_n=min_n, rater_min_effect=rater_min_effect
        )
        runs = cycle_analysis.run_analysis(
            cycle, "cli", options, [unit_type] if unit_type else None
        )
        if not runs:
            raise click.ClickException(f"cycle {cycle_code} has no responses")
        # the cycle's result reads this analysis only once its composite is recomputed
        from evalsurvey.domain.results.cycle import staleness

        for run in runs:
            stale = staleness(cycle, run.unit_type) if run.unit_type else None
            if stale and stale.changed:
                click.echo(
                    f"the stored composite of {run.unit_type} is now out of date "
                    f"({', '.join(stale.changed)}): recompute it on its composite page",
                    err=True,
                )
        return {run.unit_type: run.result for run in runs}


COMMANDS = [
    analyze_command,
    backup_command,
    restore_command,
    create_admin,
    demo,
    info,
    links_command,
    export_responses,
    import_responses,
    findings_sheet_command,
    api_token_group,
]


# file-only commands: no application or database needed
main.add_command(score_command)
main.add_command(scheme_group)
main.add_command(grade_command)
# serve builds its own application in each worker
main.add_command(serve_command)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
