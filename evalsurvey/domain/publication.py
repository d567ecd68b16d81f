"""Publishing results (公示) from a frozen run, and the objections raised against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from evalsurvey.domain.composite import latest_composite
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.feedback import standing_rows, unit_reports
from evalsurvey.domain.grades import grade_cycle
from evalsurvey.domain.standing import proposals_of
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Objection, Publication, Unit
from evalsurvey.models.types import utcnow

OBJECTION_MAX = 2000

# what keeps a unit type's results from being published (stable codes, in the order checked)
NOT_CLOSED = "not_closed"  # the cycle is still open (or only a draft)
ALREADY = "already_published"
NO_COMPOSITE = "no_composite"  # no stored composite to freeze
NO_DRAW = "no_draw"  # proposals, but no re-review sample drawn
PENDING = "pending_review"  # proposals that must be re-reviewed and have not been

BLOCKER_TEXT = {
    NOT_CLOSED: "只能公示已关闭周期的结果。",
    ALREADY: "该类单位的结果已经公示。",
    NO_COMPOSITE: "还没有保存的综合结果，请先计算。",
    NO_DRAW: "已有下级申报，须先抽取复核样本并完成复核，才能公示。",
    PENDING: "还有 {n} 个单位的申报须经上级复核（{units}），复核后才能公示。",
}


@dataclass(frozen=True)
class Blocker:
    """One reason the results cannot be published now, with the units it concerns."""

    code: str
    units: tuple[str, ...] = ()

    def error(self) -> DomainError:
        """The refusal, as :func:`publish_results` raises it."""
        if self.code == PENDING:
            shown = "、".join(self.units[:10]) + ("…" if len(self.units) > 10 else "")
            return DomainError(BLOCKER_TEXT[PENDING], n=len(self.units), units=shown)
        return DomainError(BLOCKER_TEXT[self.code])


def publication_blockers(cycle: Cycle, unit_type: str) -> list[Blocker]:
    """Everything that keeps ``unit_type``'s results of ``cycle`` from being published now,
    in the order :func:`publish_results` checks it; [] when they may be published. The one
    check behind both the confirmation page's warning and the refusal."""
    from evalsurvey.domain.review import draw_of, pending_review  # review builds on this

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
    return out


def publication_of(cycle: Cycle, unit_type: str) -> Publication | None:
    return db.session.scalar(
        select(Publication).where(
            Publication.cycle_id == cycle.id, Publication.unit_type == unit_type
        )
    )


def publish_results(cycle: Cycle, unit_type: str, actor: str, days: int = 7) -> Publication:
    """Freeze the latest stored composite of the unit type, with its grades, and open the
    objection period. Only a closed (or published) cycle's results are published, and only
    once the two-level review is complete: refused with the first of
    :func:`publication_blockers`. Flushed."""
    if not 1 <= days <= 60:
        raise DomainError("公示期应为 1 到 60 天。", "days")
    blockers = publication_blockers(cycle, unit_type)
    if blockers:
        raise blockers[0].error()
    run = latest_composite(cycle, unit_type)
    assert run is not None  # no_composite above
    graded = grade_cycle(cycle, unit_type)
    rows = standing_rows(cycle, unit_type, run, graded)
    found = Publication(
        cycle_id=cycle.id,
        unit_type=unit_type,
        run_id=run.id,
        rows=rows,
        reports=unit_reports(cycle, unit_type, run, rows),
        published_by=actor,
        objections_until=utcnow() + timedelta(days=days),
    )
    db.session.add(found)
    db.session.flush()
    return found


def ranking_rows(cycle: Cycle, unit_type: str) -> list[dict] | None:
    """The ranking every page and file shows (:func:`.feedback.standing_rows`): the frozen
    rows once published, else the standing scores on the latest stored composite; None
    before a composite."""
    published = publication_of(cycle, unit_type)
    if published is not None:
        return published.rows
    run = latest_composite(cycle, unit_type)
    if run is None:
        return None
    return standing_rows(cycle, unit_type, run, grade_cycle(cycle, unit_type))


def preview_reports(cycle: Cycle, unit_type: str) -> dict[str, dict] | None:
    """The feedback reports as they would be published now (None before a composite)."""
    run = latest_composite(cycle, unit_type)
    if run is None:
        return None
    rows = standing_rows(cycle, unit_type, run, grade_cycle(cycle, unit_type))
    return unit_reports(cycle, unit_type, run, rows)


def report_of(cycle: Cycle, unit: Unit) -> tuple[dict | None, Publication | None]:
    """A unit's feedback report: the frozen one once published, else the live preview."""
    published = publication_of(cycle, unit.type)
    if published is not None:
        return published.reports.get(unit.code), published
    reports = preview_reports(cycle, unit.type)
    return (reports or {}).get(unit.code), None


def public_rows(publication: Publication) -> list[dict]:
    """What the public page lists: unit, score, rank, grade — never respondents or groups."""
    return [
        {k: row[k] for k in ("unit", "name", "score", "rank", "grade", "label", "steps")}
        for row in publication.rows
    ]


def grade_labels(publication: Publication) -> dict[str, str]:
    """The grades' labels as they stood when published (for the reasons' sentences)."""
    return next(iter(publication.reports.values()), {}).get("grade_labels", {})


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
    codes = {row["unit"] for row in public_rows(publication)}
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
