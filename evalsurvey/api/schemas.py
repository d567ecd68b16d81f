"""The API's request and response bodies (pydantic): the OpenAPI document is generated
from these and the views' declarations (:mod:`evalsurvey.api`), never written by hand."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, RootModel, Tag

MAX_BATCH = 10_000
LIMIT_MAX = 500

# one answer in the interchange CSV's terms: a cell's text, a number, or a multiple
# choice's option codes (the CSV joins them with ";"); null or "" is no answer
Answer = str | int | float | list[str] | None


class Problem(BaseModel):
    """An error, as RFC 9457 describes (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class FieldError(BaseModel):
    index: int | None = Field(None, description="the response's place in the batch, from 0")
    field: str = Field(description="the interchange field (or item code) that is wrong")
    detail: str


Problem.model_rebuild()


class Page(BaseModel):
    next_cursor: str | None = Field(
        None, description="pass as ?cursor= for the next page; null on the last page"
    )


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(None, pattern=r"^[0-9]{1,9}$", description="opaque")
    limit: int = Field(100, ge=1, le=LIMIT_MAX)


class UnitOut(BaseModel):
    code: str
    name: str
    type: str
    parent: str | None
    active: bool


class UnitPage(Page):
    units: list[UnitOut]


class UnitQuery(PageQuery):
    type: str | None = Field(None, max_length=40)


class RaterGroupOut(BaseModel):
    code: str
    name: str
    name_en: str
    internal: bool
    visible_to_unit: bool
    rows_readable: bool = Field(description="whether this token may read the group's rows")


class RaterGroupList(Page):
    rater_groups: list[RaterGroupOut]


class CycleOut(BaseModel):
    code: str
    name: str
    period: str
    status: str
    opens_at: str | None
    closes_at: str | None
    accepting: bool
    responses: int = Field(description="responses of the units this token may see")


class CycleList(Page):
    cycles: list[CycleOut]


class ItemOut(BaseModel):
    code: str
    text: str
    type: str
    required: bool
    max_points: float | None
    options: list[dict[str, Any]] | None


class QuestionnaireOut(BaseModel):
    label: str = Field(description="CODE@VERSION, as the interchange CSV names it")
    code: str
    version: int
    title: str
    published_at: str | None
    items: list[ItemOut]


class QuestionnaireList(Page):
    questionnaires: list[QuestionnaireOut]


class LinkOut(BaseModel):
    code: str
    unit: str
    rater_group: str
    questionnaire: str
    mode: str
    active: bool
    url: str = Field(description="the questionnaire's public address")
    qr_png: str = Field(description="a QR code of that address (PNG), under this API")


class LinkList(Page):
    links: list[LinkOut]


class ResponseIn(BaseModel):
    """One response in the interchange CSV's fields; every other key is an item code."""

    # "responses" names a batch, so no item code may be called that
    model_config = ConfigDict(
        extra="allow", json_schema_extra={"propertyNames": {"not": {"const": "responses"}}}
    )
    __pydantic_extra__: dict[str, Answer]

    response_id: str = Field(min_length=1, max_length=40)
    questionnaire: str = Field(max_length=60, description="CODE@VERSION")
    unit: str = Field(max_length=40)
    rater_group: str = Field(max_length=40)
    rater: str = Field("", max_length=40)
    rater_unit: str = Field("", max_length=40)
    channel: str = Field("", max_length=10, description="qr, invite, import, paper; empty: import")
    device: str = Field("", max_length=64)
    started_at: str | None = Field(None, max_length=40, description="ISO 8601 with offset")
    submitted_at: str = Field(max_length=40, description="ISO 8601 with offset")
    comment: str = Field("", max_length=2000)


class ResponseBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    responses: list[ResponseIn] = Field(min_length=1, max_length=MAX_BATCH)


def _shape(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "responses" in value else "one"


class IngestBody(
    RootModel[
        Annotated[
            Annotated[ResponseBatch, Tag("batch")] | Annotated[ResponseIn, Tag("one")],
            Discriminator(_shape),
        ]
    ]
):
    """A batch ``{"responses": [...]}`` of up to 10,000, or one response alone (whose
    item codes then cannot include ``responses``)."""

    def records(self) -> list[ResponseIn]:
        root = self.root
        return root.responses if isinstance(root, ResponseBatch) else [root]


class ResponseOut(BaseModel):
    response_id: str
    questionnaire: str
    unit: str
    rater_group: str
    rater: str
    rater_unit: str
    channel: str
    device: str
    started_at: str | None
    submitted_at: str
    status: str
    answers: dict[str, Answer]
    comment: str


class ResponsePage(Page):
    responses: list[ResponseOut]


class ResponseQuery(PageQuery):
    unit: str | None = Field(None, max_length=40, description="the unit and those below it")
    group: str | None = Field(None, max_length=40)
    status: str | None = Field(None, max_length=10)


class IngestResult(BaseModel):
    stored: int = Field(description="responses stored by this request")
    existing: int = Field(description="responses sent again, stored before: left as they were")
    responses: list[str] = Field(description="the response_id of each sent response, in order")


class GroupCount(BaseModel):
    unit: str
    rater_group: str
    responses: int


class CountList(Page):
    counts: list[GroupCount]


class TermOut(BaseModel):
    component: str
    score: float | None
    weight: float
    contribution: float | None


class GroupScoreOut(BaseModel):
    group: str
    n_used: int
    score: float


class StandingOut(BaseModel):
    score: float
    source: str
    rank: int
    grade: str
    label: str
    reason: str = Field(description="why this grade, in the requested language")
    previous: float | None
    change: float | None


class FlagsOut(BaseModel):
    analysed_at: str = Field(description="when the analysis these flags come from ran")
    suspect: int = Field(description="responses the analysis holds suspect")
    reasons: dict[str, int] = Field(description="responses flagged, per reason code")
    surge_days: int = Field(description="days with an unexplained surge of responses")


class UnitResultOut(BaseModel):
    unit: str
    name: str
    computed: float | None
    computed_rank: int | None
    missing: list[str]
    terms: list[TermOut]
    groups: list[GroupScoreOut]
    standing: StandingOut | None
    flags: FlagsOut | None = Field(
        description="the office only: what the cycle's latest analysis flagged (null "
        "for other tokens, or before an analysis ran)"
    )


class ResultOut(BaseModel):
    cycle: str
    unit_type: str
    published: bool
    weights: dict[str, float]
    grade_labels: dict[str, str]
    units: list[UnitResultOut]


class ResultQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_type: str = Field(max_length=40)


class ItemLedgerOut(BaseModel):
    id: int
    unit: str
    source: str
    reference: str
    title: str
    detail: str
    owner: str
    due_on: str | None
    status: str
    created_at: str
    closed_at: str | None


class LedgerPage(Page):
    items: list[ItemLedgerOut]
