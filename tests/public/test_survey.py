"""The respondent's path through the real pages, with the test client."""

from __future__ import annotations

import gzip
from datetime import timedelta

from sqlalchemy import func, inspect, select

from evalsurvey.extensions import db
from evalsurvey.models import Channel, CycleStatus, Invitation, LinkMode, Response
from evalsurvey.models.types import utcnow
from tests.factories import hidden_fields, make_cycle, make_link

ANSWERS = {
    "attitude": "5",
    "speed": "4",
    "nps": "9",
    "pts": "7",
    "chan": "b",
    "topics": ["x", "z"],
    "note": "很好",
    "comment": "窗口人员耐心",
}


def open_form(client, url):
    page = client.get(url)
    assert page.status_code == 200
    return hidden_fields(page.get_data(as_text=True))


def count_responses() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_open_submit_thank_you_and_stored_row(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert link.unit.name in html and "非常满意" in html
    fields = hidden_fields(html)
    before = utcnow()
    posted = client.post(url, data={**fields, **ANSWERS})
    assert posted.status_code == 303
    assert "/thanks" in posted.headers["Location"]
    thanks = client.get(posted.headers["Location"])
    assert thanks.status_code == 200 and "感谢" in thanks.get_data(as_text=True)
    row = db.session.scalar(select(Response))
    assert row.answers == {
        "attitude": 5,
        "speed": 4,
        "nps": 9,
        "pts": 7,
        "chan": "b",
        "topics": ["x", "z"],
        "note": "很好",
    }
    assert row.comment == "窗口人员耐心"
    assert row.channel == Channel.QR and row.status == "valid"
    assert row.unit_id == link.unit_id and row.cycle_id == link.cycle_id
    assert (
        row.rater_group_id == link.rater_group_id and row.questionnaire_id == link.questionnaire_id
    )
    assert row.started_at <= row.submitted_at and row.submitted_at >= before - timedelta(seconds=1)
    assert len(row.device) == 32 and row.device not in client.get_cookie("esd").value
    assert row.rater == "" and row.rater_unit == ""


def test_resubmitting_the_same_key_stores_nothing_new(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    fields = open_form(client, url)
    first = client.post(url, data={**fields, **ANSWERS})
    second = client.post(url, data={**fields, **ANSWERS})
    assert first.headers["Location"] == second.headers["Location"]
    assert count_responses() == 1


def test_same_device_rating_again_is_stored(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    for _ in range(2):
        client.post(url, data={**open_form(client, url), **ANSWERS})
    rows = db.session.scalars(select(Response)).all()
    assert len(rows) == 2 and rows[0].device == rows[1].device


def test_missing_csrf_is_400_and_keeps_answers(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    fields = open_form(client, url)
    fields.pop("csrf_token")
    resp = client.post(url, data={**fields, **ANSWERS})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "答案已保留" in html and 'value="5" checked' in html
    assert ">窗口人员耐心</textarea>" in html  # the comment comes back too
    assert count_responses() == 0


def test_required_item_missing_shows_message_by_item_and_keeps_answers(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    data = {**open_form(client, url), **ANSWERS}
    data.pop("speed")
    resp = client.post(url, data=data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    speed_block = html.split('id="q-speed"')[1].split('id="q-nps"')[0]
    assert "此题为必答题" in speed_block
    assert 'value="5" checked' in html.split('id="q-attitude"')[1]
    assert "窗口人员耐心" in html
    assert count_responses() == 0


def test_english_page(app, client):
    link = make_link()
    html = client.get(f"/s/{link.code}?lang=en").get_data(as_text=True)
    assert "Window satisfaction" in html and "Very satisfied" in html and "Submit" in html


def test_unknown_code_is_404_page(app, client):
    resp = client.get("/s/nosuchcode")
    assert resp.status_code == 404
    assert "找不到该页面" in resp.get_data(as_text=True)


def test_closed_cycle_is_410_saying_since_when(app, client):
    cycle = make_cycle()
    link = make_link(cycle=cycle)
    url = f"/s/{link.code}"
    fields = open_form(client, url)
    cycle.status = CycleStatus.CLOSED
    cycle.closed_at = utcnow().replace(year=2026, month=11, day=1, hour=1, minute=30)
    db.session.commit()
    for resp in (client.get(url), client.post(url, data={**fields, **ANSWERS})):
        assert resp.status_code == 410
        # stored in UTC, said in the office's time: 01:30 UTC is 09:30 in Beijing
        assert "2026-11-01 09:30（北京时间）" in resp.get_data(as_text=True)
    assert count_responses() == 0


def test_past_closing_date_is_410(app, client):
    cycle = make_cycle(closes_at=utcnow() - timedelta(hours=1))
    link = make_link(cycle=cycle)
    assert client.get(f"/s/{link.code}").status_code == 410


def test_closed_link_is_410(app, client):
    link = make_link()
    link.active = False
    link.closed_at = utcnow()
    db.session.commit()
    assert client.get(f"/s/{link.code}").status_code == 410


def test_body_over_limit_is_413_page(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    data = {**open_form(client, url), **ANSWERS, "comment": "长" * 40000}
    resp = client.post(url, data=data)
    assert resp.status_code == 413
    assert "内容过大" in resp.get_data(as_text=True)
    assert count_responses() == 0


def test_non_utf8_is_400_page(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    fields = open_form(client, url)
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode() + b"&comment=%FF%FE&attitude=5"
    resp = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 400
    assert "UTF-8" in resp.get_data(as_text=True)
    assert count_responses() == 0


def test_malformed_values_are_400(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    for bad in ({"attitude": "9"}, {"chan": "zzz"}, {"attitude": "abc"}):
        resp = client.post(url, data={**open_form(client, url), **ANSWERS, **bad})
        assert resp.status_code == 400, bad
        assert "Traceback" not in resp.get_data(as_text=True)
    assert count_responses() == 0


def test_forged_ticket_is_400(app, client):
    link = make_link()
    url = f"/s/{link.code}"
    fields = open_form(client, url)
    fields["ticket"] = fields["ticket"][:-3] + "abc"
    assert client.post(url, data={**fields, **ANSWERS}).status_code == 400
    other = make_link()
    stolen = open_form(client, f"/s/{other.code}")
    fields = open_form(client, url)
    fields["ticket"] = stolen["ticket"]
    assert client.post(url, data={**fields, **ANSWERS}).status_code == 400
    assert count_responses() == 0


def test_invite_link_is_not_public(app, client):
    link = make_link(mode=LinkMode.INVITE)
    assert client.get(f"/s/{link.code}").status_code == 404


def test_page_weight_under_30kb_gzip(app, client):
    link = make_link()
    resp = client.get(f"/s/{link.code}", headers={"Accept-Encoding": "gzip, deflate"})
    assert resp.headers["Content-Encoding"] == "gzip"
    transferred = resp.get_data()  # the bytes on the wire
    html = gzip.decompress(transferred)
    # the page has no external CSS, JS, fonts or images: this is the whole transfer
    assert b"<link" not in html and b"<script" not in html and b"<img" not in html
    assert b"<style nonce=" in html and b"attitude" in html
    assert len(transferred) <= 30 * 1024


def test_response_has_no_column_joining_it_to_an_invitation():
    columns = {c.key for c in inspect(Response).columns}
    assert not {"invitation_id", "token", "name", "contact", "email"} & columns
    invitation_columns = {c.key for c in inspect(Invitation).columns}
    assert not {"response_id", "used_at", "submission_key"} & invitation_columns


def test_security_headers_and_english_error_page(app, client):
    resp = client.get("/s/nosuchcode?lang=en")
    assert resp.status_code == 404
    assert "Page not found" in resp.get_data(as_text=True)
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_concurrent_double_taps_store_one_row(app):
    """Eight simultaneous posts of one page (a flaky network's retries): one row."""
    import threading

    link = make_link()
    url = f"/s/{link.code}"
    first = app.test_client()
    fields = open_form(first, url)
    cookie = first.get_cookie("session")
    results: list[int] = []
    barrier = threading.Barrier(8)

    def tap():
        with app.app_context():
            client = app.test_client()
            client.set_cookie("session", cookie.value)
            barrier.wait()
            results.append(client.post(url, data={**fields, **ANSWERS}).status_code)
            db.session.remove()

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [303] * 8
    assert count_responses() == 1


def test_cycle_not_yet_open_says_when(app, client):
    from datetime import UTC, datetime

    opens = datetime(2030, 3, 1, 0, 0, tzinfo=UTC)
    link = make_link(cycle=make_cycle(opens_at=opens, closes_at=opens + timedelta(days=30)))
    resp = client.get(f"/s/{link.code}")
    assert resp.status_code == 403
    assert "2030-03-01 08:00" in resp.get_data(as_text=True)  # Beijing time
    draft = make_link(cycle=make_cycle(status=CycleStatus.DRAFT))
    assert client.get(f"/s/{draft.code}").status_code == 403


def test_thank_you_page_answers_only_its_own_signed_acknowledgement(app, client):
    """The page needs no look-up: its token is signed after the row was stored, for that
    link; a bare key, an altered token or another link's token is not found."""
    from evalsurvey.domain.collecting.responses import acknowledge

    link, other = make_link(), make_link()
    url = f"/s/{link.code}"
    posted = client.post(url, data={**open_form(client, url), **ANSWERS})
    location = posted.headers["Location"]
    assert client.get(location).status_code == 200
    key = db.session.scalar(select(Response.submission_key))
    token = acknowledge(app.config["SECRET_KEY"], link.code, key)
    assert location.endswith(f"/s/{link.code}/thanks?k={token}")
    assert client.get(f"/s/{link.code}/thanks?k={key}").status_code == 404
    key_part, signature = token.rsplit(".", 1)  # alter a whole character of the signature
    altered = f"{key_part}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert client.get(f"/s/{link.code}/thanks?k={altered}").status_code == 404
    assert client.get(f"/s/{other.code}/thanks?k={token}").status_code == 404
    assert client.get(f"/s/{link.code}/thanks").status_code == 404


def test_an_overlong_comment_is_said_plainly_and_nothing_is_lost(app, client):
    """The page's box stops at the limit; a post past it (a script, an old page) gets the
    form back with every answer and the comment kept, and a sentence in its language."""
    from evalsurvey.domain.collecting.responses import COMMENT_MAX

    link = make_link()
    url = f"/s/{link.code}"
    page = client.get(url).get_data(as_text=True)
    assert f'maxlength="{COMMENT_MAX}"' in page
    long_comment = "很" * (COMMENT_MAX + 1)
    posted = client.post(url, data={**open_form(client, url), **ANSWERS, "comment": long_comment})
    html = posted.get_data(as_text=True)
    assert posted.status_code == 422 and f"意见和建议最多 {COMMENT_MAX} 个字" in html
    assert f">{long_comment}</textarea>" in html
    for name, value in (("attitude", "5"), ("chan", "b"), ("topics", "x"), ("topics", "z")):
        assert f'name="{name}" value="{value}" checked' in html
    assert count_responses() == 0
    english = client.post(
        url + "?lang=en", data={**open_form(client, url), **ANSWERS, "comment": long_comment}
    )
    assert f"at most {COMMENT_MAX} characters" in english.get_data(as_text=True)
    fine = client.post(url, data={**open_form(client, url), **ANSWERS, "comment": "好" * 2000})
    assert fine.status_code == 303 and count_responses() == 1
