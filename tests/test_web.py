"""evalsurvey.web.run_action: the one way a view runs a domain action in a transaction."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import select
from wtforms import StringField

from evalsurvey.domain import units as unit_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.models import Unit
from evalsurvey.web import CheckedForm, run_action


class CodeForm(CheckedForm):
    code = StringField()


def _stored(code: str) -> bool:
    db.session.rollback()  # only what was committed
    return db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None


def _create_then_refuse() -> None:
    """A unit written, then the same action refused: nothing of it may stay."""
    unit_domain.create_unit("HALF", "半途", "community")
    unit_domain.create_unit("BAD CODE", "坏", "community")


def test_an_action_that_returns_is_committed_and_its_value_kept(app):
    with app.test_request_context(method="POST"):
        done = run_action(unit_domain.create_unit, "U1", "单位", "community")
        assert done and done.error is None and done.message == ""
        assert done.value.code == "U1"
        assert _stored("U1")
        assert get_flashed_messages() == []


def test_a_refusal_is_rolled_back_and_shown_by_its_field(app):
    with app.test_request_context(method="POST"):
        form = CodeForm(meta={"csrf": False})
        done = run_action(_create_then_refuse, form=form)
        assert not done and isinstance(done.error, DomainError)
        assert form.code.errors == [done.message] and "编码" in done.message
        assert form.form_errors == [] and get_flashed_messages() == []
        assert not _stored("HALF")


def test_a_refusal_naming_no_field_of_the_form_goes_on_the_form(app):
    def refuse():
        raise DomainError("该版本已经发布。")

    with app.test_request_context(method="POST"):
        form = CodeForm(meta={"csrf": False})
        assert not run_action(refuse, form=form)
        assert form.form_errors == ["该版本已经发布。"] and not form.code.errors


def test_without_a_form_the_refusal_is_flashed(app):
    with app.test_request_context(method="POST"):
        done = run_action(_create_then_refuse)
        assert not done
        assert get_flashed_messages() == [done.message]
        assert not _stored("HALF")


def test_show_false_leaves_the_message_to_the_caller(app):
    with app.test_request_context(method="POST"):
        form = CodeForm(meta={"csrf": False})
        done = run_action(_create_then_refuse, form=form, show=False)
        assert not done and done.message
        assert form.errors == {} and get_flashed_messages() == []
        assert not _stored("HALF")


def test_any_other_exception_is_raised_again_after_the_rollback(app):
    def fail():
        unit_domain.create_unit("HALF", "半途", "community")
        raise LookupError("not a person's mistake")

    with app.test_request_context(method="POST"):
        with pytest.raises(LookupError):
            run_action(fail)
        assert not db.session.new  # rolled back before it went on
        assert not _stored("HALF")


def test_keyword_arguments_reach_the_action(app):
    with app.test_request_context(method="POST"):
        done = run_action(unit_domain.create_unit, "U2", "单位", kind="community")
        assert done.value.type == "community"
