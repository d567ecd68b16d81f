"""The staff blueprint and the helpers its areas share (what auth shares too: evalsurvey.web)."""

from __future__ import annotations

import io
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_login import current_user

from evalsurvey.auth.guards import STAFF_READERS, roles_required
from evalsurvey.domain.access import AccessDenied, Scope
from evalsurvey.models import Role, Unit

# shared with auth, so it lives in evalsurvey.web; kept here for the modules that import it
# from this one
from evalsurvey.web import show_error as show_error

bp = Blueprint("admin", __name__, url_prefix="/admin")
admin_only = roles_required(Role.ADMIN)
readers = roles_required(*STAFF_READERS)
reviewers = roles_required(Role.ADMIN, Role.INSPECTOR)
analysts = roles_required(Role.ADMIN, Role.INSPECTOR, Role.VIEWER)


def scope() -> Scope:
    """What the signed-in person may see (see :mod:`evalsurvey.domain.access`)."""
    return Scope.for_user(current_user)


def require_unit(unit: Unit | None) -> Unit:
    if unit is None:
        abort(404)
    try:
        return scope().require_unit(unit)
    except AccessDenied:
        abort(403)


def confirm_page(form, title: str, message: str, button: str, back: str):
    """The confirmation step before an action that cannot simply be undone (no JavaScript):
    the page states what will happen; only its form's post acts."""
    return render_template(
        "admin/confirm.html", form=form, title=title, message=message, button=button, back=back
    ), (400 if form.errors else 200)


def base_url() -> str:
    """Where printed links point: the configured public address, else this request's."""
    return current_app.config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.endswith(".localhost")


def download(data: bytes | str, name: str, mimetype: str, bom: bool = True):
    """A file download; text gets a BOM so Excel opens UTF-8 Chinese correctly (not with
    ``bom=False``: a data file for other systems, such as the interchange CSV)."""
    if isinstance(data, str):
        head = "\ufeff" if bom and not data.startswith("\ufeff") else ""
        data = head.encode() + data.encode("utf-8")
    # a file name made from codes people typed: no control character reaches the header
    name = re.sub(r"[\x00-\x1f\x7f]", "_", name)
    resp = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)
    if "charset=" in mimetype:  # Werkzeug adds its own charset to text/*: given once, as asked
        resp.headers["Content-Type"] = mimetype
    return resp


def stream_download(chunks: Iterable[str], name: str, mimetype: str):
    """A file download sent as ``chunks`` come (a generator reading the database inside the
    request's context), never built whole in memory; named as :func:`download` names it."""
    name = re.sub(r"[\x00-\x1f\x7f]", "_", name)
    resp = Response(stream_with_context(chunks), mimetype=mimetype)
    if "charset=" in mimetype:
        resp.headers["Content-Type"] = mimetype
    try:
        name.encode("ascii")
        names = {"filename": name}
    except UnicodeEncodeError:  # as Werkzeug's send_file writes it (RFC 6266 / 5987)
        plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        names = {"filename": plain, "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")}
    resp.headers.set("Content-Disposition", "attachment", **names)
    return resp


@bp.app_template_global()
def who(username: str | None) -> str:
    """A staff account (or a command) as people know it, where pages name who did something:
    "东华门街道联络员（s01）" rather than "s01". The accounts are read once per request."""
    from flask import g
    from sqlalchemy import select

    from evalsurvey.admin.audit_words import actor_words
    from evalsurvey.extensions import db
    from evalsurvey.models import StaffUser

    if not username:
        return ""
    if "staff_by_username" not in g:
        g.staff_by_username = {s.username: s for s in db.session.scalars(select(StaffUser))}
    return actor_words(username, g.staff_by_username.get(username))
