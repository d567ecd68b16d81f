"""Publishing results (公示) from a frozen run, and the objections raised against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import defer

from evalsurvey.audit import record_reason
from evalsurvey.domain.assessment.composite import latest_composite
from evalsurvey.domain.assessment.standing import proposals_of
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results.cycle import (
    current_result,
    cycle_result,
    forget,
    published_result,
    staleness,
)
from evalsurvey.domain.results.feedback import unit_reports
from evalsurvey.extensions import db
from evalsurvey.i18n import N_, label, sep
from evalsurvey.models import Cycle, CycleStatus, Objection, Publication, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.scoring.result import Standing

OBJECTION_MAX = 2000

# what keeps a unit type's results from being published (stable codes, in the order checked)
NOT_CLOSED = "not_closed"  # the cycle is still open (or only a draft)
ALREADY = "already_published"
NO_COMPOSITE = "no_composite"  # no stored composite to freeze
NO_DRAW = "no_draw"  # proposals, but no re-review sample drawn
PENDING = "pending_review"  # proposals that must be re-reviewed and have not been
# stale or missing parts: an admin may publish anyway, stating a reason (audited, shown)
STALE_RESULT = "stale_result"  # inputs changed since the stored composite
MISSING_UNITS = "missing_units"  # active units of the type the composite never saw
STALE_PROPOSALS = "stale_proposals"  # proposals or reviews made on an older composite
OVERRIDABLE = frozenset({STALE_RESULT, MISSING_UNITS, STALE_PROPOSALS})
REASON_MAX = 2000

BLOCKER_TEXT = {
    NOT_CLOSED: N_("只能公示已关闭周期的结果。"),
    ALREADY: N_("该类单位的结果已经公示。"),
    NO_COMPOSITE: N_("还没有保存的综合结果，请先计算。"),
    NO_DRAW: N_("已有下级申报，须先抽取复核样本并完成复核，才能公示。"),
    PENDING: N_("还有 {n} 个单位的申报须经上级复核（{units}），复核后才能公示。"),
    STALE_RESULT: N_("综合结果计算之后，其依据已有变动（{parts}），请重新计算综合结果。"),
    MISSING_UNITS: N_("有 {n} 个单位不在综合结果中（{units}），请重新计算综合结果。"),
    STALE_PROPOSALS: N_("有 {n} 个单位的申报或复核早于当前综合结果（{units}），须重新确认。"),
}


@dataclass(frozen=True)
class Blocker:
    """One reason the results cannot be published now, with the units it concerns."""

    code: str
    units: tuple[str, ...] = ()  # for stale_result: the changed parts (PART_TEXT's codes)

    @property
    def overridable(self) -> bool:
        """An admin may publish despite it, stating a reason."""
        return self.code in OVERRIDABLE

    def error(self) -> DomainError:
        """The refusal, as :func:`publish_results` raises it."""
        shown = "、".join(self.units[:10]) + ("…" if len(self.units) > 10 else "")
        if self.code == STALE_RESULT:
            parts = sep(",").join(str(label("result_input", p)) for p in self.units)
            return DomainError(BLOCKER_TEXT[STALE_RESULT], parts=parts)
        if self.code in (PENDING, MISSING_UNITS, STALE_PROPOSALS):
            return DomainError(BLOCKER_TEXT[self.code], n=len(self.units), units=shown)
        return DomainError(BLOCKER_TEXT[self.code])


def publication_blockers(cycle: Cycle, unit_type: str) -> list[Blocker]:
    """Everything that keeps ``unit_type``'s results of ``cycle`` from being published now,
    in the order :func:`publish_results` checks it; [] when they may be published. The one
    check behind both the confirmation page's warning and the refusal."""
    from evalsurvey.domain.assessment.grade_review import (  # review builds on this
        draw_of,
        pending_review,
    )

    out = []
    if cycle.status not in (CycleStatus.CLOSED, CycleStatus.PUBLISHED):
        out.append(Blocker(NOT_CLOSED))
    if publication_of(cycle, unit_type) is not None:
        out.append(Blocker(ALREADY))
    if latest_composite(cycle, unit_type) is None:
        out.append(Blocker(NO_COMPOSITE))
    proposals = proposals_of(cycle, unit_type)
    if proposals:
        if draw_of(cycle, unit_type) is None:
            out.append(Blocker(NO_DRAW))
        waiting = pending_review(cycle, unit_type, proposals)
        if waiting:
            out.append(Blocker(PENDING, tuple(sorted(waiting))))
    stale = staleness(cycle, unit_type)
    if stale.changed:
        out.append(Blocker(STALE_RESULT, stale.changed))
    if stale.missing_units:
        out.append(Blocker(MISSING_UNITS, stale.missing_units))
    if stale.stale_proposals:
        out.append(Blocker(STALE_PROPOSALS, stale.stale_proposals))
    return out


def publication_of(cycle: Cycle, unit_type: str) -> Publication | None:
    """The unit type's publication; its frozen documents (megabytes of JSON at a district's
    size) are read when first touched, once per transaction, not on every lookup."""
    return db.session.scalar(
        select(Publication)
        .options(defer(Publication.rows), defer(Publication.reports), defer(Publication.result))
        .where(Publication.cycle_id == cycle.id, Publication.unit_type == unit_type)
    )


def publish_results(
    cycle: Cycle, unit_type: str, actor: str, days: int = 7, reason: str = ""
) -> Publication:
    """Freeze the cycle's current result (:func:`.results.current_result`) of the unit type,
    with its feedback reports, and open the objection period. Only a closed (or published)
    cycle's results are published, and only once the two-level review is complete: refused
    with the first of :func:`publication_blockers`. Stale or missing parts (see
    :data:`OVERRIDABLE`) are published over only with ``reason``, which the publication
    keeps and shows; the caller must allow only an admin to give one. Flushed."""
    if not 1 <= days <= 60:
        raise DomainError("公示期应为 1 到 60 天。", "days")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise DomainError("内容太长。", "reason")
    blockers = publication_blockers(cycle, unit_type)
    hard = [b for b in blockers if not (b.overridable and reason)]
    if hard:
        raise hard[0].error()
    result = current_result(cycle, unit_type)
    assert result is not None  # no_composite above
    found = Publication(
        cycle_id=cycle.id,
        unit_type=unit_type,
        run_id=result.composite_run,
        result=result.to_json(),
        rows=[_row_json(s) for s in result.ranking()],
        reports=unit_reports(cycle, unit_type, result),
        published_by=actor,
        objections_until=utcnow() + timedelta(days=days),
        override_reason=reason if blockers else "",
        overridden=[b.code for b in blockers],
    )
    db.session.add(found)
    db.session.flush()
    if blockers:  # published over stale or missing parts: say why in the audit log too
        record_reason(found, "override", reason)
    forget()
    return found


def _row_json(s: Standing) -> dict:
    """A published row as the public page and older readers take it."""
    return {
        "unit": s.unit,
        "name": s.name,
        "score": s.score,
        "source": s.source,
        "rank": s.rank,
        "grade": s.grade,
        "label": s.label,
        "steps": [[g, code, dict(n)] for g, code, n in s.steps],
        "previous": s.previous,
        "change": s.change,
    }


def ranking_rows(cycle: Cycle, unit_type: str) -> list[Standing] | None:
    """The ranking every page and file shows: the cycle's result's standing scores, frozen
    once published (:func:`.results.cycle_result`); None before a composite."""
    result = cycle_result(cycle, unit_type)
    return None if result is None else result.ranking()


def preview_reports(
    cycle: Cycle, unit_type: str, only: str | None = None
) -> dict[str, dict] | None:
    """The feedback reports as they would be published now (None before a composite);
    ``only``: just that unit's."""
    result = current_result(cycle, unit_type)
    if result is None:
        return None
    return unit_reports(cycle, unit_type, result, only)


def report_of(cycle: Cycle, unit: Unit) -> tuple[dict | None, Publication | None]:
    """A unit's feedback report: the frozen one once published, else the live preview
    (built for this unit alone)."""
    published = publication_of(cycle, unit.type)
    if published is not None:
        return published.reports.get(unit.code), published
    reports = preview_reports(cycle, unit.type, unit.code)
    return (reports or {}).get(unit.code), None


def public_rows(publication: Publication) -> list[Standing]:
    """What the public page lists: the published standing rows (unit, score, rank, grade
    and its reason) — never respondents or groups."""
    return published_result(publication).ranking()


def grade_labels(publication: Publication) -> dict[str, str]:
    """The grades' labels as they stood when published (for the reasons' sentences)."""
    return dict(published_result(publication).grade_labels)


def objections_open(publication: Publication) -> bool:
    return utcnow() < publication.objections_until


def submit_objection(
    publication: Publication, unit_code: str, text: str, name: str = "", contact: str = ""
) -> Objection:
    """Record an objection during the objection period. Flushed."""
    if not objections_open(publication):
        raise DomainError("公示期已结束，不再受理异议。")
    text = (text or "").strip()
    if not text:
        raise DomainError("请填写异议内容。", "text")
    if len(text) > OBJECTION_MAX:
        raise DomainError("异议内容最多 2000 字。", "text")
    if len(name or "") > 200 or len(contact or "") > 200:
        raise DomainError("内容太长。", "contact")
    codes = {row.unit for row in public_rows(publication)}
    if unit_code and unit_code not in codes:
        raise DomainError("请选择公示名单中的单位。", "unit")
    found = Objection(
        publication_id=publication.id,
        unit_code=unit_code or "",
        text=text,
        name=(name or "").strip(),
        contact=(contact or "").strip(),
    )
    db.session.add(found)
    db.session.flush()
    return found


def answer_objection(objection: Objection, answer: str, actor: str) -> None:
    answer = (answer or "").strip()
    if not answer:
        raise DomainError("请填写答复。", "answer")
    if len(answer) > OBJECTION_MAX:
        raise DomainError("答复最多 2000 字。", "answer")
    objection.answer, objection.answered_by, objection.answered_at = answer, actor, utcnow()
    db.session.flush()
