"""Links, invitations and their QR codes."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime

import qrcode
import qrcode.image.pure
import qrcode.image.svg
from sqlalchemy import bindparam, select

from evalsurvey.audit import record_reason
from evalsurvey.cells import inert
from evalsurvey.domain.errors import DomainError
from evalsurvey.extensions import db
from evalsurvey.i18n import N_
from evalsurvey.models import (
    Cycle,
    Invitation,
    Link,
    LinkMode,
    Questionnaire,
    RaterGroup,
    Unit,
)
from evalsurvey.models.types import utcnow

# Letters and digits without look-alikes (no i, l, o, 0, 1): easy to type from a poster.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class CycleWindow:
    """When a cycle accepts responses: its dates and status, judged by :class:`Cycle`'s
    own rules (the same methods, so the rule stays written once)."""

    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None

    closed_since = Cycle.closed_since
    accepting = Cycle.accepting


@dataclass(frozen=True)
class UnitName:
    name: str


@dataclass(frozen=True)
class PublicLink:
    """What a respondent's page needs of its link, read in one plain query: no ORM objects
    on the busiest path (``benchmarks/bench_throughput.py``). Closed or not is decided by
    :class:`Link`'s own rule."""

    id: int
    code: str
    mode: str
    active: bool
    closed_at: datetime | None
    record_rater: bool
    cycle_id: int
    unit_id: int
    rater_group_id: int
    questionnaire_id: int
    cycle: CycleWindow
    unit: UnitName

    closed_since = Link.closed_since


# The columns in the order of PublicLink's fields, then CycleWindow's, then the unit's name.
_PUBLIC_LINK = (
    select(
        Link.id,
        Link.code,
        Link.mode,
        Link.active,
        Link.closed_at,
        Link.record_rater,
        Link.cycle_id,
        Link.unit_id,
        Link.rater_group_id,
        Link.questionnaire_id,
        Cycle.status,
        Cycle.opens_at,
        Cycle.closes_at,
        Cycle.closed_at,
        Unit.name,
    )
    .join(Cycle, Cycle.id == Link.cycle_id)
    .join(Unit, Unit.id == Link.unit_id)
    .where(Link.code == bindparam("code"))
)


def public_link(code: str) -> PublicLink | None:
    """The link behind a QR code, as :class:`PublicLink`; None if there is none."""
    row = db.session.connection().execute(_PUBLIC_LINK, {"code": code}).first()
    if row is None:
        return None
    return PublicLink(*row[:10], cycle=CycleWindow(*row[10:14]), unit=UnitName(row[14]))


def new_code(length: int = 12) -> str:
    """Short unguessable link code: 12 characters of 31 ≈ 59 bits, far beyond guessing."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def create_link(
    *,
    cycle: Cycle,
    questionnaire: Questionnaire,
    unit: Unit,
    rater_group: RaterGroup,
    mode: str = LinkMode.PUBLIC,
    record_rater: bool = False,
) -> tuple[Link, bool]:
    """The link for this cycle, unit, rater group and questionnaire: ``(link, created)``.

    A link that already exists (open) is returned as it is, so creating links twice
    never doubles a window's QR code.
    """
    if not questionnaire.published:
        raise DomainError("问卷必须先发布才能使用。", "questionnaire")
    if mode not in set(LinkMode):
        raise DomainError("未知的方式。", "mode")
    existing = db.session.scalar(
        select(Link).where(
            Link.cycle_id == cycle.id,
            Link.unit_id == unit.id,
            Link.rater_group_id == rater_group.id,
            Link.questionnaire_id == questionnaire.id,
            Link.mode == mode,
            Link.active.is_(True),
        )
    )
    if existing is not None:
        return existing, False
    link = Link(
        code=new_code(),
        cycle=cycle,
        questionnaire=questionnaire,
        unit=unit,
        rater_group=rater_group,
        mode=mode,
        record_rater=record_rater,
    )
    db.session.add(link)
    db.session.flush()
    return link, True


def close_link(link: Link) -> None:
    link.active = False
    link.closed_at = utcnow()
    db.session.flush()


def reopen_link(link: Link, reason: str) -> None:
    """An admin reopens a closed link, giving a reason that is audited."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("重新开放必须填写原因。", "reason")
    if link.active:
        return
    link.active, link.closed_at = True, None
    record_reason(link, "reopen", reason)
    db.session.flush()


# invitations made in one go (a count, a typed list or an uploaded file)
MAX_INVITATIONS = 5000


def create_invitations(link: Link, people: list[dict[str, str]]) -> list[Invitation]:
    """One single-use invitation per person (dicts with name, contact, rater_code, rater_unit).

    A rater never rates their own unit: an invitation whose ``rater_unit`` is the link's
    unit is refused (the statistics also leave such ratings out if they arrive otherwise).
    """
    if link.mode != LinkMode.INVITE:
        raise DomainError("只有邀请制链接可以生成邀请。")
    if len(people) > MAX_INVITATIONS:
        raise DomainError("一次最多生成 {n} 份邀请。", "people", n=MAX_INVITATIONS)
    for n, person in enumerate(people, start=1):
        if (person.get("rater_unit") or "").strip() == link.unit.code:
            raise DomainError(
                "第 {n} 行：评委 {rater} 属于被评单位本身，不能为本单位评分。",
                "people",
                n=n,
                rater=person.get("rater_code") or person.get("name", ""),
            )
        for key, limit in (("name", 200), ("contact", 200), ("rater_code", 40), ("rater_unit", 40)):
            if len(person.get(key) or "") > limit:
                raise DomainError("第 {n} 行：内容太长。", "people", n=n)
    made = []
    for n, person in enumerate(people, start=1):
        inv = Invitation(
            link=link,
            token=new_token(),
            name=person.get("name", ""),
            contact=person.get("contact", ""),
            rater_code=person.get("rater_code") or (f"R{n:03d}" if link.record_rater else ""),
            rater_unit=person.get("rater_unit", ""),
        )
        db.session.add(inv)
        made.append(inv)
    return made


def link_url(base_url: str, link: Link) -> str:
    return f"{base_url.rstrip('/')}/s/{link.code}"


def invitation_url(base_url: str, invitation: Invitation) -> str:
    return f"{base_url.rstrip('/')}/i/{invitation.token}"


INVITATION_COLUMNS = [
    N_("姓名"),
    N_("联系方式"),
    N_("单位编码"),
    N_("评委代号"),
    N_("已使用"),
    N_("个人链接"),
]


def invitations_csv(base_url: str, link: Link, translate=lambda m: m) -> str:
    """Mail-merge sheet: one row per invitation with its personal URL.

    People read it (mail merge in a word processor), so its header and yes/no are in
    the reader's language through ``translate``; a name or contact that begins like a
    formula is made :func:`~evalsurvey.cells.inert` (Excel opens it too).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([inert(translate(c)) for c in INVITATION_COLUMNS])
    yes, no = translate("是"), translate("否")
    rows = db.session.scalars(
        select(Invitation).where(Invitation.link_id == link.id).order_by(Invitation.id)
    )
    for inv in rows:
        row = [
            inv.name,
            inv.contact,
            link.unit.code,
            inv.rater_code,
            yes if inv.used else no,
            invitation_url(base_url, inv),
        ]
        writer.writerow([inert(v) for v in row])
    return "\ufeff" + out.getvalue()  # BOM so Excel opens UTF-8 Chinese correctly


def qr_png(url: str, box_size: int = 10) -> bytes:
    img = qrcode.make(
        url,
        image_factory=qrcode.image.pure.PyPNGImage,
        box_size=box_size,
        border=4,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def qr_svg(url: str) -> str:
    img = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        border=4,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    return img.to_string(encoding="unicode")
