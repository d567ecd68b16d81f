"""Every endpoint's real answers validated against the generated OpenAPI document:
schemathesis generates requests for each operation from the document and checks what the
live app (a real HTTP server on 127.0.0.1, on both databases) answers — status codes,
content types, bodies and headers as documented, no 500. Bounded: a few examples each."""

from __future__ import annotations

import threading

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select
from werkzeug.serving import make_server

from evalsurvey import demo
from evalsurvey.domain import api_tokens
from evalsurvey.extensions import db
from evalsurvey.models import StaffUser

EXAMPLES = 12  # per operation: the whole run stays well under a minute per database


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def test_every_operation_answers_as_documented(app, live):
    demo.load(n_responses=150, seed=7)
    admin = db.session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
    _token, secret = api_tokens.create_token(admin, "write", "schemathesis")
    db.session.commit()
    document = requests.get(f"{live}/api/v1/openapi.json", timeout=10).json()
    assert document["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {secret}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(base_url=f"{live}/api/v1", headers=headers)

        try:
            check()
        except BaseException as exc:  # noqa: BLE001 - collected, all reported at the end
            failures[operation.label] = str(exc)[:2000]
    assert operations >= 12
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
