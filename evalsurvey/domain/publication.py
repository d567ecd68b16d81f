"""Publishing results (公示) from a frozen run, and the objections raised against them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from evalsurvey.domain.composite import latest_composite
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.feedback import standing_rows, unit_reports
from evalsurvey.domain.grades import grade_cycle
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Objection, Publication, Unit
from evalsurvey.models.types import utcnow

OBJECTION_MAX = 2000


def publication_of(cycle: Cycle, unit_type: str) -> Publication | None:
    return db.session.scalar(
        select(Publication).where(
            Publication.cycle_id == cycle.id, Publication.unit_type == unit_type
        )
    )


def publish_results(cycle: Cycle, unit_type: str, actor: str, days: int = 7) -> Publication:
    """Freeze the latest stored composite of the unit type, with its grades, and open the
    objection period. Only a closed (or published) cycle's results are published, and only
    once the two-level review is complete (:func:`.review.check_publishable`). Flushed."""
    from evalsurvey.domain.review import check_publishable  # review builds on this module

    if cycle.status not in (CycleStatus.CLOSED, CycleStatus.PUBLISHED):
        raise DomainError("只能公示已关闭周期的结果。")
    if not 1 <= days <= 60:
        raise DomainError("公示期应为 1 到 60 天。", "days")
    if publication_of(cycle, unit_type) is not None:
        raise DomainError("该类单位的结果已经公示。")
    run = latest_composite(cycle, unit_type)
    if run is None:
        raise DomainError("还没有保存的综合结果，请先计算。")
    check_publishable(cycle, unit_type)
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
