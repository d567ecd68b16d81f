"""Uploads within limits, answered in words by the file field (issue 20 items 8 and 10): a
decompression bomb sent as paper forms or as a scheme workbook, a CSV field past the limit, a
paper form dated outside its cycle, and more than 5,000 invitations at once."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting import paper
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import ImportError_
from evalsurvey.extensions import db
from evalsurvey.models import Invitation, LinkMode, Response
from evalsurvey.models.types import utcnow
from evalsurvey.timezones import to_local
from tests.factories import hidden_fields, login, make_cycle, make_link, make_staff
from tests.test_xlsxread import SHEET, _sheet_bomb, _xlsx_with


def _post_file(client, url: str, field: str, data: bytes, name: str):
    """Post ``data`` as the file ``field`` of the page's form, asking for English. (The body
    is encoded in memory: the test client's own encoder leaves a temporary file open for a
    body above 500 KB.)"""
    fields = hidden_fields(client.get(url).get_data(as_text=True))
    values = MultiDict({**fields, field: FileStorage(io.BytesIO(data), name)})
    boundary, body = encode_multipart(values)
    return client.post(
        url + "?lang=en", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def _error_of(html: str, field_id: str) -> str | None:
    """The message shown right after the input ``field_id``, or None."""
    found = re.search(rf'id="{field_id}"[^>]*>\s*<div class="err">([^<]*)</div>', html)
    return found.group(1) if found else None


def test_a_bomb_sent_as_paper_forms_is_refused_by_the_file_field(app, client):
    link = make_link()
    make_staff("boss")
    login(client, "boss")
    bomb = _xlsx_with(SHEET, _sheet_bomb())
    started = time.perf_counter()
    page = _post_file(client, f"/admin/links/{link.id}/paper", "paper-file", bomb, "forms.xlsx")
    assert time.perf_counter() - started < 2  # the request itself, with the form around it
    text = page.get_data(as_text=True)
    assert page.status_code == 400
    assert _error_of(text, "paper-file").startswith("This Excel file expands to more than 50 MB")
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_bomb_sent_as_a_scheme_workbook_is_answered_in_words(app, client):
    make_staff("boss")
    login(client, "boss")
    bomb = _xlsx_with(SHEET, _sheet_bomb(12))  # within the 64 KiB body limit: the ratio tells
    assert len(bomb) < 64 * 1024 - 2048
    page = _post_file(client, "/admin/schemes", "file", bomb, "scheme.xlsx")
    assert page.status_code == 400
    assert "expands to more than 50 MB" in page.get_data(as_text=True)


def test_a_bomb_sent_as_a_unit_list_is_answered_in_words(app, client):
    from evalsurvey.models import Unit

    make_staff("boss")
    login(client, "boss")
    fields = hidden_fields(client.get("/admin/units").get_data(as_text=True))
    bomb = _xlsx_with(SHEET, _sheet_bomb(12))
    values = MultiDict({**fields, "imp-file": FileStorage(io.BytesIO(bomb), "u.xlsx")})
    boundary, body = encode_multipart(values)
    page = client.post(
        "/admin/units/import?lang=en",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        follow_redirects=True,
    )
    assert "expands to more than 50 MB" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0


def test_a_csv_field_past_the_limit_is_a_message_not_a_traceback(app):
    link = make_link()
    for size, expected in ((40_000, "第 {row} 行有一格超过"), (140_000, "第 {row} 行无法读取")):
        data = f"服务态度,意见\n4,{'长' * size}\n".encode()
        with pytest.raises(DomainError) as caught:
            paper.import_paper(link, "forms.csv", data)
        assert caught.value.message.startswith(expected) and caught.value.field == "file"
        assert caught.value.params["row"] == 2


def test_more_than_5000_paper_forms_are_refused_before_the_rest_is_read(app):
    link = make_link()
    data = ("服务态度\n" + "4\n" * 5001).encode()
    with pytest.raises(DomainError, match="一次最多导入 5000 行"):
        paper.import_paper(link, "forms.csv", data)


def test_a_paper_form_dated_outside_its_cycle_is_refused(app):
    link = make_link()
    today = to_local(utcnow()).date()
    long_ago = (today - timedelta(days=400)).isoformat()
    rows = ["0001-01-01", "0001-01-01 01:00", "1900-01-01", long_ago, today.isoformat()]
    data = ("服务态度,填写日期\n" + "".join(f"4,{d}\n" for d in rows)).encode()
    with pytest.raises(ImportError_) as caught:
        paper.import_paper(link, "forms.csv", data)
    found = {(row, column): error.text() for row, column, error in caught.value.errors}
    assert set(found) == {(2, "填写日期"), (3, "填写日期"), (4, "填写日期"), (5, "填写日期")}
    assert found[(2, "填写日期")].startswith("日期不在本周期内：0001-01-01（应在 ")
    # a year before the cycle opened is still the paper round; today is fine
    assert paper.import_paper(link, "ok.csv", f"服务态度,填写日期\n4,{today}\n".encode()) == 1
    # a cycle that closed ten days ago takes no form dated after its close
    closed = make_link(cycle=make_cycle(opens_at=utcnow() - timedelta(days=60),
                                        closes_at=utcnow() - timedelta(days=10)))  # fmt: skip
    late = (today - timedelta(days=3)).isoformat()
    with pytest.raises(ImportError_) as caught:
        paper.import_paper(closed, "late.csv", f"服务态度,填写日期\n4,{late}\n".encode())
    assert [(r, c) for r, c, _e in caught.value.errors] == [(2, "填写日期")]
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_at_most_5000_invitations_at_once(app, client):
    link = make_link(group="member", mode=LinkMode.INVITE)
    with pytest.raises(DomainError, match="一次最多生成 5000 份邀请"):
        link_domain.create_invitations(link, [{}] * 5001)
    db.session.rollback()
    make_staff("boss")
    login(client, "boss")
    url = f"/admin/links/{link.id}/invitations"
    # a CSV list of 5,001 people (past the 64 KiB other bodies are held to): a message
    people = "姓名,联系方式\n" + "".join(f"成员{n},1380000{n:04d}\n" for n in range(5001))
    assert len(people.encode()) > 64 * 1024
    page = _post_file(client, url, "people_file", people.encode(), "people.csv")
    assert "At most 5000 rows can be imported at once." in page.get_data(as_text=True)
    assert page.status_code == 200  # the form again, the message by the list's field
    assert _error_of(page.get_data(as_text=True), "people_file") == (
        "At most 5000 rows can be imported at once."
    )
    # the same in a workbook of a few KB
    book = Workbook()
    book.active.append(["姓名"])
    for n in range(5001):
        book.active.append([f"成员{n}"])
    out = io.BytesIO()
    book.save(out)
    page = _post_file(client, url, "people_file", out.getvalue(), "people.xlsx")
    assert "At most 5000 rows can be imported at once." in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
    # a list within the cap is made
    page = _post_file(client, url, "people_file", "姓名\n甲\n乙\n".encode(), "people.csv")
    assert page.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 2


def test_the_file_commands_answer_an_overlong_csv_field_with_exit_2(tmp_path):
    from click.testing import CliRunner

    from evalsurvey.cli import main
    from evalsurvey.csvformat import HEAD, TAIL
    from tests.scoring.test_files import RUBRIC

    findings = tmp_path / "findings.csv"
    findings.write_text("unit,element,value,note\nA,1.1,1," + "x" * 140_000 + "\n")
    result = CliRunner().invoke(main, ["score", str(RUBRIC), str(findings)])
    assert result.exit_code == 2 and "cannot read the CSV" in result.output
    responses = tmp_path / "responses.csv"
    responses.write_text(",".join(HEAD + ["c1"] + TAIL) + "\n" + "," * 11 + "x" * 140_000 + "\n")
    result = CliRunner().invoke(main, ["analyze", str(responses)])
    assert result.exit_code == 2 and "cannot read the CSV" in result.output
