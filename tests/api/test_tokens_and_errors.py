"""API tokens (scope, revocation, roles, the command) and problem+json on every error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from evalsurvey.domain import api_tokens
from evalsurvey.extensions import db
from evalsurvey.models import ApiToken, AuditLog, Role
from tests.api.conftest import bearer
from tests.factories import login, make_staff

PROBLEM = "application/problem+json"


def _is_problem(r, status: int) -> dict:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == PROBLEM
    body = r.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_token_is_stored_hashed_and_every_use_audited(client, world):
    secret = world.tokens["viewer"]
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:12]))
    assert secret not in (token.secret_hash, token.prefix) and len(token.secret_hash) == 64
    before = db.session.scalar(select(db.func.count()).select_from(AuditLog))
    for _ in range(3):
        assert client.get("/api/v1/cycles", headers=bearer(secret)).status_code == 200
    uses = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "ApiToken", AuditLog.action == "use")
    ).all()
    assert len(uses) == 3 and {u.actor for u in uses} == {"viewer1"}
    assert uses[0].changes["path"] == [None, "/api/v1/cycles"]
    assert db.session.scalar(select(db.func.count()).select_from(AuditLog)) == before + 3
    # the token's own creation is audited without its hash
    created = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "ApiToken", AuditLog.action == "create")
    )
    assert created.changes["secret_hash"] == [None, "***"]


def test_missing_wrong_and_revoked_tokens_are_401_in_the_clients_language(client, world):
    body = _is_problem(client.get("/api/v1/units"), 401)
    assert "Bearer" in body["detail"]
    r = client.get("/api/v1/units", headers=bearer("evs_nope", **{"Accept-Language": "en"}))
    body = _is_problem(r, 401)
    assert body["detail"] == "The API token is not valid or has been revoked."
    assert r.headers["Content-Language"] == "en"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    secret = world.tokens["viewer"]
    api_tokens.revoke_token(
        db.session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:12]))
    )
    db.session.commit()
    _is_problem(client.get("/api/v1/units", headers=bearer(secret)), 401)


def test_deactivated_owner_opens_nothing(client, world):
    user = db.session.scalar(
        select(ApiToken).where(ApiToken.prefix == world.tokens["viewer"][:12])
    ).user
    user.active = False
    db.session.commit()
    _is_problem(client.get("/api/v1/units", headers=bearer(world.tokens["viewer"])), 401)


def test_session_cookie_opens_nothing_and_needs_no_csrf(client, world):
    login(client, "admin1")
    assert client.get("/admin/").status_code in (200, 302)
    _is_problem(client.get("/api/v1/units"), 401)
    body = {"response_id": "Z", "questionnaire": "WIN@1", "unit": "C1", "rater_group": "citizen",
            "submitted_at": "2026-11-23T09:04:15+08:00"}  # fmt: skip
    _is_problem(client.post("/api/v1/cycles/2026H2/responses", json=body), 401)
    # a bearer token needs no CSRF token for a write
    r = client.post(
        "/api/v1/cycles/2026H2/responses", json=body, headers=bearer(world.tokens["admin-write"])
    )
    assert r.status_code == 201, r.get_data(as_text=True)


def test_read_token_cannot_write(client, world):
    body = {"responses": []}
    r = client.post(
        "/api/v1/cycles/2026H2/responses", json=body, headers=bearer(world.tokens["admin"])
    )
    _is_problem(r, 403)


def test_write_tokens_only_for_admins_and_tokens_only_for_readers(app, world):
    from evalsurvey.domain.errors import DomainError

    viewer = make_staff("viewer2", Role.VIEWER)
    with pytest.raises(DomainError):
        api_tokens.create_token(viewer, "write")
    panel = make_staff("expert1", Role.PANEL)
    with pytest.raises(DomainError):
        api_tokens.create_token(panel, "read")
    with pytest.raises(DomainError):
        api_tokens.create_token(viewer, "admin")


def test_an_admin_demoted_keeps_only_reading(client, world):
    from evalsurvey.domain import staff

    admin = db.session.scalar(
        select(ApiToken).where(ApiToken.prefix == world.tokens["admin-write"][:12])
    ).user
    staff.change_role(admin, Role.VIEWER)
    db.session.commit()
    headers = bearer(world.tokens["admin-write"])
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    _is_problem(
        client.post("/api/v1/cycles/2026H2/responses", json={"responses": []}, headers=headers), 403
    )


def test_every_error_is_problem_json(client, world):
    headers = bearer(world.tokens["admin-write"])
    _is_problem(client.get("/api/v1/nothing-here", headers=headers), 404)
    _is_problem(client.get("/api/v1/cycles/NOPE", headers=headers), 404)
    _is_problem(client.delete("/api/v1/cycles", headers=headers), 405)
    _is_problem(client.get("/api/v1/units?limit=0", headers=headers), 422)
    _is_problem(client.get("/api/v1/units?cursor=abc", headers=headers), 422)
    _is_problem(client.get("/api/v1/units/C1x", headers=headers), 404)
    r = client.post(
        "/api/v1/cycles/2026H2/responses", data=b"[1, 2]", headers=headers,
        content_type="application/json",
    )  # fmt: skip
    _is_problem(r, 400)
    r = client.post(
        "/api/v1/cycles/2026H2/responses", data=b"\xff\xfe", headers=headers,
        content_type="application/json",
    )  # fmt: skip
    assert r.mimetype == PROBLEM and r.status_code in (400, 422)
    big = b'{"responses": "' + b"x" * (65 * 1024 * 1024) + b'"}'
    r = client.post(
        "/api/v1/cycles/2026H2/responses", data=big, headers=headers,
        content_type="application/json",
    )  # fmt: skip
    _is_problem(r, 413)


def test_500_is_problem_json(app, world, monkeypatch):
    from evalsurvey.api import views

    app.testing = False  # the real handler for unexpected errors, as in production
    from evalsurvey import errors

    app.register_error_handler(Exception, errors._handle_500)

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "in_time_order", broken)
    client = app.test_client()
    body = _is_problem(client.get("/api/v1/cycles", headers=bearer(world.tokens["admin"])), 500)
    assert body["request_id"]


@pytest.mark.config(RATELIMIT_ENABLED=True, RATE_LIMIT_API_TOKEN="3 per minute")
def test_429_after_too_many_requests_and_too_many_bad_tokens(app, world):
    client = app.test_client()
    headers = bearer(world.tokens["viewer"])
    for _ in range(3):
        assert client.get("/api/v1/cycles", headers=headers).status_code == 200
    r = client.get("/api/v1/cycles", headers=headers)
    _is_problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    # guessing tokens is slowed like sign-in: after the free failures, 429 before any lookup
    statuses = [
        client.get("/api/v1/cycles", headers=bearer("evs_guess-guess")).status_code
        for _ in range(8)
    ]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]


def test_command_prints_the_token_once(runner, world):
    result = runner.invoke(
        args=["api-token", "create", "admin1", "--scope", "write", "--name", "小程序"]
    )
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("evs_")
    token = db.session.scalar(select(ApiToken).where(ApiToken.name == "小程序"))
    assert token.scope == "write" and token.secret_hash == api_tokens.digest(secret)
    listed = runner.invoke(args=["api-token", "list", "admin1"])
    assert secret not in listed.output and token.prefix in listed.output
    refused = runner.invoke(args=["api-token", "create", "viewer1", "--scope", "write"])
    assert refused.exit_code == 2 and "admin" in refused.output
    assert runner.invoke(args=["api-token", "create", "nobody"]).exit_code == 2
    assert runner.invoke(args=["api-token", "revoke", str(token.id)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_the_document_and_its_page_need_no_token_and_load_nothing_from_elsewhere(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/cycles/{code}/responses" in document["paths"]
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert (
        page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    )
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js"):
        with client.get(f"/api/v1/docs/assets/{asset}") as r:
            assert r.status_code == 200 and len(r.data) > 10_000
    assert client.get("/api/v1/docs/assets/LICENSE").status_code == 404
