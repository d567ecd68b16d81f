"""No staff request ends in a 500 or a traceback: the probed values as named cases, then
hypothesis over every staff page's query parameters and every form the pages show."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.extensions import db
from evalsurvey.models import (
    CompositeSetting,
    Cycle,
    GradeSetting,
    Link,
    Questionnaire,
    StaffUser,
    Unit,
)
from evalsurvey.models.units import UNIT_TYPES
from tests.factories import hidden_fields, login, make_link, make_staff, make_unit

PASSWORD = "admin-demo-2026"
TOO_BIG = "2147483648"  # one past a PostgreSQL integer


@pytest.fixture
def office(app, client):
    """A cycle with a citizens' link (so a questionnaire and the rater groups) and an admin
    signed in: (client, cycle, CSRF token)."""
    link = make_link()
    make_staff("adm")
    login(client, "adm")
    token = hidden_fields(client.get("/admin/cycles").get_data(as_text=True))["csrf_token"]
    return client, link.cycle, token


@pytest.fixture
def district(app, client):
    """The demo district with its admin signed in: (client, cycle, CSRF token)."""
    demo.load(n_responses=60, seed=5)
    login(client, "admin", PASSWORD)
    token = hidden_fields(client.get("/admin/cycles").get_data(as_text=True))["csrf_token"]
    return client, db.session.scalar(select(Cycle)), token


def _draft(client, token) -> Questionnaire:
    client.post(
        "/admin/questionnaires",
        data={"csrf_token": token, "action": "new", "code": "NEWQ", "title": "新问卷"},
    )
    return db.session.scalar(select(Questionnaire).where(Questionnaire.code == "NEWQ"))


QUERIES = [
    f"page={TOO_BIG}",
    "page=99999999999999999999",
    "page=-5",
    "page=x",
    "from=0001-01-01",
    "to=9999-12-31",
    "from=9999-12-31&to=0001-01-01",
]


def test_page_numbers_and_dates_past_any_column_are_not_500(office):
    client, cycle, _token = office
    for query in QUERIES:
        for url in (f"/admin/cycles/{cycle.id}/responses", "/admin/audit", "/admin/units"):
            resp = client.get(f"{url}?{query}")
            assert resp.status_code in (200, 404), (url, query, resp.status_code)


def test_ids_past_the_column_in_forms_and_queries_are_not_found(office):
    client, cycle, token = office
    q = _draft(client, token)
    assert client.get(f"/admin/questionnaires/{q.id}/build?from={TOO_BIG}").status_code == 200
    resp = client.post(
        f"/admin/questionnaires/{q.id}/build",
        data={"csrf_token": token, "action": "copy", "source": TOO_BIG},
    )
    assert resp.status_code == 400
    resp = client.post(
        f"/admin/questionnaires/{q.id}/build",
        data={"csrf_token": token, "action": "up", "index": TOO_BIG},
    )
    assert resp.status_code in (303, 400)
    resp = client.post(
        f"/admin/cycles/{cycle.id}/consultation",
        data={"csrf_token": token, "action": "approve", "adjustment": TOO_BIG},
    )
    assert resp.status_code == 404
    resp = client.post(
        f"/admin/cycles/{cycle.id}/objections",
        data={"csrf_token": token, "type": "community", "objection": TOO_BIG},
    )
    assert resp.status_code in (302, 404)  # refused by the form (NumberRange) and sent back


def test_a_far_date_in_a_cycle_form_is_a_message_by_the_field(office):
    client, cycle, token = office
    for when in ("0001-01-01T00:00", "9999-12-31T23:59"):
        _far_date(client, cycle, token, when)


def _far_date(client, cycle, token, when):
    before = cycle.opens_at
    resp = client.post(
        f"/admin/cycles/{cycle.id}/edit", data={"csrf_token": token, "name": "n", "opens_at": when}
    )
    assert resp.status_code == 200 and "日期应在 2000 年到 2100 年之间。" in resp.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Cycle, cycle.id).opens_at == before
    resp = client.post(
        "/admin/cycles",
        data={"csrf_token": token, "code": "FAR", "name": "n", "period": "year", "closes_at": when},
    )
    assert resp.status_code == 200
    assert "日期应在 2000 年到 2100 年之间。" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Cycle).where(Cycle.code == "FAR")) is None


def test_a_link_form_with_a_blank_unit_asks_for_one(office):
    client, cycle, token = office
    links = db.session.query(Link).count()
    for blank in ("", "   "):
        resp = client.post(
            f"/admin/cycles/{cycle.id}/links",
            data={
                "link-csrf_token": token,
                "link-questionnaire": "1",
                "link-rater_group": "1",
                "link-unit": blank,
                "link-unit_type": "",
                "link-mode": "public",
            },
        )
        assert resp.status_code == 400
        assert "请填写单位编码或选择单位类型。" in resp.get_data(as_text=True)
    assert db.session.query(Link).count() == links


def test_deeply_nested_json_is_refused_with_a_message(office):
    client, cycle, token = office
    q = _draft(client, token)
    deep = '{"code": "A", "title": "x", "items": ' + "[" * 5000 + "]" * 5000 + "}"
    resp = client.post(
        f"/admin/questionnaires/{q.id}/edit", data={"csrf_token": token, "definition": deep}
    )
    assert resp.status_code == 400 and "JSON 嵌套太深" in resp.get_data(as_text=True)
    resp = client.post(
        "/admin/questionnaires",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(deep.encode()), "q.json")},
    )
    assert resp.status_code == 400 and "JSON 嵌套太深" in resp.get_data(as_text=True)
    # grade rules are a form of rows (tests/admin/test_grade_rules.py): no JSON is read


def test_unknown_unit_types_are_refused_in_grade_and_composite_settings(office):
    client, cycle, token = office
    rules = json.dumps({"kind": "stars", "bands": [[90, 5], [None, 1]]})
    for kind in ("x" * 18_001, "no_such_type", "community\r\nX: 1"):
        resp = client.post(
            f"/admin/cycles/{cycle.id}/grades",
            data={"csrf_token": token, "type": kind, "rules": rules},
        )
        assert resp.status_code == 302  # back, with the message
        resp = client.post(
            f"/admin/cycles/{cycle.id}/composite/settings",
            data={"csrf_token": token, "type": kind, "w_inspection": "1", "missing": "renormalize"},
        )
        assert resp.status_code == 302
        for page in ("objections", "publish", "review", "composite"):
            resp = client.get(f"/admin/cycles/{cycle.id}/{page}", query_string={"type": kind})
            assert resp.status_code == 404, page
        for fmt in ("csv", "xlsx"):
            resp = client.get(
                f"/admin/cycles/{cycle.id}/results.{fmt}", query_string={"type": kind}
            )
            assert resp.status_code == 404
    assert (
        db.session.scalar(select(GradeSetting).where(GradeSetting.unit_type.not_in(UNIT_TYPES)))
        is None
    )
    assert (
        db.session.scalar(
            select(CompositeSetting).where(
                CompositeSetting.cycle_id == cycle.id, CompositeSetting.unit_type.not_in(UNIT_TYPES)
            )
        )
        is None
    )


def test_the_domain_refuses_unknown_unit_types(office):
    from evalsurvey.domain.assessment import composite, grades
    from evalsurvey.domain.errors import DomainError

    _client, cycle, _token = office
    with pytest.raises(DomainError, match="未知的单位类型"):
        grades.set_rules(cycle, "x" * 18_001, grades.DEFAULT_STARS)
    with pytest.raises(DomainError, match="未知的单位类型"):
        composite.set_weights(cycle, "street\n", {"inspection": 1.0})


def test_text_longer_than_its_column_is_a_message(office):
    client, _cycle, token = office
    q = _draft(client, token)
    resp = client.post(
        f"/admin/questionnaires/{q.id}/build",
        data={"csrf_token": token, "action": "texts", "title": "长" * 300},
    )
    assert resp.status_code == 400
    resp = client.post(
        "/admin/questionnaires",
        data={"csrf_token": token, "action": "new", "code": "LONG", "title": "长" * 300},
    )
    assert resp.status_code == 400
    assert db.session.scalar(select(Questionnaire).where(Questionnaire.code == "LONG")) is None


def test_control_characters_in_a_text_field_are_a_message_by_the_field(office):
    client, _cycle, token = office
    resp = client.post(
        "/admin/units",
        data={"csrf_token": token, "code": "Z1", "name": "a\r\nb\x01", "type": "other"},
    )
    assert resp.status_code == 400 and "不能包含换行或控制字符。" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Unit).where(Unit.code == "Z1")) is None


def test_nul_in_an_uploaded_csv_is_refused(office):
    client, _cycle, token = office
    resp = client.post(
        "/admin/units/import",
        content_type="multipart/form-data",
        follow_redirects=True,
        data={
            "imp-csrf_token": token,
            "imp-file": (io.BytesIO(b"code,name,type,parent\nX1,n\x00,other,\n"), "u.csv"),
        },
    )
    assert resp.status_code == 200
    assert "文件包含 NUL 字符（第 26 字节），不是文本文件。" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Unit).where(Unit.code == "X1")) is None


def test_nul_stored_anywhere_is_a_domain_error_before_postgresql_sees_it(office):
    """The last line: any row's text with NUL, past its String(n), or an integer past the
    column is refused at flush by its attribute (PostgreSQL failed the transaction)."""
    from evalsurvey.domain.errors import DomainError

    _client, cycle, _token = office
    for attr, value, says in (("name", "a\x00b", "NUL"), ("name", "长" * 201, "最多 200 个字符")):
        setattr(cycle, attr, value)
        with pytest.raises(DomainError, match=says) as caught:
            db.session.flush()
        assert caught.value.field == attr
        db.session.rollback()
    unit = db.session.scalar(select(Unit))
    unit.id = 2**31
    with pytest.raises(DomainError, match="超出可保存的范围") as caught:
        db.session.flush()
    assert caught.value.field == "id"
    db.session.rollback()


def test_a_scheme_code_with_a_line_break_is_refused_and_downloads_keep_one_line(office):
    client, _cycle, token = office
    folder = Path(__file__).resolve().parents[2] / "evalsurvey" / "data" / "schemes"
    scheme = json.loads(sorted(folder.glob("*.json"))[0].read_text(encoding="utf-8"))
    scheme["code"] = "A\r\nSet-Cookie: x=1"
    resp = client.post(
        "/admin/schemes",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(json.dumps(scheme).encode()), "s.json")},
    )
    assert resp.status_code == 400
    from evalsurvey.admin.blueprint import download

    with client.application.test_request_context():
        headers = download(b"x", "a\r\nb\x01.csv", "text/csv").headers
    assert "\r" not in headers["Content-Disposition"] and "\n" not in headers["Content-Disposition"]


def test_the_review_page_opens_when_a_unit_lacks_a_composite(district):
    client, cycle, _token = district
    street = db.session.scalar(select(Unit).where(Unit.code == "S01"))
    make_unit("C9999", street, type="community", name="新社区")
    resp = client.get(f"/admin/cycles/{cycle.id}/review?type=community")
    assert resp.status_code == 200 and "C9999" in resp.get_data(as_text=True)


# --- hypothesis over every staff page and form --------------------------------------------

QUERY_NAMES = [
    "page",
    "from",
    "to",
    "type",
    "unit",
    "group",
    "status",
    "channel",
    "reason",
    "within",
    "entity",
    "actor",
    "per",
    "fmt",
    "lang",
    "source",
    "index",
]
# the values the probe found 500s with, first; then ordinary and arbitrary ones
PROBES = [
    TOO_BIG,
    "99999999999999999999",
    "-2147483649",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "x" * 18_001,
    "a\r\nb",
    "\x01\x1f",
    "   ",
    "[" * 3000,
    '{"a":' * 2000,
    "1e309",
    "nan",
]
ORDINARY = [
    "",
    "0",
    "1",
    "-1",
    "2",
    "community",
    "service_window",
    "street",
    "C0101",
    "W01011",
    "S01",
    "citizen",
    "valid",
    "closed",
    "2026-07-01",
    "2026-07-01T08:00",
]
VALUES = st.one_of(
    st.sampled_from(PROBES), st.sampled_from(ORDINARY), st.text(max_size=30), st.integers().map(str)
)
FILES = [
    b"code,name,type,parent\nX1,n\x00,other,\n",
    b"a," + b"x" * 140_000 + b"\n",
    b"[" * 100_000,
    b'{"code": "A\\r\\nB", "title": "t", "items": []}',
    b"\xff\xfe\x00",
    b"PK\x03\x04 not a workbook",
    b"",
]
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _staff_pages(app, client):
    """Every staff GET page with its path filled in, and every form those pages show."""
    from evalsurvey.domain.assessment import consultation as consultation_domain
    from evalsurvey.models import Role
    from tests.admin.staff_forms import Form, forms_of
    from tests.test_authorization import _params, _url

    make_staff("spare", Role.VIEWER, password=PASSWORD)
    cycle = db.session.scalar(select(Cycle))
    unit_b = db.session.scalar(select(Unit).where(Unit.code == "C0102"))
    params = _params(app)
    penalty = consultation_domain.adjustable_items(cycle, unit_b)[0]
    category = next(iter(penalty.rule.params["points"]))
    params["adjustment_id"] = consultation_domain.submit_adjustment(
        cycle, unit_b, penalty.code, f"{category}:1", "群众来信", "petitions"
    ).id
    db.session.commit()
    admin_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "admin"))
    urls, forms = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/admin"):
            continue
        url = _url(rule, params)
        if "GET" not in rule.methods:  # a post-only action: its form may be on no page now
            forms.append(Form(action=url, method="POST", multipart=True, fields={"csrf_token": ""}))
            continue
        urls.append(url)
        resp = client.get(url)
        if resp.status_code == 200 and resp.mimetype == "text/html":
            forms += forms_of(resp.get_data(as_text=True), url)
        resp.close()
    # signing out or changing one's own account would end the fuzzing's session
    keep = [f for f in forms if not f.action.startswith(("/auth/", f"/admin/staff/{admin_id}"))]
    return urls, keep


def _no_500(client, method: str, url: str, **kwargs) -> int:
    if "?" in url and kwargs.get("query_string"):  # the page's own query, then the fuzzed one
        url, own = url.split("?", 1)
        kwargs["query_string"] = {**dict(parse_qsl(own)), **kwargs["query_string"]}
    try:
        resp = client.open(url, method=method, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a traceback is the failure this test looks for
        db.session.rollback()
        pytest.fail(f"{method} {url} {kwargs!r:.300}: {exc!r:.300}")
    status = resp.status_code
    resp.close()
    assert status < 500, (method, url, kwargs)
    return status


def test_fuzzed_staff_pages_and_forms_never_answer_500(district):
    client, _cycle, _token = district
    app = client.application
    urls, forms = _staff_pages(app, client)
    assert len(urls) > 50 and len(forms) > 50, (len(urls), len(forms))
    posts = [f for f in forms if f.method == "POST"]
    names = sorted({name for f in forms for name in f.names()} | set(QUERY_NAMES))
    seen: set[int] = set()

    @FUZZ
    @given(
        url=st.sampled_from(urls),
        query=st.dictionaries(st.sampled_from(QUERY_NAMES), VALUES, max_size=3),
    )
    def get(url, query):
        seen.add(_no_500(client, "GET", url, query_string=query or None))

    for url in urls:  # the probed query values on every page, as explicit examples
        for name in ("page", "from", "type"):
            get = example(url=url, query={name: TOO_BIG if name == "page" else "0001-01-01"})(get)
    get()

    token = hidden_fields(client.get("/admin/cycles").get_data(as_text=True))["csrf_token"]

    @FUZZ
    @given(data=st.data())
    def post(data):
        form = data.draw(st.sampled_from(posts), label="form")
        body: dict[str, object] = {}
        for name in form.names():
            how = data.draw(st.sampled_from(["keep", "fuzz", "drop"]), label=name)
            if how == "drop":
                continue
            if name in form.files:
                body[name] = (io.BytesIO(data.draw(st.sampled_from(FILES))), "f.csv")
            elif how == "keep" and name in form.choices and form.choices[name]:
                body[name] = data.draw(st.sampled_from(form.choices[name]), label=name)
            elif how == "keep":
                body[name] = form.fields.get(name, "")
            else:
                body[name] = data.draw(VALUES, label=name)
        # and fields the form does not have (each form's names, sent to any other)
        extra = data.draw(
            st.dictionaries(st.sampled_from(names), VALUES, max_size=2), label="extra"
        )
        body.update({k: v for k, v in extra.items() if k not in body and "file" not in k})
        for name in [n for n in body if n.endswith("csrf_token")]:
            body[name] = token
        seen.add(
            _no_500(
                client,
                "POST",
                form.action,
                data=body,
                content_type="multipart/form-data" if form.multipart else None,
            )
        )

    post()
    assert {200, 302} <= seen, seen  # the fuzzing reached real pages and real changes
