"""Security headers on every response, and gzip for pages (phones on slow networks).

The Content-Security-Policy allows no inline script or style at all: the pages' own
``<style>`` blocks carry a per-response nonce (``csp_nonce()`` in templates), charts are
images, and there is no JavaScript to allow.
"""

from __future__ import annotations

import gzip
import secrets

from flask import Flask, current_app, g, request

COMPRESSIBLE = ("text/html", "text/csv", "application/json", "image/svg+xml")


def csp_nonce() -> str:
    """This response's nonce for inline ``<style>`` blocks (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # invitation tokens live in URLs: never send them on as a referrer
    headers.setdefault("Referrer-Policy", "no-referrer")
    nonce = csp_nonce()
    headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; "
        f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    # pages carry CSRF tokens, tickets and personal data; staff pages and every download
    # from them (send_file would say only no-cache) are never stored by a browser or proxy
    if request.path.startswith(("/admin", "/auth")):
        headers["Cache-Control"] = "no-store"
    else:
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _gzip(response):
    if (
        response.direct_passthrough
        or response.is_streamed  # get_data() would hold all of a streamed download
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or response.mimetype not in COMPRESSIBLE
        or "gzip" not in request.headers.get("Accept-Encoding", "")
    ):
        return response
    body = response.get_data()
    if len(body) < 500:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    response.headers.add("Vary", "Accept-Encoding")
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_headers)
    app.after_request(_gzip)
