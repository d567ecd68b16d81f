"""``evalsurvey serve``: gunicorn for production, set up for this application.

Workers follow the cores (2 × cores + 1 by default), requests time out, the access log goes
to standard output, a stop (SIGTERM) lets running requests finish, and every worker asks the
kernel to stop it when its master dies — so a killed master never leaves orphans holding the
port (they did for 15 s and more).
"""

from __future__ import annotations

import ctypes
import os
import signal

import click
from gunicorn.app.base import BaseApplication

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
    options = settings(f"{host}:{port}", workers, threads, timeout)
    if options["workers"] > 1:
        from evalsurvey import create_app

        if not create_app().config.get("REDIS_URL"):
            click.echo(LIMITS_PER_WORKER.format(workers=options["workers"]), err=True)
    _Server(options).run()


# Several workers are several processes: rate-limit counters kept in memory are each
# worker's own, so a limit would let through up to one allowance per worker.
LIMITS_PER_WORKER = (
    "warning: {workers} workers without EVALSURVEY_REDIS_URL: each worker counts the rate "
    "limits alone, so a phone or network may submit up to {workers} times its limit. "
    "Set EVALSURVEY_REDIS_URL (Redis) to share the counters, or serve with --workers 1."
)
