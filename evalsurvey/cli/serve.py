"""``evalsurvey serve``: gunicorn for production, set up for this application.

Workers follow the cores (2 × cores + 1 by default), requests time out, the access log goes
to standard output, a stop (SIGTERM) lets running requests finish, and every worker asks the
kernel to stop it when its master dies — so a killed master never leaves orphans holding the
port (they did for 15 s and more). The logs name nobody (``evalsurvey.logs``): a respondent's
request is logged without address, token or code, and to the hour.

It refuses to start (exit 2) where the rate limits would not hold: several workers each
counting the limits in its own memory (no ``EVALSURVEY_REDIS_URL``), or
``EVALSURVEY_PROXIES`` without a stated number of trusted proxies.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import signal
import sys

import click
from gunicorn.app.base import BaseApplication

from evalsurvey.logs import ACCESS_LOG_FORMAT, gunicorn_logger_class

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_master(server, worker) -> None:  # noqa: ARG001 (gunicorn's hook signature)
    """In each new worker: SIGTERM when the master goes away (Linux), then a graceful end."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: gunicorn's own parent check remains
        pass
    if os.getppid() == 1:  # the master died before the call above took effect
        os.kill(os.getpid(), signal.SIGTERM)


def settings(bind: str, workers: int | None, threads: int, timeout: int) -> dict:
    """gunicorn's settings (the serve command's, and the benchmarks')."""
    return {
        "bind": bind,
        "workers": workers or 2 * (os.cpu_count() or 1) + 1,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": gunicorn_logger_class(),
        "max_requests": 5000,
        "max_requests_jitter": 500,
        "post_fork": _die_with_master,
    }


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from evalsurvey import create_app

        return create_app()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", type=int, help="worker processes (default: 2 × cores + 1)")
@click.option("--threads", default=1, show_default=True, help="threads per worker")
@click.option(
    "--timeout", default=30, show_default=True, help="seconds before a stuck worker is restarted"
)
def serve_command(host: str, port: int, workers: int | None, threads: int, timeout: int) -> None:
    """Serve the application with gunicorn (production; behind a TLS proxy)."""
    from evalsurvey import create_app
    from evalsurvey.config import ConfigError

    options = settings(f"{host}:{port}", workers, threads, timeout)
    try:
        config = create_app().config
    except ConfigError as exc:
        _fail(str(exc))
    limited = str(config.get("RATELIMIT_ENABLED", True)).lower() not in ("false", "0", "no")
    if options["workers"] > 1 and limited and not config.get("REDIS_URL"):
        _fail(LIMITS_PER_WORKER.format(workers=options["workers"]))
    if config["PROXIES"] and not _private(host):
        click.echo(PROXIES_REACHABLE.format(hops=config["PROXIES"], host=host), err=True)
    _Server(options).run()


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _private(host: str) -> bool:
    """True for a loopback or private address (not a wildcard, not a public address)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    return not address.is_unspecified and (address.is_loopback or address.is_private)


# Several workers are several processes: rate-limit counters kept in memory are each
# worker's own, so a limit would let through up to one allowance per worker.
LIMITS_PER_WORKER = (
    "{workers} workers without EVALSURVEY_REDIS_URL would each count the rate limits alone "
    "(a phone or network could submit {workers} times its limit): set EVALSURVEY_REDIS_URL "
    "(Redis) to share the counters, or serve with --workers 1."
)
# A client that reaches the app without passing the proxy writes X-Forwarded-For itself.
PROXIES_REACHABLE = (
    "warning: EVALSURVEY_PROXIES={hops} takes the client address from X-Forwarded-For; on "
    "{host} anyone who reaches this port directly, not through the proxy, chooses the "
    "address the rate limits count. Let only the proxy reach it (a firewall), or serve on "
    "127.0.0.1 or a private address (--host)."
)
