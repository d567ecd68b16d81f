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


def test_units_import_from_gbk_bom_and_xlsx_with_chinese_headers(app):
    import io

    from openpyxl import Workbook

    from evalsurvey.domain.files.tables import UNIT_HEADERS, read_table

    chinese = "单位编码,单位名称,单位类型,上级单位编码\nS9,示范街道,街道,\nC91,示范社区,社区,S9\n"
    # what Excel on a Chinese Windows saves: GBK; and what it saves as "CSV UTF-8": a BOM
    for data in (chinese.encode("gbk"), ("\ufeff" + chinese).encode("utf-8")):
        created, updated = import_units(read_table("units.csv", data, UNIT_HEADERS))
        db.session.commit()
        assert (created, updated) in ((2, 0), (0, 2))
    community = db.session.scalar(select(Unit).where(Unit.code == "C91"))
    assert community.name == "示范社区" and community.type == "community"
    assert community.parent.code == "S9"
    book = Workbook()
    sheet = book.active
    sheet.append(["编码", "名称", "类型", "上级"])
    sheet.append(["C92", "第二社区", "community", "S9"])
    out = io.BytesIO()
    book.save(out)
    assert import_units(read_table("units.xlsx", out.getvalue(), UNIT_HEADERS)) == (1, 0)
    # a broken row still names its row and column
    with pytest.raises(ImportError_) as exc:
        import_units(read_table("u.csv", "单位编码,单位名称\nC93,\n".encode("gbk"), UNIT_HEADERS))
    assert exc.value.errors[0][:2] == (2, "name")
