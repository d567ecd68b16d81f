"""Fuzzing the public forms (hypothesis): missing, unknown and repeated fields, huge values,
wrong types, NUL bytes, invalid UTF-8, wrong content types and multipart bodies never give a
5xx, and never leave a partial row: a post either stores one whole response or none."""

from __future__ import annotations

import io
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from evalsurvey.extensions import db
from evalsurvey.models import LinkMode, Response
from tests.factories import hidden_fields, make_link

NAMES = ["csrf_token", "ticket", "attitude", "speed", "nps", "pts", "chan", "topics", "note",
         "comment", "unknown", "", "attitude[]", "a" * 300]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        [
            "1",
            "3",
            "5",
            "10",
            "0",
            "-1",
            "6",
            "a",
            "x",
            "y",
            "z",
            "",
            " ",
            "1.5",
            "1e9",
            "NaN",
            "true",
            "[]",
            "{}",
            "五",
        ]
    ),  # fmt: skip
    st.text(max_size=40),
    st.text(alphabet="\x00\r\n\t<>'\"&%", max_size=20),
    st.integers(min_value=1000, max_value=200_000).map(lambda n: "x" * n),  # huge
)
RAW = st.binary(max_size=60)  # bytes that need not be UTF-8

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,  # the same examples on every machine and in CI
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

body = st.fixed_dictionaries(
    {
        "keep": st.sets(st.sampled_from(["csrf_token", "ticket", "attitude", "speed"])),
        "extra": st.lists(st.tuples(st.sampled_from(NAMES), VALUES), max_size=8),
        "raw": st.lists(st.tuples(st.sampled_from(NAMES), RAW), max_size=3),
        "kind": st.sampled_from(["form", "bytes", "multipart", "json", "text", "none"]),
        "file": st.booleans(),
    }
)


SEEN: set[int] = set()  # the statuses met: the fuzzing reached storage and every refusal


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def _post(client, url: str, fields: dict, example: dict):
    pairs = [(k, v) for k, v in fields.items() if k in example["keep"]]
    pairs += example["extra"]
    kind = example["kind"]
    if kind == "form":
        return client.post(url, data=pairs_to_multi(pairs))
    if kind == "bytes":
        encoded = "&".join(f"{quote_from_bytes(k.encode())}={quote_from_bytes(v.encode())}"
                           for k, v in pairs).encode()  # fmt: skip
        for k, raw in example["raw"]:
            encoded += b"&" + k.encode() + b"=" + raw.replace(b"&", b"")
        return client.post(url, data=encoded, content_type="application/x-www-form-urlencoded")
    if kind == "multipart":
        data = pairs_to_multi(pairs)
        if example["file"]:
            data["comment"] = (io.BytesIO(b"\x00\xff" * 10), "x.bin")
        return client.post(url, data=data, content_type="multipart/form-data")
    if kind == "json":
        return client.post(url, json=dict(pairs))
    if kind == "text":
        return client.post(url, data="\n".join(v for _k, v in pairs), content_type="text/plain")
    return client.post(url)


def pairs_to_multi(pairs):
    from werkzeug.datastructures import MultiDict

    return MultiDict(pairs)


def _fuzz(app, client, url: str, example: dict) -> None:
    page = client.get(url)
    fields = {**hidden_fields(page.get_data(as_text=True)), "attitude": "4", "speed": "5"}
    before = _count()
    resp = _post(client, url, fields, example)
    assert resp.status_code < 500, (resp.status_code, example)
    SEEN.add(resp.status_code)
    db.session.expire_all()
    added = _count() - before
    if resp.status_code == 303 and "/thanks" in resp.headers.get("Location", ""):
        assert added in (0, 1)  # 0: a repeated submission key already stored
        if added:
            row = db.session.scalar(select(Response).order_by(Response.id.desc()))
            assert row.answers.get("attitude") in range(1, 6)
            assert row.answers.get("speed") in range(1, 6)
    else:
        assert added == 0, (resp.status_code, example)


def test_fuzzed_posts_to_a_citizens_link(app, client):
    link = make_link()
    url = f"/s/{link.code}"

    @SETTINGS
    @given(example=body)
    def run(example):
        _fuzz(app, client, url, example)

    SEEN.clear()
    run()
    assert {303, 400, 422} <= SEEN, SEEN


def test_fuzzed_posts_to_an_invitation(app, client):
    from evalsurvey.domain.collecting import links as link_domain

    link = make_link(mode=LinkMode.INVITE, group="member")
    invitations = link_domain.create_invitations(link, [{"name": f"m{n}"} for n in range(150)])
    db.session.commit()
    tokens = iter([inv.token for inv in invitations])

    @SETTINGS
    @given(example=body)
    def run(example):
        _fuzz(app, client, f"/i/{next(tokens)}", example)

    SEEN.clear()
    run()
    assert {303, 400} <= SEEN, SEEN
