"""Bad input gets a clear 400 or 413 in the person's language; surprises are logged with an id."""

from __future__ import annotations

import io
import logging

import pytest

from evalsurvey.extensions import db
from tests.factories import hidden_fields, login, make_link, make_staff, make_unit


@pytest.fixture
def survey(app):
    link = make_link()
    return f"/s/{link.code}"


@pytest.mark.parametrize(
    "body, content_type",
    [
        ({"comment": "长" * 40_000}, None),  # a long comment
        (b"a=" + b"x" * 12_000_000, "application/x-www-form-urlencoded"),  # 12 MB
        ({f"f{i}": "1" for i in range(1100)}, "multipart/form-data"),  # >1000 parts
    ],
    ids=["long-comment", "12MB", "many-parts"],
)
def test_oversized_bodies_answer_413_with_a_page(client, survey, body, content_type):
    kwargs = {"content_type": content_type} if content_type else {}
    resp = client.post(survey, data=body, **kwargs)
    assert resp.status_code == 413
    assert "提交的内容过大" in resp.get_data(as_text=True)


def test_malformed_inputs_answer_400(client, survey):
    cases = [
        client.post(survey, json=[1, 2]),
        client.post(survey, json="text"),
        client.post(
            survey,
            data={"comment": (io.BytesIO(b"x"), "a.txt")},
            content_type="multipart/form-data",
        ),
        client.post(survey, data={"comment": "a\x00b"}),
        client.get("/s/ab%00cd"),
    ]
    for resp in cases:
        assert resp.status_code == 400, resp.request.path
        assert "错误代码 400" in resp.get_data(as_text=True)


def test_over_long_codes_and_huge_ids_are_not_found(app, client):
    make_staff("adm")
    assert client.get("/s/" + "a" * 5000).status_code == 404
    login(client, "adm")
    for url in ("/admin/units/2147483648/edit", "/admin/cycles/99999999999999999999"):
        resp = client.get(url)
        assert resp.status_code == 404
        # a staff error page keeps the staff navigation: no dead end
        assert "/admin/cycles" in resp.get_data(as_text=True)


def test_over_long_unit_code_is_a_message_by_the_field(app, client):
    make_staff("adm")
    login(client, "adm")
    token = hidden_fields(client.get("/admin/units").get_data(as_text=True))["csrf_token"]
    resp = client.post(
        "/admin/units", data={"csrf_token": token, "code": "X" * 300, "name": "n", "type": "other"}
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "最多 40 个字符。" in html  # by the field, in Chinese
    assert "Field cannot be longer" not in html


@pytest.mark.parametrize("with_parent", [False, True])
def test_unit_edit_without_its_parent_field(app, client, with_parent):
    make_staff("adm")
    parent = make_unit("C77", name="社区", type="community") if with_parent else None
    unit = make_unit("W77", parent, name="窗口")
    login(client, "adm")
    page = client.get(f"/admin/units/{unit.id}/edit").get_data(as_text=True)
    resp = client.post(
        f"/admin/units/{unit.id}/edit",
        data={
            "csrf_token": hidden_fields(page)["csrf_token"],
            "code": "W77",
            "name": "新名称",
            "type": "service_window",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert unit.name == "新名称" and unit.parent is parent  # the parent it had is kept


def test_crlf_in_next_goes_to_the_dashboard(app, client):
    make_staff("adm")
    page = client.get("/auth/login").get_data(as_text=True)
    resp = client.post(
        "/auth/login?next=/admin%0d%0aSet-Cookie:x=1",
        data={**hidden_fields(page), "username": "adm", "password": "secret-pass-1"},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/"
    assert "x=1" not in resp.headers.get("Set-Cookie", "")


def test_an_unexpected_error_is_logged_with_the_id_the_page_shows(app, client, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    with caplog.at_level(logging.ERROR):
        resp = client.get("/boom")
    assert resp.status_code == 500
    request_id = resp.headers["X-Request-Id"]
    assert request_id in resp.get_data(as_text=True)
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


def _interchange_rows(client) -> tuple[object, list[list[str]]]:
    """Two stored responses of a new link as interchange rows (header first), then deleted:
    what an import of the rows would store again."""
    import csv

    from evalsurvey.domain.files import interchange
    from evalsurvey.extensions import db
    from evalsurvey.models import Response

    link = make_link()
    for attitude in ("5", "1"):
        fields = hidden_fields(client.get(f"/s/{link.code}").get_data(as_text=True))
        client.post(f"/s/{link.code}", data={**fields, "attitude": attitude, "speed": "4"})
    out = io.StringIO()
    interchange.export_responses(out, cycle=link.cycle)
    db.session.query(Response).delete()
    db.session.commit()
    return link, list(csv.reader(io.StringIO(out.getvalue())))


def _import(runner, tmp_path, rows, cycle_code):
    import csv

    path = tmp_path / "r.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return runner.invoke(args=["import-responses", str(path), "--cycle", cycle_code])


@pytest.mark.parametrize(
    "column, value, says",
    [
        ("comment", "a\x00b", "cannot be saved (NUL)"),
        ("device", "\x00", "cannot be saved (NUL)"),
        ("submitted_at", "0001-01-01T00:00:00+08:00", "between the years 2000 and 2100"),
        ("submitted_at", "9999-12-31T23:59:59+00:00", "between the years 2000 and 2100"),
        ("started_at", "1970-01-01T00:00:00+00:00", "between the years 2000 and 2100"),
    ],
)
def test_import_responses_refuses_nul_and_far_dates_with_exit_2(
    app, client, runner, tmp_path, column, value, says
):
    from sqlalchemy import func, select

    from evalsurvey.extensions import db
    from evalsurvey.models import Response

    link, rows = _interchange_rows(client)
    rows[2][rows[0].index(column)] = value
    result = _import(runner, tmp_path, rows, link.cycle.code)
    assert result.exit_code == 2, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert f"row 3, column {column}" in result.output and says in result.output
    assert "nothing was imported" in result.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_import_responses_streams_the_file(app, client, runner, tmp_path):
    """Memory follows the batch, not the file (it was ~44x the file): four times the rows
    take about the same peak, read as they are imported and flushed in batches."""
    import csv
    import tracemalloc

    from sqlalchemy import func, select

    from evalsurvey.domain.files import interchange
    from evalsurvey.extensions import db
    from evalsurvey.models import Response

    link, rows = _interchange_rows(client)
    column = rows[0].index("response_id")

    def peak_of(prefix: str, n_rows: int) -> tuple[int, int]:
        path = tmp_path / f"{prefix}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(rows[0])
            for n in range(n_rows):
                row = list(rows[1 + n % 2])
                row[column] = f"{prefix}{n}"
                out.writerow(row)
        tracemalloc.start()
        try:
            args = ["import-responses", str(path), "--cycle", link.cycle.code]
            result = runner.invoke(args=args)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.exit_code == 0, result.output
        return peak, path.stat().st_size

    small, small_size = peak_of("s", interchange.BATCH)
    large, large_size = peak_of("l", 4 * interchange.BATCH)
    assert db.session.scalar(select(func.count()).select_from(Response)) == 5 * interchange.BATCH
    assert large_size > 3.5 * small_size
    assert large < 1.6 * small, (small, large)


def test_import_responses_names_the_byte_that_is_not_utf8(app, client, runner, tmp_path):
    link, rows = _interchange_rows(client)
    head = ",".join(rows[0]).encode() + b"\n"
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xef\xbb\xbf" + head + b"x,\xff\n")
    result = runner.invoke(args=["import-responses", str(path), "--cycle", link.cycle.code])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"(byte {len(head) + 5})" in result.output, result.output
