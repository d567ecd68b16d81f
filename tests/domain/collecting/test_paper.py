"""Paper forms typed into a sheet: the downloaded template read back, GBK and BOM CSV, words
for answers, errors by row and column with nothing stored, and no file imported twice."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from evalsurvey.domain.collecting import paper
from evalsurvey.domain.units import ImportError_
from evalsurvey.extensions import db
from evalsurvey.models import Response
from tests.factories import hidden_fields, login, make_link, make_staff


def _count(link) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Response).where(Response.link_id == link.id)
    )


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_filled_in_and_read_back(app):
    link = make_link()
    sheet = load_workbook(io.BytesIO(paper.paper_template(link))).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["服务态度", "办事效率", "推荐意愿"] and header[-2:] == [
        "意见",
        "填写日期",
    ]
    assert len(header) == 9  # seven questions, the comment and the date
    sheet.append([5, "满意", 8, 7.5, "海报", "效率、环境", None, "很好", datetime(2026, 11, 20)])
    sheet.append(["非常不满意", 2, None, None, None, None, None, None, None])  # not answered
    out = io.BytesIO()
    sheet.parent.save(out)
    assert paper.import_paper(link, "forms.xlsx", out.getvalue()) == 2
    db.session.commit()
    first, second = db.session.scalars(
        select(Response).where(Response.link_id == link.id).order_by(Response.submission_key)
    )
    assert first.answers == {"attitude": 5, "speed": 4, "nps": 8, "pts": 7.5, "chan": "a",
                             "topics": ["x", "z"], "note": None}  # fmt: skip
    assert first.comment == "很好" and first.channel == "paper"
    # a day only is noon in the office's zone (Asia/Shanghai): 04:00 UTC
    assert first.submitted_at.astimezone(UTC) == datetime(2026, 11, 20, 4, tzinfo=UTC)
    assert second.answers["attitude"] == 1 and second.answers["nps"] is None
    assert (first.device, first.started_at, first.rater) == ("", None, "")


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_a_csv_saved_by_excel_in_gbk_or_with_a_bom(app, encoding):
    link = make_link()
    text = "Attitude,speed,意见\r\n4,3,等候太久\r\nvery satisfied,4,\r\n"
    assert paper.import_paper(link, "forms.csv", text.encode(encoding)) == 2
    answers = sorted(r.answers["attitude"] for r in db.session.scalars(select(Response)))
    assert answers == [4, 5]


def test_every_problem_named_by_row_and_column_and_nothing_stored(app):
    link = make_link()
    data = _xlsx(
        [
            ["服务态度", "办事效率", "颜色", "填写日期"],
            [6, 4, None, "2026-11-01"],
            [4, "还行", None, "昨天"],
            [4, 4, None, "2999-01-01"],
        ]
    )
    with pytest.raises(ImportError_) as caught:
        paper.import_paper(link, "forms.xlsx", data)
    found = {(row, column) for row, column, _e in caught.value.errors}
    assert found == {(1, "颜色")}  # the header first: nothing else is read with a wrong column
    data = _xlsx([r[:2] + r[3:] for r in load_workbook(io.BytesIO(data)).active.values])
    with pytest.raises(ImportError_) as caught:
        paper.import_paper(link, "forms.xlsx", data)
    found = {(row, column) for row, column, _e in caught.value.errors}
    assert found == {(2, "服务态度"), (3, "办事效率"), (3, "填写日期"), (4, "填写日期")}
    assert _count(link) == 0


def test_the_same_file_is_not_imported_twice(app):
    link = make_link()
    data = "服务态度,办事效率\n4,4\n5,5\n".encode()
    assert paper.import_paper(link, "a.csv", data) == 2
    db.session.commit()
    with pytest.raises(ImportError_):
        paper.import_paper(link, "a-again.csv", data)
    assert _count(link) == 2


def test_the_page_downloads_imports_and_answers_errors_in_the_persons_language(app, client):
    link = make_link()
    make_staff("boss")
    login(client, "boss")
    page = client.get(f"/admin/links/{link.id}/paper")
    assert page.status_code == 200 and "下载录入表" in page.get_data(as_text=True)
    sheet = client.get(f"/admin/links/{link.id}/paper.xlsx")
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"
    token = hidden_fields(page.get_data(as_text=True))["csrf_token"]
    bad = client.post(
        f"/admin/links/{link.id}/paper?lang=en",
        data={"csrf_token": token, "paper-file": (io.BytesIO("服务态度\n9\n".encode()), "f.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "9 is outside 1–5." in bad.get_data(as_text=True)
    good = client.post(
        f"/admin/links/{link.id}/paper",
        data={"csrf_token": token, "paper-file": (io.BytesIO("服务态度\n4\n".encode()), "f.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    # the language chosen above stays for the session
    assert "Paper forms typed in: 1." in good.get_data(as_text=True) and _count(link) == 1


def test_no_forms_into_a_cycle_whose_results_are_published(app):
    from evalsurvey.domain.errors import DomainError
    from tests.factories import make_cycle

    link = make_link(cycle=make_cycle(status="published"))
    with pytest.raises(DomainError):
        paper.import_paper(link, "a.csv", "服务态度\n4\n".encode())
