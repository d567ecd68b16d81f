"""A realistic demo: a district with streets, communities and service windows.

Synthetic responses come from a simple generative story (each unit has a true
quality, each respondent adds noise; panel experts add their own severity) so the
numbers on the staff pages and in ``evalsurvey analyze`` look like real ones.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from evalsurvey.domain import cycles, staff
from evalsurvey.domain.assessment import publication
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting import questionnaires as qdomain
from evalsurvey.domain.collecting.responses import insert_rows, response_row
from evalsurvey.domain.units import create_unit, ensure_rater_groups
from evalsurvey.extensions import db
from evalsurvey.models import (
    Channel,
    CycleStatus,
    LinkMode,
    RaterGroup,
    Response,
    Role,
    Unit,
)
from evalsurvey.models.types import utcnow

DEMO_ADMIN = ("admin", "admin-demo-2026")
DEMO_CONTACT = "c0101"  # unit contact of the first community, same password
DEMO_VIEWER = "viewer"
# the other roles, to try each side of the two-level review and the consultation
DEMO_STREET = "s01"  # contact of the first street: proposes grades for its communities
DEMO_INSPECTOR = "inspector"  # the district office's inspector: draws and re-reviews
DEMO_DEPARTMENT = "petitions"  # the petitions office: proposes penalties

CITIZEN_QUESTIONNAIRE = {
    "code": "CITIZEN-WINDOW",
    "title": "窗口服务满意度评价",
    "title_en": "Service window satisfaction",
    "intro": "请根据您本次办事的体验评价。",
    "intro_en": "Please rate your visit today.",
    "items": [
        {
            "code": "attitude",
            "text": "工作人员服务态度",
            "text_en": "Staff attitude",
            "type": "satisfaction5",
        },
        {
            "code": "efficiency",
            "text": "办事效率",
            "text_en": "Speed of service",
            "type": "satisfaction5",
        },
        {
            "code": "guidance",
            "text": "政策解释和办事指引",
            "text_en": "Explanations and guidance",
            "type": "satisfaction5",
        },
        {"code": "environment", "text": "服务环境", "text_en": "Premises", "type": "satisfaction5"},
        {
            "code": "integrity",
            "text": "廉洁办事情况",
            "text_en": "Integrity",
            "type": "satisfaction5",
        },
        {
            "code": "overall",
            "text": "总体满意度",
            "text_en": "Overall satisfaction",
            "type": "satisfaction5",
        },
    ],
}
MEMBER_QUESTIONNAIRE = {
    "code": "MEMBER",
    "title": "党员对基层党组织满意度测评",
    "title_en": "Members' rating of their Party organisation",
    "intro": "匿名填写，请如实评价。",
    "intro_en": "Anonymous: please answer frankly.",
    "items": [
        {
            "code": "m_life",
            "text": "组织生活开展情况",
            "text_en": "Organisational life",
            "type": "satisfaction5",
        },
        {
            "code": "m_three",
            "text": "“三会一课”落实情况",
            "text_en": "Regular meetings and Party lectures",
            "type": "satisfaction5",
        },
        {
            "code": "m_team",
            "text": "班子团结和作风",
            "text_en": "Leadership team's unity and conduct",
            "type": "satisfaction5",
        },
        {
            "code": "m_open",
            "text": "党务公开情况",
            "text_en": "Openness of Party affairs",
            "type": "satisfaction5",
        },
        {
            "code": "m_contact",
            "text": "联系服务群众情况",
            "text_en": "Contact with residents",
            "type": "satisfaction5",
        },
        {
            "code": "m_score",
            "text": "总体评分（0–10）",
            "text_en": "Overall score (0–10)",
            "type": "scale10",
        },
        {
            "code": "m_years",
            "text": "您的党龄",
            "text_en": "Years of membership",
            "type": "single",
            "required": False,
            "options": [
                {"code": "lt5", "text": "5年以下", "text_en": "under 5"},
                {"code": "5to20", "text": "5–20年", "text_en": "5–20"},
                {"code": "gt20", "text": "20年以上", "text_en": "over 20"},
            ],
        },
    ],
}
PANEL_QUESTIONNAIRE = {
    "code": "PANEL-RUBRIC",
    "title": "第三方评审组评分表",
    "title_en": "Third-party panel rubric",
    "items": [
        {
            "code": "p_lead",
            "text": "领导班子建设（20分）",
            "text_en": "Leadership team (20)",
            "type": "points",
            "max_points": 20,
        },
        {
            "code": "p_org",
            "text": "组织和党员队伍建设（20分）",
            "text_en": "Organisation and membership (20)",
            "type": "points",
            "max_points": 20,
        },
        {
            "code": "p_mech",
            "text": "工作机制（20分）",
            "text_en": "Working mechanisms (20)",
            "type": "points",
            "max_points": 20,
        },
        {
            "code": "p_result",
            "text": "工作成效（25分）",
            "text_en": "Results (25)",
            "type": "points",
            "max_points": 25,
        },
        {
            "code": "p_public",
            "text": "群众评价（15分）",
            "text_en": "Public feedback (15)",
            "type": "points",
            "max_points": 15,
        },
    ],
}

RESIDENT_QUESTIONNAIRE = {
    "code": "RESIDENT",
    "title": "社区党组织群众满意度测评",
    "title_en": "Residents' rating of the community Party organisation",
    "intro": "匿名填写，请根据您的感受评价。",
    "intro_en": "Anonymous: please rate as you see it.",
    "items": [
        {
            "code": "r_serve",
            "text": "为民服务",
            "text_en": "Service to residents",
            "type": "satisfaction5",
        },
        {
            "code": "r_listen",
            "text": "听取群众意见",
            "text_en": "Listening to residents",
            "type": "satisfaction5",
        },
        {
            "code": "r_members",
            "text": "党员作用发挥",
            "text_en": "Members setting an example",
            "type": "satisfaction5",
        },
        {
            "code": "r_env",
            "text": "社区环境和秩序",
            "text_en": "Neighbourhood and order",
            "type": "satisfaction5",
        },
    ],
}

STREETS = ["东华门街道", "景山街道", "交道口街道"]
COMMUNITIES = ["北池子社区", "南池子社区", "灯市口社区", "智德社区"]
WINDOWS = ["社保服务窗口", "综合受理窗口"]


def _published(data: dict) -> object:
    q = qdomain.create_draft(data)
    qdomain.freeze_version(q)
    return q


def load(
    n_responses: int = 3000,
    seed: int = 2026,
    progress: Callable[[int], None] | None = None,
    history: bool = False,
) -> str:
    """The demo district. ``history`` adds an earlier cycle (2026H1), closed and published,
    with half as many responses, before the open 2026H2."""
    rng = np.random.default_rng(seed)
    groups = ensure_rater_groups()
    district = create_unit("D01", "示范区", "district")
    communities: list[Unit] = []
    windows: list[Unit] = []
    for s, street_name in enumerate(STREETS, start=1):
        street = create_unit(f"S{s:02d}", street_name, "street", district.code)
        for c, community_name in enumerate(COMMUNITIES, start=1):
            community = create_unit(
                f"C{s:02d}{c:02d}", f"{street_name}{community_name}", "community", street.code
            )
            communities.append(community)
            for w, window_name in enumerate(WINDOWS, start=1):
                windows.append(
                    create_unit(
                        f"W{s:02d}{c:02d}{w}",
                        f"{community_name}党群服务中心{window_name}",
                        "service_window",
                        community.code,
                    )
                )
    staff.create_staff(DEMO_ADMIN[0], DEMO_ADMIN[1], Role.ADMIN, name="演示管理员")
    staff.create_staff(
        DEMO_CONTACT, DEMO_ADMIN[1], Role.UNIT_CONTACT, communities[0].code, "北池子社区联络员"
    )
    staff.create_staff(DEMO_VIEWER, DEMO_ADMIN[1], Role.VIEWER, name="考核办观察员")
    staff.create_staff(DEMO_STREET, DEMO_ADMIN[1], Role.UNIT_CONTACT, "S01", "东华门街道联络员")
    staff.create_staff(DEMO_INSPECTOR, DEMO_ADMIN[1], Role.INSPECTOR, name="区考核组")
    staff.create_staff(DEMO_DEPARTMENT, DEMO_ADMIN[1], Role.DEPARTMENT, name="区信访办")

    questionnaires = {
        "citizen": _published(CITIZEN_QUESTIONNAIRE),
        "member": _published(MEMBER_QUESTIONNAIRE),
        "panel": _published(PANEL_QUESTIONNAIRE),
        "resident": _published(RESIDENT_QUESTIONNAIRE),
    }
    quality = {u.id: rng.normal(0.0, 0.5) for u in windows + communities}
    now = utcnow()
    if history:
        # the first half of the year, closed and published: most units were a little worse
        # then, so the trend and the change against the previous cycle have something to show
        earlier = {u: q - rng.normal(0.15, 0.2) for u, q in quality.items()}
        past = now - timedelta(days=182)
        first = _run_cycle(
            ("2026H1", "2026年上半年党建考评", past), questionnaires, groups, windows,
            communities, rng, earlier, n_responses // 2, None,
        )  # fmt: skip
        cycles.transition(first, CycleStatus.CLOSED)
        for unit_type in ("community", "service_window"):
            publication.publish_results(first, unit_type, "demo", days=7)
        cycles.transition(first, CycleStatus.PUBLISHED)
        db.session.commit()
    cycle = _run_cycle(
        ("2026H2", "2026年下半年党建考评", now), questionnaires, groups, windows, communities,
        rng, quality, n_responses, progress,
    )  # fmt: skip
    # the ledger: a proposed item for every deduction, a follow-up for every bad review
    from evalsurvey.domain.assessment import ledger

    ledger.propose_from_deductions(cycle, "community")
    ledger.follow_up_bad_reviews(cycle)
    db.session.commit()
    n_rows = db.session.scalar(
        select(func.count()).select_from(Response).where(Response.cycle_id == cycle.id)
    )
    return (
        f"demo loaded: {len(windows)} service windows, {len(communities)} communities, "
        f"cycle {cycle.code}, {n_rows} responses"
    )


def _run_cycle(
    cycle_of: tuple[str, str, datetime],
    questionnaires: dict,
    groups: dict[str, RaterGroup],
    windows: list[Unit],
    communities: list[Unit],
    rng: np.random.Generator,
    quality: dict[int, float],
    n_responses: int,
    progress: Callable[[int], None] | None,
):
    """One cycle opened 60 days before ``now`` with its links, synthetic responses, findings,
    stored analysis, composite weights, grade rules and composite runs. Committed."""
    code, name, now = cycle_of
    q_cit, q_mem, q_pan, q_res = (
        questionnaires[k] for k in ("citizen", "member", "panel", "resident")
    )
    cycle = cycles.create_cycle(
        code,
        name,
        "half",
        opens_at=now - timedelta(days=60),
        closes_at=now + timedelta(days=60),
    )
    cycles.transition(cycle, CycleStatus.OPEN)
    window_links = [
        link_domain.create_link(
            cycle=cycle, questionnaire=q_cit, unit=w, rater_group=groups["citizen"]
        )[0]
        for w in windows
    ]
    member_links = [
        link_domain.create_link(
            cycle=cycle,
            questionnaire=q_mem,
            unit=c,
            rater_group=groups["member"],
            mode=LinkMode.INVITE,
        )[0]
        for c in communities
    ]
    panel_links = [
        link_domain.create_link(
            cycle=cycle,
            questionnaire=q_pan,
            unit=c,
            rater_group=groups["panel"],
            mode=LinkMode.INVITE,
            record_rater=True,
        )[0]
        for c in communities
    ]
    experts = [f"E{e:02d}" for e in range(1, 9)]
    for link in member_links:
        link_domain.create_invitations(link, [{"name": f"党员{n:02d}"} for n in range(1, 31)])
    own_unit = {e: communities[i].code for i, e in enumerate(experts) if i < len(communities)}
    for link in panel_links:
        # the synthetic panel scores below stand for these experts' submissions; nobody
        # is invited to rate their own community
        for inv in link_domain.create_invitations(
            link,
            [
                {"name": f"专家{e}", "rater_code": e, "rater_unit": own_unit.get(e, "")}
                for e in experts
                if own_unit.get(e) != link.unit.code
            ],
        ):
            inv.used = True
    db.session.flush()

    rows: list[dict] = []

    def base_row(link, answers, submitted, duration, channel, device, rater="", rater_unit=""):
        return response_row(
            link=link,
            channel=channel,
            started_at=submitted - timedelta(seconds=float(duration)),
            submitted_at=submitted,
            answers=answers,
            device=device,
            submission_key="demo-" + secrets.token_hex(10),
            rater=rater,
            rater_unit=rater_unit,
        )

    def when() -> object:
        return now - timedelta(days=float(rng.uniform(0, 55)), hours=float(rng.uniform(0, 9)))

    resident_links = [
        link_domain.create_link(
            cycle=cycle, questionnaire=q_res, unit=c, rater_group=groups["citizen"]
        )[0]
        for c in communities
    ]
    department_links = [
        link_domain.create_link(
            cycle=cycle,
            questionnaire=q_res,
            unit=c,
            rater_group=groups["department"],
            mode=LinkMode.INVITE,
        )[0]
        for c in communities
    ]
    items_res = [i["code"] for i in RESIDENT_QUESTIONNAIRE["items"]]
    for links, per_unit, base in ((resident_links, 20, 4.0), (department_links, 6, 4.2)):
        for link in links:
            for _ in range(per_unit):
                latent = base + quality[link.unit_id] + rng.normal(0, 0.5)
                answers = {
                    c: int(np.clip(round(latent + rng.normal(0, 0.5)), 1, 5)) for c in items_res
                }
                channel = Channel.QR if links is resident_links else Channel.INVITE
                device = secrets.token_hex(16) if channel == Channel.QR else ""
                rows.append(
                    base_row(link, answers, when(), rng.lognormal(np.log(80), 0.4), channel, device)
                )
    n_members = n_responses // 6
    n_citizens = n_responses - n_members
    items_cit = [i["code"] for i in CITIZEN_QUESTIONNAIRE["items"]]
    comments = ["", "", "", "办事很快，谢谢！", "等候时间有点长。", "希望增加周末服务。"]
    for _ in range(n_citizens):
        link = window_links[int(rng.integers(len(window_links)))]
        latent = 4.1 + quality[link.unit_id] + rng.normal(0, 0.6)
        answers = {c: int(np.clip(round(latent + rng.normal(0, 0.5)), 1, 5)) for c in items_cit}
        row = base_row(
            link, answers, when(), rng.lognormal(np.log(70), 0.4), Channel.QR, secrets.token_hex(16)
        )
        row["comment"] = comments[int(rng.integers(len(comments)))]
        rows.append(row)
    items_mem = [i["code"] for i in MEMBER_QUESTIONNAIRE["items"][:5]]
    for _ in range(n_members):
        link = member_links[int(rng.integers(len(member_links)))]
        latent = 4.2 + quality[link.unit_id] + rng.normal(0, 0.5)
        answers = {c: int(np.clip(round(latent + rng.normal(0, 0.5)), 1, 5)) for c in items_mem}
        answers["m_score"] = int(np.clip(round(2 * latent + rng.normal(0, 1)), 0, 10))
        answers["m_years"] = ["lt5", "5to20", "gt20", None][int(rng.integers(4))]
        rows.append(
            base_row(link, answers, when(), rng.lognormal(np.log(120), 0.4), Channel.INVITE, "")
        )
    severity = {e: rng.normal(0, 0.05) for e in experts}
    maxima = {i["code"]: i["max_points"] for i in PANEL_QUESTIONNAIRE["items"]}
    for link in panel_links:
        for e in experts:
            if own_unit.get(e) == link.unit.code:
                continue  # not invited: a rater never rates their own unit
            share = np.clip(
                0.82 + quality[link.unit_id] / 5 + severity[e] + rng.normal(0, 0.04), 0.3, 1.0
            )
            answers = {
                c: round(float(m * np.clip(share + rng.normal(0, 0.03), 0, 1)) * 2) / 2
                for c, m in maxima.items()
            }
            rows.append(
                base_row(
                    link,
                    answers,
                    when(),
                    rng.lognormal(np.log(600), 0.3),
                    Channel.INVITE,
                    "",
                    e,
                    communities[experts.index(e)].code
                    if experts.index(e) < len(communities)
                    else "",
                )
            )
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        insert_rows(chunk)
        if progress is not None:
            progress(min(len(chunk), max(0, n_responses - start)))
    _assess_communities(cycle, communities, rng, quality)
    db.session.commit()
    # the results a newcomer sees on the analysis page, stored as a run like any other
    from evalsurvey.domain.results.analysis import run_analysis

    run_analysis(cycle, "demo")
    # the composite: inspection 60%, panel 20%, residents 10%, members 10% (windows: citizens)
    from evalsurvey.domain.assessment import composite

    composite.set_weights(
        cycle, "community", {"inspection": 0.6, "panel": 0.2, "citizen": 0.1, "member": 0.1}
    )
    composite.set_weights(cycle, "service_window", {"citizen": 1.0})
    db.session.commit()
    # communities get stars (seed 002); windows grades with quotas (seed 001, 004 篇七)
    from evalsurvey.domain.assessment import grades

    grades.set_rules(cycle, "community", grades.DEFAULT_STARS)
    grades.set_rules(
        cycle,
        "service_window",
        {
            "kind": "quota",
            "grades": [
                {"code": "excellent", "label": "优秀", "min_score": 90, "max_share": 0.2},
                {"code": "advanced", "label": "先进", "min_score": 85, "max_share": 0.3},
                {"code": "meets", "label": "达标", "min_score": 60},
                {"code": "below", "label": "不达标"},
            ],
            "tie_break": ["citizen"],
        },
    )
    db.session.commit()
    for unit_type in ("community", "service_window"):
        composite.run_composite(cycle, unit_type, "demo")
    return cycle


def _assess_communities(cycle, communities, rng, quality) -> None:
    """The seed-002 community scheme and an inspection team's findings for every community."""
    import json
    from pathlib import Path

    from evalsurvey.domain.assessment import schemes
    from evalsurvey.models import SchemeVersion

    path = Path(__file__).resolve().parent / "data" / "schemes" / "community_002.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    # an earlier cycle of the demo published it already: every cycle uses that version
    version = db.session.scalar(
        select(SchemeVersion).where(
            SchemeVersion.code == data["code"], SchemeVersion.published_at.is_not(None)
        )
    )
    if version is None:
        version = schemes.import_scheme(data)
        schemes.freeze_scheme_version(version)
    schemes.assign_scheme(cycle, "community", version)
    scheme = schemes.scheme_of(version)
    for unit in communities:
        care = float(np.clip(0.7 + 0.5 * quality[unit.id], 0.0, 1.0))  # how well run the unit is
        for element in scheme.elements():
            rule = element.rule
            value, note = "", ""
            if rule.type == "checklist":
                value = str(int(rng.poisson(1.2 * (1 - care))))
            elif rule.type == "tiers":
                bounds = [b for b, _p in rule.params["tiers"]]
                value = (
                    "1" if bounds == [1] else f"{min(100, 70 + 35 * care + rng.normal(0, 5)):.0f}"
                )
                value = value if bounds != [1] or rng.random() < 0.7 + 0.3 * care else "0"
            elif rule.type == "rank_tiers":
                value = f"{60 + 40 * care + rng.normal(0, 3):.1f}"
            elif rule.type == "per_occurrence":
                category = next(iter(rule.params["points"]))
                value = f"{category}:{int(rng.poisson(3 * care))}"
            elif rule.type == "manual":
                value = f"{element.points * round(0.5 + 0.5 * care, 1):g}"
                note = "现场查看和访谈，情况较好" if care > 0.5 else "现场查看，仍有不足"
            else:
                continue  # survey elements come from the questionnaires
            schemes.record_finding(cycle, unit, element.code, value, note, "demo")
        if care > 0.7:
            schemes.record_finding(
                cycle, unit, "B1", "recognised:1", "居民议事会做法被街道推广", "demo"
            )
