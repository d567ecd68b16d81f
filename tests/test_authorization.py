"""The authorization matrix, generated from the URL map: every endpoint × every role with
the status it must answer. An endpoint added without an entry here fails this test."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey.domain import consultation as consultation_domain
from evalsurvey.domain import demo
from evalsurvey.domain.responses import acknowledge
from evalsurvey.extensions import db
from evalsurvey.models import (
    Cycle,
    Finding,
    Invitation,
    Link,
    LinkMode,
    Questionnaire,
    RaterGroup,
    RectificationItem,
    Response,
    Role,
    SchemeVersion,
    StaffUser,
    Unit,
)
from tests.factories import hidden_fields, login, make_staff

PASSWORD = "admin-demo-2026"
# the roles, and who plays them (the demo's people plus a panel expert)
ROLES = {
    "anonymous": None,
    "citizen": None,  # a visitor who opened a citizens' QR link
    "member": None,  # a visitor who opened a member's invitation
    "panel": "expert",
    "contact_a": "c0101",  # the contact of community C0101 (unit A)
    "inspector": "inspector",
    "viewer": "viewer",
    "department": "petitions",
    "admin": "admin",
}
STAFF = {"panel", "contact_a", "inspector", "viewer", "department", "admin"}
VISITORS = {"anonymous", "citizen", "member"}

# who may use each endpoint: the roles allowed (everyone else: 403, visitors: the login page)
ADMIN = {"admin"}
REVIEWERS = {"admin", "inspector"}
ANALYSTS = {"admin", "inspector", "viewer"}
READERS = {"admin", "inspector", "viewer", "contact_a"}
OFFICE_READERS = {"admin", "inspector", "viewer"}  # unit B's pages: not unit A's contact
SIGNED_IN = STAFF
PUBLIC = "public"  # the same answer for everyone

EXPECTED: dict[str, tuple[object, int | dict[str, int]]] = {
    # endpoint: (allowed roles, status for them); unit-scoped pages point at unit B
    "index": (PUBLIC, 302),
    "healthz": (PUBLIC, 200),
    "static": (PUBLIC, 200),
    "public.survey": (PUBLIC, 200),
    "public.thanks": (PUBLIC, 200),
    "public.invitation": (PUBLIC, 200),
    "disclosure.disclosure": (PUBLIC, 404),  # nothing published yet
    "auth.login": (PUBLIC, {"visitor": 200, "staff": 302}),  # staff go on to their home
    "auth.logout": (PUBLIC, 302),
    "auth.change_password": (SIGNED_IN, 200),
    "admin.dashboard": (STAFF, 200),
    "admin.audit_log": (ADMIN, 200),
    "admin.cycles": (ADMIN, 200),
    "admin.cycle": (READERS, 200),
    "admin.edit_cycle": (ADMIN, 200),
    "admin.cycle_status": (ADMIN, 200),
    "admin.analysis": (ANALYSTS, 200),
    "admin.recompute": (REVIEWERS, 302),
    "admin.mark_suspects": (REVIEWERS, 302),
    "admin.assessment": (READERS, 200),
    "admin.unit_assessment": (OFFICE_READERS, 200),
    "admin.finding_evidence": (OFFICE_READERS, 404),  # no file attached
    "admin.composite": (READERS, 200),
    "admin.recompute_composite": (REVIEWERS, 302),
    "admin.composite_settings": (ADMIN, 302),
    "admin.grade_settings": (ADMIN, 302),
    "admin.consultation": ({"admin", "department"}, 200),
    "admin.adjustment_evidence": ({"admin", "inspector", "department"}, 404),
    "admin.ledger": (READERS, 200),
    "admin.propose_items": (REVIEWERS, 302),
    "admin.ledger_item": (OFFICE_READERS, 200),
    "admin.ledger_evidence": (OFFICE_READERS, 404),
    "admin.create_links": (ADMIN, 400),  # an empty form: its errors
    "admin.posters": (READERS, 200),
    "admin.link_qr": (READERS, 200),
    "admin.close_link": (ADMIN, 200),
    "admin.reopen_link": (ADMIN, 200),
    "admin.invitations": (ADMIN, 200),
    "admin.invitations_csv": (ADMIN, 200),
    "admin.invitation_slips": (ADMIN, 200),
    "admin.paper_forms": (ADMIN, 200),
    "admin.paper_template": (ADMIN, 200),
    "admin.objections": (ADMIN, 200),
    "admin.publish_results": (ADMIN, 200),
    "admin.review": (READERS, 200),
    "admin.inflation": (ANALYSTS, 200),
    "admin.reports": (READERS, 200),
    "admin.feedback": (OFFICE_READERS, 200),
    "admin.dashboard_of_unit": (OFFICE_READERS, 200),
    "admin.feedback_pdf": (OFFICE_READERS, 200),
    "admin.responses": (READERS, 200),
    "admin.export_csv": (READERS, 200),
    "admin.export_xlsx": (READERS, 200),
    "admin.export_sav": (READERS, 200),
    "admin.export_results": (READERS, 200),
    "admin.response_status": (REVIEWERS, 302),
    "admin.review_queue": (ANALYSTS, 200),
    "admin.dashboard_of_cycle": (ANALYSTS, 200),
    "admin.response_detail": (OFFICE_READERS, 200),  # a response of unit B
    "admin.cycle_schemes": (ADMIN, 200),
    "admin.schemes": (ADMIN, 200),
    "admin.scheme": (READERS, 200),
    "admin.scheme_file": (READERS, 200),
    "admin.new_scheme_version": (ADMIN, 302),
    "admin.panel_sheet": (ADMIN, 302),
    "admin.publish_scheme": (ADMIN, 200),  # the confirmation page
    "admin.questionnaires": (ADMIN, 200),
    "admin.questionnaire": (ADMIN, 200),
    "admin.questionnaire_json": (ADMIN, 200),
    "admin.edit_questionnaire": (ADMIN, 302),
    "admin.build_questionnaire": (ADMIN, 302),  # a published version: back to its page
    "admin.preview_questionnaire": (ADMIN, 200),
    "admin.new_questionnaire_version": (ADMIN, 302),
    "admin.publish_questionnaire": (ADMIN, 200),
    "admin.rater_groups": (ADMIN, 200),
    "admin.rater_group_visibility": (ADMIN, 302),
    "admin.staff": (ADMIN, 200),
    "admin.staff_user": (ADMIN, 200),
    "admin.toggle_staff": (ADMIN, 302),
    "admin.units": (ADMIN, 200),
    "admin.edit_unit": (ADMIN, 200),
    "admin.import_units_view": (ADMIN, 302),
}


def _params(app) -> dict[str, str]:
    """A value for every URL parameter, pointing at unit B (C0102) where it matters."""
    cycle = db.session.scalar(select(Cycle))
    unit_b = db.session.scalar(select(Unit).where(Unit.code == "C0102"))
    citizen = db.session.scalar(select(Link).where(Link.mode == LinkMode.PUBLIC))
    invited = db.session.scalar(select(Invitation).where(Invitation.used.is_(False)))
    response = db.session.scalar(select(Response).where(Response.unit_id == unit_b.id))
    return {
        "cycle_id": cycle.id,
        "unit_id": unit_b.id,
        "link_id": citizen.id,
        "code": citizen.code,
        "token": invited.token,
        "invite_link_id": invited.link_id,
        "public_id": response.public_id,
        "finding_id": db.session.scalar(select(Finding.id).where(Finding.unit_id == unit_b.id)),
        "item_id": db.session.scalar(
            select(RectificationItem.id).where(RectificationItem.unit_id == unit_b.id)
        ),
        "scheme_id": db.session.scalar(select(SchemeVersion.id)),
        "qid": db.session.scalar(select(Questionnaire.id)),
        "group_id": db.session.scalar(select(RaterGroup.id)),
        "user_id": db.session.scalar(select(StaffUser.id).where(StaffUser.username == "spare")),
        "cycle_code": cycle.code,
        "unit_type": "community",
        "status": "closed",
        "fmt": "json",  # scheme files; the QR code and results get theirs below
        "filename": "print.js",
    }


def _url(rule, params: dict) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(params[name]), url)
    if rule.endpoint in ("admin.invitations", "admin.invitations_csv", "admin.invitation_slips"):
        url = url.replace(f"/links/{params['link_id']}/", f"/links/{params['invite_link_id']}/")
    if rule.endpoint == "admin.link_qr":
        url = url.replace(".json", ".png")
    if rule.endpoint == "admin.export_results":
        url = url.replace(".json", ".xlsx") + "?type=community"
    if rule.endpoint == "public.thanks":
        url += "?k=" + params["thanks_key"]
    return url


def test_every_endpoint_answers_every_role_as_expected(app):
    demo.load(n_responses=200, seed=5)
    make_staff("expert", Role.PANEL, password=PASSWORD)
    make_staff("spare", Role.VIEWER, password=PASSWORD)
    cycle = db.session.scalar(select(Cycle))
    unit_b = db.session.scalar(select(Unit).where(Unit.code == "C0102"))
    params = _params(app)
    penalty = consultation_domain.adjustable_items(cycle, unit_b)[0]
    category = next(iter(penalty.rule.params["points"]))
    found = consultation_domain.submit_adjustment(
        cycle, unit_b, penalty.code, f"{category}:1", "群众来信", "petitions"
    )
    db.session.commit()
    params["adjustment_id"] = found.id
    citizen_link = db.session.get(Link, params["link_id"])
    params["thanks_key"] = acknowledge(
        app.config["SECRET_KEY"],
        citizen_link.code,
        db.session.scalar(
            select(Response.submission_key).where(Response.link_id == citizen_link.id)
        ),
    )

    rules = [r for r in app.url_map.iter_rules()]
    missing = sorted({r.endpoint for r in rules} - set(EXPECTED))
    assert not missing, f"endpoints without an entry in the matrix: {missing}"
    assert not set(EXPECTED) - {r.endpoint for r in rules}, "entries for endpoints that went"

    clients = {}
    for role, user in ROLES.items():
        client = app.test_client()
        if user:
            assert login(client, user, PASSWORD).status_code == 302, role
        elif role == "citizen":
            client.get(f"/s/{params['code']}")
        elif role == "member":
            client.get(f"/i/{params['token']}")
        page = client.get("/auth/password" if user else "/auth/login")
        clients[role] = (client, hidden_fields(page.get_data(as_text=True)).get("csrf_token", ""))

    wrong = []
    # logout last: it ends the role's session
    ordered = sorted(rules, key=lambda r: r.endpoint == "auth.logout")
    for rule in ordered:
        allowed, status = EXPECTED[rule.endpoint]
        url = _url(rule, params)
        method = "GET" if "GET" in rule.methods else "POST"
        for role, (client, token) in clients.items():
            if method == "GET":
                resp = client.get(url)
            else:
                resp = client.post(url, data={"csrf_token": token})
            if isinstance(status, dict):
                status_for = status["staff" if role in STAFF else "visitor"]
            else:
                status_for = status
            if allowed == PUBLIC or role in allowed:
                expected = status_for
            elif role in VISITORS:
                expected = 302  # to the sign-in page
            else:
                expected = 403
            got = resp.status_code
            if role in VISITORS and allowed != PUBLIC and got == 302:
                if "/auth/login" not in resp.headers["Location"]:
                    got = -1  # a redirect, but not to sign in
            if got != expected:
                wrong.append(f"{method} {url} as {role}: {got}, expected {expected}")
            resp.close()
    assert not wrong, "\n".join(wrong)


def test_the_matrix_knows_unit_a_from_unit_b(app):
    """The unit-scoped entries point at unit B; unit A's own pages open for its contact."""
    demo.load(n_responses=200, seed=5)
    cycle = db.session.scalar(select(Cycle))
    unit_a = db.session.scalar(select(Unit).where(Unit.code == "C0101"))
    client = app.test_client()
    login(client, ROLES["contact_a"], PASSWORD)
    assert client.get(f"/admin/cycles/{cycle.id}/units/{unit_a.id}").status_code == 200
