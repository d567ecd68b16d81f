"""One rule for a unit, whichever way it arrives: the form, the CSV import, the command."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from evalsurvey.domain import units as unit_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import ImportError_, import_units
from evalsurvey.extensions import db
from evalsurvey.models import Unit
from tests.factories import make_unit


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ImportError_) as caught:
        import_units(text)
    db.session.rollback()
    return [(row, column) for row, column, _error in caught.value.errors]


def test_the_import_refuses_what_the_form_refuses(app):
    with pytest.raises(DomainError) as form:
        unit_domain.create_unit("窗口 1", "窗口", "service_window")
    assert form.value.field == "code"
    assert _problems("code,name,type,parent\n窗口 1,窗口,service_window,\n") == [(2, "code")]
    assert _problems("code,name,type,parent\n" + "X" * 41 + ",窗口,other,\n") == [(2, "code")]
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_a_parent_loop_in_the_file_is_named_not_a_500(app):
    text = "code,name,type,parent\nA,甲,street,B\nB,乙,street,A\n"
    assert _problems(text) == [(2, "parent"), (3, "parent")]
    # and a loop through a unit already stored
    make_unit("S1", type="street")
    assert _problems("code,name,type,parent\nW1,窗口,service_window,S1\nS1,街道,street,W1\n") == [
        (2, "parent"),
        (3, "parent"),
    ]


def test_a_unit_cannot_move_below_itself(app):
    street = make_unit("S1", type="street")
    window = make_unit("W1", parent=street)
    with pytest.raises(DomainError) as caught:
        unit_domain.update_unit(street, "S1", "街道", "street", window.code, True)
    assert caught.value.field == "parent"
