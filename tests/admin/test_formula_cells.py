"""No live formula in any spreadsheet the app writes (issue 20, item 6).

Every CSV and XLSX download, with names, titles, comments and unit names seeded with formula
payloads, on both databases: each XLSX has no formula cell (no ``<f>`` in its XML, no cell
openpyxl reads as a formula) and no text cell beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return; each CSV for Excel likewise; the payloads are still there, behind a
quote. The downloads:

- ``/admin/cycles/<c>/responses.xlsx`` (unit and parent names, group names, comments);
- ``/admin/cycles/<c>/results.csv`` and ``results.xlsx`` (unit names);
- ``/admin/links/<l>/invitations.csv`` (names, contacts);
- ``/admin/links/<l>/paper.xlsx`` (question texts, the unit's name) — read back by the import;
- ``/admin/schemes/<s>.xlsx`` (scheme, indicator and bonus titles, notes) — read back equal;
- ``/admin/cycles/<c>/responses.csv``: the interchange CSV, the one exception: its exact
  contract, served as a data file without the Excel BOM, imported back as it is.

(``responses.sav`` is an SPSS file, not a spreadsheet; questionnaire and scheme JSON, QR codes
and PDFs are not opened in a spreadsheet program; evidence files are served as uploaded.)
"""

from __future__ import annotations

import copy
import csv
import io
import json
import zipfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from evalsurvey import demo
from evalsurvey.cells import DANGEROUS
from evalsurvey.domain.assessment import schemes as scheme_domain
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting import paper
from evalsurvey.domain.files import interchange
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Item, LinkMode, RaterGroup, Response, Unit
from evalsurvey.scoring.workbook import read_workbook
from tests.factories import (
    SIMPLE_QUESTIONNAIRE,
    login,
    make_cycle,
    make_link,
    make_questionnaire,
    make_response,
    make_staff,
)

PAYLOADS = ['=HYPERLINK("http://x")', "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"]
DEMO_PASSWORD = "admin-demo-2026"
SCHEME = Path(__file__).resolve().parents[2] / "evalsurvey/data/schemes/agency_branch_004.json"


def _quoted(payload: str) -> set[str]:
    """How an inert payload may read back: behind a quote (XML turns a CR into a LF)."""
    return {"'" + payload, "'" + payload.replace("\r", "\n")}


def xlsx_texts(data: bytes) -> list[str]:
    """Every text cell of every sheet, after checking that none is or may become a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.endswith(".xml"):
                xml = package.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, name
    book = load_workbook(io.BytesIO(data))
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGEROUS), (sheet.title, cell.coordinate)
                    texts.append(cell.value)
    return texts


def csv_rows(data: bytes) -> list[list[str]]:
    """A CSV for Excel: its rows, after checking the BOM and that no cell begins like a
    formula."""
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Chinese with it
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    for row in rows:
        for value in row:
            assert not value.startswith(DANGEROUS), value
    return rows


def test_responses_xlsx_and_results_csv_and_xlsx_are_inert(app, client):
    demo.load(n_responses=200, seed=2)
    cycle = db.session.scalar(select(Cycle).order_by(Cycle.id.desc()))
    communities = list(
        db.session.scalars(select(Unit).where(Unit.type == "community").order_by(Unit.code))
    )
    for unit, payload in zip(communities, PAYLOADS, strict=False):
        unit.name = payload  # as if it had been stored before any check on names
    street = communities[0].parent
    street.name = "-街道"
    group = db.session.scalar(select(RaterGroup).where(RaterGroup.code == "citizen"))
    group.name = "@群众"
    responses = list(db.session.scalars(select(Response).order_by(Response.id).limit(6)))
    for r, payload in zip(responses, PAYLOADS, strict=True):
        r.comment = payload  # a citizen typed a formula
    db.session.commit()
    login(client, "admin", DEMO_PASSWORD)

    with client.get(f"/admin/cycles/{cycle.id}/responses.xlsx") as got:  # a file: closed
        assert got.status_code == 200
        texts = set(xlsx_texts(got.data))
    for payload in PAYLOADS:
        # every comment, every unit name, exactly: a carriage return stays one
        assert "'" + payload in texts, payload
    assert {"'-街道", "'@群众"} <= texts

    for fmt in ("csv", "xlsx"):
        got = client.get(f"/admin/cycles/{cycle.id}/results.{fmt}?type=community")
        assert got.status_code == 200, fmt
        if fmt == "csv":
            cells = {v for row in csv_rows(got.data) for v in row}
        else:
            cells = set(xlsx_texts(got.data))
            sheet = load_workbook(io.BytesIO(got.data)).active
            scores = [row[3] for row in sheet.iter_rows(min_row=2)]
            assert scores and all(c.data_type == "n" for c in scores)  # numbers stay numbers
        named = PAYLOADS[: len(communities)]
        assert all(cells & _quoted(p) for p in named), (fmt, named)


def test_invitations_csv_is_inert(app, client):
    link = make_link(mode=LinkMode.INVITE)
    people = [{"name": p, "contact": p, "rater_code": "", "rater_unit": ""} for p in PAYLOADS]
    link_domain.create_invitations(link, people)
    db.session.commit()
    make_staff("boss")
    login(client, "boss")
    got = client.get(f"/admin/links/{link.id}/invitations.csv")
    assert got.status_code == 200
    rows = csv_rows(got.data)
    assert [r[0] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    assert [r[1] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    assert all(r[5].startswith("http") for r in rows[1:])  # the personal links unchanged


def test_the_paper_form_workbook_is_inert_and_its_questions_are_still_read_back(app, client):
    # "\t=1" and "\r=1" would be one header as headers are matched (spaces collapsed)
    payloads = [*PAYLOADS[:5], "\r=2"]
    data = copy.deepcopy(SIMPLE_QUESTIONNAIRE)
    for item, payload in zip(data["items"], payloads, strict=False):
        item["text"] = payload  # the questions people type answers under
    q = make_questionnaire(data)
    db.session.commit()
    link = make_link(questionnaire=q)
    link.unit.name = PAYLOADS[0]
    items = sorted(q.items, key=lambda i: i.position)
    db.session.commit()
    make_staff("boss")
    login(client, "boss")
    got = client.get(f"/admin/links/{link.id}/paper.xlsx")
    assert got.status_code == 200
    texts = xlsx_texts(got.data)
    for payload in payloads:
        assert set(texts) & _quoted(payload), payload  # a header and a line of the notes
    assert any(t.startswith("'" + PAYLOADS[0] + " (") for t in texts)  # the unit's name
    # the office fills in the sheet as downloaded and uploads it: the questions are found
    book = load_workbook(io.BytesIO(got.data))
    book.active.append([5, 4, 8, 7.5, "海报", "效率", None, "很好", None])
    out = io.BytesIO()
    book.save(out)
    assert paper.import_paper(link, "forms.xlsx", out.getvalue()) == 1
    db.session.commit()
    stored = db.session.scalar(select(Response).where(Response.link_id == link.id))
    assert stored.answers["attitude"] == 5 and stored.answers["topics"] == ["x"]
    assert db.session.get(Item, items[0].id).text == PAYLOADS[0]


def test_the_scheme_workbook_is_inert_and_reads_back_equal(app, client):
    data = json.loads(SCHEME.read_text(encoding="utf-8"))
    data["title"] = PAYLOADS[0]
    data["note"] = PAYLOADS[1]
    data["indicators"][0]["title"] = PAYLOADS[2]
    data["indicators"][0]["children"][0]["title"] = PAYLOADS[3]
    data["indicators"][0]["children"][0]["note"] = "=1+1"
    data["bonus"][0]["title"] = "@bonus"
    data["penalties"][0]["note"] = "-3 分"
    version = scheme_domain.import_scheme(data)
    db.session.commit()
    make_staff("boss")
    login(client, "boss")
    got = client.get(f"/admin/schemes/{version.id}.xlsx")
    assert got.status_code == 200
    texts = set(xlsx_texts(got.data))
    for payload in [*PAYLOADS[:4], "=1+1", "@bonus", "-3 分"]:
        assert "'" + payload in texts, payload
    assert read_workbook(got.data) == scheme_domain.scheme_of(version)  # the quotes come off


def test_the_interchange_csv_is_the_exact_contract_served_as_a_data_file(app, client):
    cycle = make_cycle()
    link = make_link(cycle=cycle)
    for payload in PAYLOADS:
        r = make_response(link, {"attitude": 4, "speed": 5, "note": payload})
        r.comment = payload
    db.session.commit()
    make_staff("boss")
    login(client, "boss")
    got = client.get(f"/admin/cycles/{cycle.id}/responses.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert not got.data.startswith(b"\xef\xbb\xbf")  # no Excel BOM: a data file
    expected = io.StringIO()
    interchange.export_responses(expected, cycle=cycle)
    assert got.data == expected.getvalue().encode("utf-8")  # byte for byte the contract
    rows = list(csv.DictReader(io.StringIO(got.data.decode("utf-8"), newline="")))
    assert len(rows) == len(PAYLOADS)  # a lone CR is quoted: no row split in two
    assert sorted(r["comment"] for r in rows) == sorted(PAYLOADS)  # cells as they are
    assert sorted(r["note"] for r in rows) == sorted(PAYLOADS)
    # and it imports back as it is
    other = make_cycle()
    make_link(cycle=other, unit=link.unit, questionnaire=link.questionnaire)
    text = got.data.decode("utf-8")
    for r in rows:
        text = text.replace(r["response_id"], r["response_id"] + "b")
    assert interchange.import_responses(text, other) == len(PAYLOADS)
    db.session.commit()
    comments = db.session.scalars(select(Response.comment).where(Response.cycle_id == other.id))
    assert sorted(comments) == sorted(PAYLOADS)
    # the pages offer it as a data file and point Excel users to the XLSX
    page = client.get(f"/admin/cycles/{cycle.id}/responses").get_data(as_text=True)
    assert "交换格式 CSV（数据文件）" in page and "用 Excel 查看请点“导出 Excel”" in page
    assert f"/admin/cycles/{cycle.id}/responses.xlsx" in page
    page = client.get(f"/admin/cycles/{cycle.id}").get_data(as_text=True)
    assert "答卷交换格式 CSV（数据文件）" in page and "导出答卷 Excel" in page
    assert db.session.scalar(select(func.count()).select_from(Response)) == 2 * len(PAYLOADS)


@given(st.lists(st.lists(st.one_of(st.none(), st.text(), st.integers()), min_size=2), max_size=5))
def test_the_interchange_writer_is_the_csv_modules_bytes_and_reads_back(rows):
    """The contract's bytes are ``csv.writer(out, lineterminator="\\n")``'s; only a row with a
    lone CR differs (quoted, where the csv module left it bare and split the row)."""
    ours, theirs = io.StringIO(), io.StringIO()
    writer = interchange._Writer(ours)
    for row in rows:
        writer.writerow(row)
        csv.writer(theirs, lineterminator="\n").writerow(row)
    if not any(isinstance(v, str) and "\r" in v for row in rows for v in row):
        assert ours.getvalue() == theirs.getvalue()
    back = list(csv.reader(io.StringIO(ours.getvalue(), newline="")))
    assert back == [["" if v is None else str(v) for v in row] for row in rows]
