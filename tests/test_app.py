"""The factory, configuration layers, migrations, and model-level rules."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from evalsurvey import create_app
from evalsurvey.domain.collecting import questionnaires as qdomain
from evalsurvey.extensions import db
from evalsurvey.models import Item, Link, Questionnaire, RaterGroup, Response, StaffUser, Unit
from evalsurvey.models.questionnaires import ImmutableVersionError
from tests.factories import make_questionnaire


def test_config_layers(tmp_path, monkeypatch):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text(
        "SECRET_KEY = 'from-instance'\nPUBLIC_BASE_URL = 'https://instance.example'\n"
        "DEVICE_SALT = 'instance-salt'\n"
    )
    monkeypatch.setenv("EVALSURVEY_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("EVALSURVEY_PUBLIC_BASE_URL", "https://env.example")
    monkeypatch.setenv("EVALSURVEY_DEVICE_SALT", "env-salt")
    app = create_app({"DEVICE_SALT": "test-salt"})
    assert not app.testing
    assert app.config["SECRET_KEY"] == "from-instance"  # instance over defaults
    assert app.config["PUBLIC_BASE_URL"] == "https://env.example"  # env over instance
    assert app.config["DEVICE_SALT"] == "test-salt"  # test config over env
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance}/evalsurvey.sqlite3"
    assert app.template_folder == "../templates"


def test_postgres_url_uses_psycopg3(monkeypatch, tmp_path):
    monkeypatch.setenv("EVALSURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("EVALSURVEY_DATABASE_URL", "postgresql://u@h/db")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_testing_flag():
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).testing


def test_migrations_reach_the_models(app):
    """The migrated empty database has every table, and no model change lacks a migration."""
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "units",
        "cycles",
        "rater_groups",
        "questionnaires",
        "items",
        "links",
        "invitations",
        "responses",
        "staff_users",
        "audit_log",
        "alembic_version",
    } <= tables
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_sqlite_pragmas(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_published_version_is_immutable(app):
    q = make_questionnaire()
    db.session.commit()
    q.title = "改了"
    with pytest.raises(ImmutableVersionError):
        db.session.flush()
    db.session.rollback()
    item = db.session.scalar(select(Item).where(Item.questionnaire_id == q.id))
    item.text = "改了"
    with pytest.raises(ImmutableVersionError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(qdomain.PublishedError):
        qdomain.check_editable(q)
    copy = qdomain.new_version(q)
    db.session.commit()
    assert (copy.code, copy.version, copy.published) == (q.code, 2, False)
    copy.title = "新版本可以修改"
    db.session.commit()


def test_demo_command_loads_a_working_system(app, runner):
    result = runner.invoke(args=["demo", "--responses", "1200"])  # members reach min n
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Unit)) > 30
    assert {g.code for g in db.session.scalars(select(RaterGroup))} == {
        "citizen",
        "member",
        "panel",
        "leader",
        "department",
    }
    assert db.session.scalar(select(func.count()).select_from(Response)) >= 600
    assert db.session.scalar(select(func.count()).select_from(Link)) > 0
    assert db.session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
    assert len(db.session.scalars(select(Questionnaire)).all()) == 4
    # a whole assessment: the community scheme, findings for every community, stored runs
    from evalsurvey.domain.assessment import schemes
    from evalsurvey.models import Cycle

    earlier, cycle = db.session.scalars(select(Cycle).order_by(Cycle.opens_at)).all()
    assert (earlier.code, earlier.status, cycle.code) == ("2026H1", "published", "2026H2")
    results = schemes.unit_type_results(cycle, "community")
    assert results.version.label == "COMMUNITY@1"
    assert all(r.complete and r.total is not None for r in results.units.values())
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    info = runner.invoke(args=["info"])
    assert "/s/" in info.output


def test_create_admin_command(app, runner):
    result = runner.invoke(args=["create-admin", "boss", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.username == "boss"))
    assert user.check_password("long-enough-pw") and user.password_hash != "long-enough-pw"
    short = runner.invoke(args=["create-admin", "x", "--password", "short"])
    assert short.exit_code != 0


def test_fresh_database_has_the_five_rater_groups(tmp_path):
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/f.db"})
    with app.app_context():
        upgrade()
        groups = {g.code: g.internal for g in db.session.scalars(select(RaterGroup))}
        db.session.remove()
        db.engine.dispose()
    assert groups == {
        "citizen": False,
        "member": True,
        "panel": False,
        "leader": True,
        "department": True,
    }


def test_production_cookie_and_proxy_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("EVALSURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("EVALSURVEY_SECURE_COOKIES", "1")
    monkeypatch.setenv("EVALSURVEY_PROXIES", "1")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert type(app.wsgi_app).__name__ == "ProxyFix"


def test_migrations_go_down_and_up_again(app):
    from flask_migrate import downgrade, upgrade

    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "responses" in inspect(db.engine).get_table_names()
