"""Flask extensions, created unbound and bound in the app factory."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic batch migrations work on SQLite.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    # WAL lets readers work while a respondent's write commits; FKs are off by default.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def init_app(app: Flask) -> None:
    from evalsurvey import models  # noqa: F401  (register the tables)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=app.config.get("MIGRATIONS_DIR", _migrations_dir()),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    # Flask-Login's own context processor loads the user for every template; a citizen's
    # page never shows one, and loading it marks their session changed (a cookie re-signed
    # and re-sent on the thank-you page). The proxy loads it where a template asks.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.localize_callback = _translate


def _migrations_dir() -> str:
    import os

    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def _translate(message: str) -> str:
    from evalsurvey.i18n import _

    return _(message)
