"""POST /api/v1/cycles/{code}/responses: all or nothing, idempotent by response_id, 409 on
other content, errors by index and field, the pages' row builder; concurrent duplicate
batches on PostgreSQL store each response exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from evalsurvey.extensions import db
from evalsurvey.models import Response
from tests.api.conftest import bearer

URL = "/api/v1/cycles/2026H2/responses"


def record(n: int, **fields) -> dict:
    return {
        "response_id": f"MP-{n:05d}",
        "questionnaire": "WIN@1",
        "unit": "C1",
        "rater_group": "citizen",
        "channel": "import",
        "device": f"mp-device-{n % 7}",
        "started_at": "2026-11-23T09:02:00+08:00",
        "submitted_at": "2026-11-23T09:04:15+08:00",
        "attitude": 5,
        "speed": "4",
        "topics": ["x", "z"],
        "comment": "窗口很好 👍",
        **fields,
    }


def stored() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Response))


def post(client, world, body, **headers):
    return client.post(URL, json=body, headers=bearer(world.tokens["admin-write"], **headers))


def test_batch_is_stored_through_the_pages_row_builder(client, world):
    r = post(client, world, {"responses": [record(n) for n in range(50)]})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json() == {
        "stored": 50, "existing": 0, "responses": [f"MP-{n:05d}" for n in range(50)]
    }  # fmt: skip
    row = db.session.scalar(select(Response).where(Response.public_id == "MP-00003"))
    assert row.status == "valid" and row.reviewed is False
    assert row.submission_key == "import-MP-00003" and row.network == ""
    assert row.device == "mp-device-3" and row.channel == "import"
    assert row.answers["attitude"] == 5 and row.answers["topics"] == ["x", "z"]
    assert row.answers["nps"] is None and row.comment == "窗口很好 👍"
    assert row.unit.code == "C1" and row.cycle.code == "2026H2"
    assert row.submitted_at == datetime(2026, 11, 23, 1, 4, 15, tzinfo=UTC)
    assert row.started_at == datetime(2026, 11, 23, 1, 2, 0, tzinfo=UTC)


def test_one_response_alone(client, world):
    r = post(client, world, record(1))
    assert r.status_code == 201 and r.get_json()["responses"] == ["MP-00001"]


def test_sending_again_stores_nothing_and_other_content_is_409(client, world):
    batch = {"responses": [record(n) for n in range(5)]}
    assert post(client, world, batch).status_code == 201
    again = post(client, world, batch)
    assert again.status_code == 200
    assert again.get_json() == {
        "stored": 0,
        "existing": 5,
        "responses": [r["response_id"] for r in batch["responses"]],
    }
    # a batch mixing stored and new ones stores only the new
    mixed = post(client, world, {"responses": [record(3), record(9)]})
    assert mixed.status_code == 201 and mixed.get_json()["stored"] == 1
    assert stored() == 6
    # the same id with other content: 409 naming it, and nothing of the batch is stored
    r = post(
        client,
        world,
        {"responses": [record(20), record(2, attitude=1)]},
        **{"Accept-Language": "en"},
    )
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["errors"] == [
        {
            "index": 1,
            "field": "response_id",
            "detail": "MP-00002 is stored with other content (answers).",
        }
    ]
    assert stored() == 6
    assert (
        db.session.scalar(select(Response).where(Response.public_id == "MP-00002")).answers[
            "attitude"
        ]
        == 5
    )


def test_all_or_nothing_with_every_problem_by_index_and_field(client, world):
    batch = [record(n) for n in range(10)]
    batch[2]["unit"] = "NOPE"
    batch[5]["attitude"] = 9
    batch[7]["submitted_at"] = "yesterday"
    batch[8]["walrus"] = "3"
    del batch[9]["rater_group"]
    r = post(client, world, {"responses": batch}, **{"Accept-Language": "en"})
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    fields = {(e["index"], e["field"]) for e in r.get_json()["errors"]}
    assert (9, "rater_group") in fields  # the shape first: nothing else is judged yet
    del batch[9]
    r = post(client, world, {"responses": batch})
    errors = r.get_json()["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {
        (2, "unit"), (5, "attitude"), (7, "submitted_at"), (8, "walrus")
    }  # fmt: skip
    assert all(e["detail"] for e in errors)
    assert stored() == 0
    # the same id twice in one batch: with the same content it is one response
    r = post(client, world, {"responses": [record(1), record(1)]})
    assert r.status_code == 201 and r.get_json()["stored"] == 1
    r = post(client, world, {"responses": [record(4), record(4, comment="另一条")]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["index"] == 1


def test_batch_limit_and_unknown_cycle(client, world):
    r = post(client, world, {"responses": [record(n) for n in range(10_001)]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "responses"
    r = client.post(
        "/api/v1/cycles/NOPE/responses", json=record(1), headers=bearer(world.tokens["admin-write"])
    )
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


@pytest.mark.postgres
def test_concurrent_duplicate_batches_store_each_response_once(app, world, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers")
    batches = [
        {"responses": [record(n) for n in range(0, 400)]},
        {"responses": [record(n) for n in range(200, 600)]},
        {"responses": [record(n) for n in range(0, 600, 2)]},
    ] * 2
    secret = world.tokens["admin-write"]
    results: list = [None] * len(batches)
    barrier = threading.Barrier(len(batches))

    def send(i: int) -> None:
        client = app.test_client()
        with app.app_context():
            barrier.wait()
            r = client.post(URL, json=batches[i], headers=bearer(secret))
            results[i] = (r.status_code, r.get_json())
            db.session.remove()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None and r[0] in (200, 201) for r in results), results
    assert sum(r[1]["stored"] for r in results) == 600
    assert stored() == 600
    ids = db.session.scalars(select(Response.public_id)).all()
    assert len(set(ids)) == 600
