"""Responses collected elsewhere (a mini-program, hotline call-backs, the province's
platform, paper keyed in elsewhere) pushed in the interchange CSV's fields as JSON: all or
nothing, idempotent by ``response_id`` (see ``interchange.ingest_records``). A batch sent
again stores nothing and answers as the first time did; an id stored with other content
is 409."""

from __future__ import annotations

from typing import Any

from spectree import Response as Doc

from evalsurvey.api import auth, bp, spec
from evalsurvey.api.problems import ApiProblem
from evalsurvey.api.schemas import IngestBody, IngestResult, Problem, ResponseIn
from evalsurvey.api.views import RESPONSES, _cycle
from evalsurvey.domain.files.interchange import Conflict, ingest_records
from evalsurvey.domain.units import ImportError_
from evalsurvey.extensions import db
from evalsurvey.i18n import _


def _cell(value: Any) -> str | list[str]:
    """A JSON value as the CSV cell it stands for (a list stays a list of option codes)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _record(response: ResponseIn) -> dict[str, Any]:
    fields = response.model_dump(exclude_none=False)
    record = {k: _cell(v) for k, v in fields.items()}
    return record


@bp.post("/cycles/<code>/responses")
@spec.validate(
    json=IngestBody,
    resp=Doc(
        HTTP_200=IngestResult,
        HTTP_201=IngestResult,
        HTTP_409=Problem,
        HTTP_413=Problem,
        HTTP_422=Problem,
        HTTP_404=Problem,
    ),
    tags=[RESPONSES],
)
def ingest_responses(code: str, json: IngestBody):
    """Store one response, or a batch ``{"responses": [...]}`` of up to 10,000, in the
    interchange CSV's fields (item codes as further keys; a multiple choice as a list of
    option codes). All or nothing: every problem is named by the response's ``index`` and
    ``field`` (422). Sending a stored ``response_id`` again with the same content stores
    nothing and counts it as ``existing``; with other content the batch is refused (409).
    201 when something was stored, 200 when everything was stored before. Needs a write
    token of an admin."""
    cycle = _cycle(code)
    records = [_record(r) for r in json.records()]
    try:
        outcome = ingest_records(cycle, records, auth.scope())
        db.session.commit()
    except ImportError_ as exc:
        db.session.rollback()
        errors = [
            {"index": index, "field": column, "detail": error.text(_)}
            for index, column, error in exc.errors
        ]
        raise ApiProblem(
            422, _("没有保存任何答卷：共 {n} 处问题。", n=len(errors)), errors
        ) from None
    except Conflict as exc:
        db.session.rollback()
        errors = [
            {
                "index": index,
                "field": "response_id",
                "detail": _(
                    "{id} 已保存，内容不同（{fields}）。", id=rid, fields=", ".join(fields)
                ),
            }
            for index, rid, fields in exc.conflicts
        ]
        raise ApiProblem(
            409,
            _("没有保存任何答卷：{n} 个 response_id 已用于内容不同的答卷。", n=len(errors)),
            errors,
        ) from None
    except Exception:
        db.session.rollback()
        raise
    body = {"stored": outcome.stored, "existing": outcome.existing, "responses": outcome.ids}
    return body, 201 if outcome.stored else 200
