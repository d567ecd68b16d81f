"""Security headers on every response, and gzip for pages (phones on slow networks)."""

from __future__ import annotations

import gzip

from flask import Flask, request

COMPRESSIBLE = ("text/html", "text/csv", "application/json", "image/svg+xml")


def _headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # invitation tokens live in URLs: never send them on as a referrer
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
    )
    return response


def _gzip(response):
    if (
        response.direct_passthrough
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
    app.after_request(_headers)
    app.after_request(_gzip)
