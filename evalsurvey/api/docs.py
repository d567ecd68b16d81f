"""The browsable API document: Swagger UI's own files from the installed ``swagger-ui-py``
package, served by the app (no CDN: the office's and users' browsers may be offline), and
started by a static script, since the Content-Security-Policy allows no inline script."""

from __future__ import annotations

import os

import swagger_ui
from flask import abort, render_template, send_from_directory

from evalsurvey.api import bp, openapi_document

ASSETS = os.path.join(os.path.dirname(swagger_ui.__file__), "static")
SERVED = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
    }
)


@bp.get("/openapi.json")
def openapi_json():
    return openapi_document()


@bp.get("/docs")
def docs():
    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):
    if name not in SERVED:
        abort(404)
    response = send_from_directory(ASSETS, name, max_age=24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
