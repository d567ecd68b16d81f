"""Exports that open in Excel: responses as XLSX re-read equal to the database, results as
XLSX and CSV, and formula-injection payloads exported inert but readable."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Response, Unit
from evalsurvey.timezones import to_local
from tests.factories import login

PASSWORD = "admin-demo-2026"
PAYLOAD = '=HYPERLINK("http://evil.example","点我")'


def test_responses_xlsx_reads_back_equal_to_the_database(app, client):
    demo.load(n_responses=300, seed=2)
    cycle = db.session.scalar(select(Cycle))
    target = next(
        r
        for r in db.session.scalars(select(Response).where(Response.device != ""))
        if r.answers.get("attitude") is not None
    )
    target.comment = PAYLOAD  # a citizen typed a formula
    db.session.commit()
    login(client, "admin", PASSWORD)
    with client.get(f"/admin/cycles/{cycle.id}/responses.xlsx") as got:
        assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store"
        data = got.data
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "编号" and header[2] == "单位" and sheet.freeze_panes == "A2"
    assert any(h and h.startswith("attitude 工作人员服务态度") for h in header)
    stored = {r.public_id: r for r in db.session.scalars(select(Response))}
    assert len(body) == len(stored)
    by_id = {row[0]: row for row in body}
    r = stored[target.public_id]
    row = by_id[r.public_id]
    assert row[1] == r.unit.code and row[2] == r.unit.name
    # a real Excel date, the office's wall clock to the second
    assert row[8] == to_local(r.submitted_at).replace(tzinfo=None, microsecond=0)
    col = header.index(next(h for h in header if h.startswith("attitude ")))
    assert row[col] == r.answers["attitude"] and isinstance(row[col], int)  # a number
    assert row[-1] == "'" + PAYLOAD  # readable as typed, behind the apostrophe...
    cell = next(c for c in sheet.iter_rows(min_row=2) if c[0].value == r.public_id)[-1]
    assert cell.data_type == "s"  # ...and stored as text, never a formula


def test_results_exports_and_csv_neutralises_formulas(app, client):
    demo.load(n_responses=300, seed=2)
    cycle = db.session.scalar(select(Cycle))
    unit = db.session.scalar(select(Unit).where(Unit.code == "C0101"))
    unit.name = "=1+2 社区"
    db.session.commit()
    login(client, "admin", PASSWORD)
    text = client.get(f"/admin/cycles/{cycle.id}/results.csv?type=community").data.decode(
        "utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["排名", "单位编码", "单位", "得分"] and len(rows) == 13
    named = next(r for r in rows if r[1] == "C0101")
    assert named[2] == "'=1+2 社区"  # Excel shows =1+2 社区 as text, never computes it
    assert all(r[5].startswith("得分") for r in rows[1:])  # every grade with its reason
    book = load_workbook(io.BytesIO(client.get(
        f"/admin/cycles/{cycle.id}/results.xlsx?type=community").data))  # fmt: skip
    cells = [c for c in book.active.iter_rows(min_row=2) if c[1].value == "C0101"][0]
    assert cells[2].value == "'=1+2 社区" and cells[2].data_type == "s"
    assert isinstance(cells[3].value, float)
    # a unit contact gets no file before publication but the page saying why (then only
    # their own unit's row: see tests/test_authorization.py)
    contact = app.test_client()
    login(contact, "c0101", PASSWORD)
    got = contact.get(f"/admin/cycles/{cycle.id}/results.csv?type=community", follow_redirects=True)
    assert "公示后在这里显示，并可导出" in got.get_data(as_text=True)


def test_responses_sav_has_labels_and_the_answers(app, client, tmp_path):
    import pyreadstat

    demo.load(n_responses=200, seed=2)
    cycle = db.session.scalar(select(Cycle))
    login(client, "admin", PASSWORD)
    with client.get(f"/admin/cycles/{cycle.id}/responses.sav") as got:
        assert got.status_code == 200
        # zlib-compressed: the size does not follow the longest comment (issue 17)
        assert got.data[:4] == b"$FL3" and got.headers["Content-Disposition"].endswith(".zsav")
        path = tmp_path / "r.zsav"
        path.write_bytes(got.data)
    frame, meta = pyreadstat.read_sav(str(path))
    stored = {r.public_id: r for r in db.session.scalars(select(Response))}
    assert len(frame) == len(stored)
    assert meta.column_names_to_labels["attitude"] == "工作人员服务态度"
    assert meta.variable_value_labels["attitude"][5.0] == "非常满意"
    first = frame.iloc[0]
    r = stored[first["id"]]
    expected = r.answers.get("attitude")
    assert (expected is None and frame["attitude"].isna().iloc[0]) or first["attitude"] == expected
    assert first["unit_name"] == r.unit.name


def test_results_before_any_computation_lead_back_to_where_they_are_computed(app, client):
    from tests.factories import make_cycle, make_staff

    cycle = make_cycle()
    make_staff("adm")
    login(client, "adm")
    got = client.get(f"/admin/cycles/{cycle.id}/results.csv?type=community", follow_redirects=True)
    assert got.status_code == 200 and "还没有计算结果" in got.get_data(as_text=True)


def test_a_cycle_without_responses_exports_empty_files_and_its_unit_dashboard_answers(
    app, client, tmp_path
):
    import pyreadstat

    from tests.factories import make_cycle, make_staff, make_unit

    cycle, unit = make_cycle(), make_unit("W9")
    make_staff("boss")
    login(client, "boss", "secret-pass-1")
    with client.get(f"/admin/cycles/{cycle.id}/responses.sav") as got:
        assert got.status_code == 200
        (tmp_path / "empty.sav").write_bytes(got.data)
    frame, _meta = pyreadstat.read_sav(str(tmp_path / "empty.sav"))
    assert len(frame) == 0 and "comment" in frame.columns
    with client.get(f"/admin/cycles/{cycle.id}/responses.xlsx") as got:
        assert got.status_code == 200
        rows = list(load_workbook(io.BytesIO(got.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1  # the header only
    page = client.get(f"/admin/cycles/{cycle.id}/units/{unit.id}/dashboard")
    assert page.status_code == 200 and "还没有计算结果。" in page.get_data(as_text=True)
