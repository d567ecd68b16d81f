"""evalsurvey: survey and third-party evaluation platform for Party-building assessment."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing evalsurvey.stats must not pull in Flask
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application.

    Configuration is layered, later layers winning: package defaults, then
    ``instance/config.py``, then ``EVALSURVEY_*`` environment variables, then
    ``test_config``.
    """
    from flask import Flask

    from evalsurvey import config as default_config

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        instance_path=os.environ.get(
            "EVALSURVEY_INSTANCE_PATH",
            os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance"),
        ),
    )
    app.config.from_object(default_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = default_config.sqlite_uri(app.instance_path)
    app.config.from_pyfile("config.py", silent=True)
    # EVALSURVEY_<KEY> variables; values that parse as JSON (numbers, true) are typed
    app.config.from_prefixed_env("EVALSURVEY")
    default_config.derive(app.config)
    if test_config is not None:
        app.config.update(test_config)
    default_config.normalise_database_url(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    # a stated number of trusted proxies, or no start (ConfigError)
    hops = app.config["PROXIES"] = default_config.proxy_hops(app.config.get("PROXIES", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # the client is the hops-th X-Forwarded-For entry from the right: what a client
        # writes to the left of the entries the proxies append is never read
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore

    from evalsurvey import logs

    logs.init_app(app)  # no log line names a respondent (before the engine is made)

    from evalsurvey import (
        admin,
        api,
        audit,
        cli,
        errors,
        extensions,
        i18n,
        ratelimit,
        reports,
        security,
        timezones,
    )
    from evalsurvey.auth import views as auth_views
    from evalsurvey.public import disclosure
    from evalsurvey.public import views as public_views

    errors.init_request_checks(app)
    extensions.init_app(app)
    ratelimit.init_app(app)
    audit.init_app(app)
    i18n.init_app(app)
    timezones.init_app(app)
    reports.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    auth_views.init_app(app)
    admin.init_app(app)
    public_views.init_app(app)
    disclosure.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app
