"""Logs that name nobody: no log line can be joined to a stored answer.

A response stores its time; an access-log line with an invitation's token (or a QR link's
code, a phone's address) and a time to the second is enough to join the two and name the
member who answered. So every log this application writes — gunicorn's access and error logs
(``evalsurvey serve``), the application's own log, the development server's
(``evalsurvey run``) — follows one rule:

* a **staff line** (``/admin…``, ``/auth…``, ``/healthz``) keeps the client address, the
  user agent, the time to the second and its path (a respondent address it mentions, e.g.
  in a referrer, redacted as below);
* **every other line** (the respondents' pages ``/s/…``, ``/i/…``, the public disclosure
  ``/p/…``, static files, anything unknown) is written without the client address, user
  agent, referrer or size, with its time cut to the hour, its query string dropped, and
  the token or code in its path replaced by ``*`` (``/i/*``, ``/s/*``, ``/s/*/thanks``).

Any text (a message, a traceback) that mentions a respondent address gets the same
redaction and its time cut to the hour. ``docs/design.md`` lists the lines the respondents'
path can produce.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

# Paths whose lines may name the client: the staff pages and the load balancer's check.
_STAFF = re.compile(r"^/(?:admin|auth)(?:[/?]|$)|^/healthz(?:\?|$)")
# A respondent address inside any text: a path /i/<token> or /s/<code>[/thanks][?query],
# on its own or in a full URL, after a start, a space, a quote or a separator.
_IN_TEXT = re.compile(
    r"(?:^|(?<=[\s\"'(=,;\[<]))"
    r"(?P<origin>(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s\"'<>]+)?)"
    r"/+(?P<kind>[is])/(?P<rest>[^\s\"'<>]*)"
)
_HOUR_SECONDS = 3600


def _replace(match: re.Match) -> str:
    rest = match["rest"].split("?", 1)[0].split("#", 1)[0]
    suffix = "/thanks" if match["kind"] == "s" and rest.rstrip("/").endswith("/thanks") else ""
    return f"{match['origin']}/{match['kind']}/*{suffix}"


def redact(text: str) -> str:
    """``text`` with every respondent address's token or code and query replaced."""
    return _IN_TEXT.sub(_replace, text)


def is_staff_path(path: str) -> bool:
    return bool(_STAFF.match(re.sub("^/+", "/", path or "")))


def public_path(path: str) -> str:
    """A non-staff request's path as logged: no query, no token or code."""
    return redact(path.split("?", 1)[0]) or "/"


def hour(seconds: float) -> float:
    return seconds - seconds % _HOUR_SECONDS


# -- gunicorn -------------------------------------------------------------------------------

# gunicorn's default ("combined") format; the atoms below decide what each field holds
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
# a public line keeps method, protocol, status and duration; not its size (a page's size
# tells which unit's questionnaire it was)
_KEPT_ATOMS = ("l", "s", "m", "H", "T", "D", "M", "L", "p")


def access_atoms(atoms: dict[str, Any], environ: dict[str, Any]) -> dict[str, Any]:
    """gunicorn's access-log fields for one request, by the rule above."""
    path = environ.get("PATH_INFO") or "/"
    if is_staff_path(path):
        return {
            **atoms,
            "r": redact(str(atoms.get("r", ""))),
            "f": redact(str(atoms.get("f", "-"))),
            "q": redact(str(atoms.get("q", ""))),
        }
    shown = public_path(path)
    fields = {key: atoms[key] for key in _KEPT_ATOMS if key in atoms}
    fields.update(
        h="-",
        u="-",
        t=time.strftime("[%d/%b/%Y:%H:00:00 %z]", time.localtime(hour(time.time()))),
        r=f"{atoms.get('m', '-')} {shown} {atoms.get('H', '-')}",
        U=shown,
        q="",
        b="-",
        f="-",
        a="-",
    )
    return fields


def gunicorn_logger_class():
    """gunicorn's logger with the rule above (imported lazily: gunicorn is the server's)."""
    from gunicorn import glogging

    class PrivateLogger(glogging.Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                _add_filter(log)
                for handler in log.handlers:
                    _add_filter(handler)

        def atoms(self, resp, req, environ, request_time):
            return access_atoms(super().atoms(resp, req, environ, request_time), environ)

    return PrivateLogger


# -- any record -----------------------------------------------------------------------------


def _in_public_request() -> bool:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - Flask is a dependency
        return False
    return has_request_context() and not is_staff_path(request.path)


class PrivateFilter(logging.Filter):
    """Rewrites a record by the rule above: its message and traceback redacted, and its time
    cut to the hour when it concerns a respondent (its text named one, or it was logged while
    answering a non-staff request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "evalsurvey_private", False):
            return True
        record.evalsurvey_private = True
        message = record.getMessage()
        redacted = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        changed = redacted != message
        for name in ("exc_text", "stack_info"):
            text = getattr(record, name, None)
            if text:
                setattr(record, name, redact(text))
                changed = changed or getattr(record, name) != text
        record.msg, record.args = redacted, ()
        if changed or _in_public_request():
            record.created = hour(record.created)
            record.msecs = 0.0
        return True


class DevServerFilter(logging.Filter):
    """The development server's request lines (``evalsurvey run``, werkzeug): its line
    ``ADDRESS - - [DATE] "METHOD PATH PROTOCOL" STATUS SIZE`` by the rule above."""

    _LINE = re.compile(r"^(?P<address>\S+) - - \[(?P<date>[^\]]*)\] (?P<rest>.*)$", re.S)
    _REQUEST = re.compile(r'^(?P<head>"(?:\x1b\[[\d;]*m)*[A-Z]+ )(?P<path>\S*)(?P<tail>.*)$', re.S)

    def filter(self, record: logging.LogRecord) -> bool:
        line = self._LINE.match(record.getMessage())
        if line is None:
            return PrivateFilter().filter(record)
        request_line = self._REQUEST.match(line["rest"])
        if request_line is not None and is_staff_path(request_line["path"]):
            record.msg, record.args = redact(record.getMessage()), ()
            return True
        if request_line is not None:
            rest = request_line["head"] + public_path(request_line["path"]) + request_line["tail"]
        else:  # an unreadable request line
            rest = redact(line["rest"])
        date = re.sub(r"(\d{2}):\d{2}:\d{2}$", r"\1:00:00", line["date"])
        record.msg, record.args = f"- - [{date}] {rest}", ()
        record.created = hour(record.created)
        record.msecs = 0.0
        return True


def _add_filter(target: logging.Filterer, kind: type[logging.Filter] = PrivateFilter) -> None:
    if not any(isinstance(f, kind) for f in target.filters):
        target.addFilter(kind())


def init_app(app) -> None:
    """The application's log, the development server's, and SQL errors without values."""
    from flask.logging import default_handler

    _add_filter(app.logger)
    _add_filter(default_handler)
    _add_filter(logging.getLogger("werkzeug"), DevServerFilter)
    # A database error's text would show the statement's values (a token, the hashes, the
    # answers and the comment) in the traceback: keep them out.
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
