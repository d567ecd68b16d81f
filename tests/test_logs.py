"""No log links a person to an answer: the application's own log and the development
server's (``evalsurvey run``) name no token, code, address or value of a respondent's
request, and time it to the hour (gunicorn's, on the real server: tests/test_serve.py)."""

from __future__ import annotations

import logging
import threading
from urllib.error import HTTPError
from urllib.request import urlopen

from sqlalchemy import text

from evalsurvey import logs
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting import responses as collect
from evalsurvey.domain.collecting.responses import network_hash
from evalsurvey.extensions import db
from evalsurvey.models import LinkMode
from tests.factories import hidden_fields, make_link


def test_respondent_addresses_are_redacted_wherever_they_appear():
    assert logs.redact("POST /i/AbC-123_x?from=mail HTTP/1.1") == "POST /i/* HTTP/1.1"
    assert (
        logs.redact('"https://pj.example/s/k3j4h5/thanks?k=a.b"')
        == '"https://pj.example/s/*/thanks"'
    )
    assert logs.redact("Exception on //i/tok [POST]") == "Exception on /i/* [POST]"
    assert logs.redact("/admin/?next=/i/tok") == "/admin/?next=/i/*"
    # not a respondent address: a file path, a staff page
    path = 'File "/work/main/evalsurvey/public/views.py", line 3'
    assert logs.redact(path) == path and logs.redact("/admin/links/7") == "/admin/links/7"
    assert logs.is_staff_path("/admin/cycles") and logs.is_staff_path("/healthz")
    assert not logs.is_staff_path("/administrator") and not logs.is_staff_path("/static/print.js")
    assert logs.public_path("/p/2026H2/community?lang=en") == "/p/2026H2/community"


def test_an_error_answering_an_invitation_logs_no_token_and_no_value(
    app, client, caplog, monkeypatch
):
    """A database error while storing a member's answer: the log has the request's id and
    its redacted address, not the token, the statement's values (network hash, comment) or
    the query string, and its time only to the hour."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    link = make_link(group="member", mode=LinkMode.INVITE)
    token = link_domain.create_invitations(link, [{"name": "张三"}])[0].token
    db.session.commit()

    def broken_store(**kw):
        db.session.execute(
            text("INSERT INTO no_such_table (token, network, comment) VALUES (:t, :n, :c)"),
            {"t": token, "n": kw["network"] or "n-hash", "c": kw["comment"]},
        )

    monkeypatch.setattr(collect, "store_response", broken_store)
    url = f"/i/{token}?from=mail"
    fields = {**hidden_fields(client.get(url).get_data(as_text=True)), "attitude": "4"}
    with caplog.at_level(logging.ERROR):
        resp = client.post(url, data={**fields, "speed": "3", "comment": "张三的意见"})
    assert resp.status_code == 500
    records = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert records and any(r.exc_info for r in records)
    logged = caplog.text
    assert "no_such_table" in logged and "/i/*" in logged  # the cause is still there...
    network = network_hash("test-salt", "127.0.0.1")
    for secret in (token, network, "n-hash", "张三的意见", "from=mail"):
        assert secret not in logged  # ...but nothing that names the member
    assert all(r.created % 3600 == 0 and r.msecs == 0 for r in records)


def test_the_development_server_logs_respondents_without_address_or_token(app, caplog):
    from werkzeug.serving import make_server

    code = make_link().code
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            assert urlopen(f"{base}/s/{code}?lang=en", timeout=10).status == 200
            try:
                urlopen(f"{base}/i/guessed-token", timeout=10)
            except HTTPError as error:
                assert error.code == 404
            assert urlopen(f"{base}/healthz", timeout=10).status == 200
    finally:
        server.shutdown()
        serving.join(10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    respondent = [line for line in lines if "/s/" in line or "/i/" in line]
    assert len(respondent) == 2
    for line in respondent:
        assert code not in line and "guessed-token" not in line and "lang=" not in line
        assert line.startswith("- - [") and ":00:00]" in line and "127.0.0.1" not in line
    assert [line for line in lines if "/healthz" in line and line.startswith("127.0.0.1")]
