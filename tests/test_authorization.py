"""The authorization matrix, generated from the URL map: every endpoint × every role with
the status it must answer. An endpoint added without an entry here fails this test."""

from __future__ import annotations

import re

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain import api_tokens
from evalsurvey.domain.assessment import consultation as consultation_domain
from evalsurvey.domain.collecting.responses import acknowledge
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
    "admin.cycle_minimums": (ADMIN, 302),
    "admin.cycle_status": (ADMIN, 200),
    "admin.analysis": (ANALYSTS, 200),
    "admin.recompute": (REVIEWERS, 302),
    "admin.mark_suspects": (REVIEWERS, 302),
    "admin.assessment": (READERS, 200),
    "admin.unit_assessment": (OFFICE_READERS, 200),
    "admin.finding_evidence": (OFFICE_READERS, 404),  # no file attached
    "admin.findings_grid": (REVIEWERS, 200),  # unit B's findings, whole-scheme entry
    "admin.findings_sheet": (REVIEWERS, 200),
    "admin.findings_sheet_file": (REVIEWERS, 200),
    "admin.composite": (READERS, 200),
    "admin.recompute_composite": (REVIEWERS, 302),
    "admin.composite_settings": (ADMIN, 302),
    "admin.grade_settings": (ADMIN, 302),
    "admin.consultation": ({"admin", "department"}, 200),
    "admin.approve_adjustment": (ADMIN, 200),  # its confirmation page
    "admin.reject_adjustment": (ADMIN, 200),
    "admin.adjustment_evidence": ({"admin", "inspector", "department"}, 404),
    "admin.ledger": (READERS, 200),
    "admin.propose_items": (REVIEWERS, 302),
    "admin.ledger_item": (OFFICE_READERS, 200),
    "admin.ledger_evidence": (OFFICE_READERS, 404),
    "admin.drop_ledger_item": (REVIEWERS, 200),  # a proposed item: the confirmation step
    "admin.restore_ledger_item": (REVIEWERS, 302),  # not dropped: back to the item, said why
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
    # a unit contact before publication: back to the composite page, which says why
    "admin.export_results": (READERS, {"staff": 200, "contact_a": 303}),
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
    "admin.freeze_scheme": (ADMIN, 200),  # the confirmation page
    "admin.questionnaires": (ADMIN, 200),
    "admin.questionnaire": (ADMIN, 200),
    "admin.questionnaire_json": (ADMIN, 200),
    "admin.edit_questionnaire": (ADMIN, 302),
    "admin.build_questionnaire": (ADMIN, 302),  # a published version: back to its page
    "admin.preview_questionnaire": (ADMIN, 200),
    "admin.new_questionnaire_version": (ADMIN, 302),
    "admin.freeze_questionnaire": (ADMIN, 200),
    "admin.rater_groups": (ADMIN, 200),
    "admin.rater_group_visibility": (ADMIN, 302),
    "admin.staff": (ADMIN, 200),
    "admin.staff_user": (ADMIN, 200),
    "admin.toggle_staff": (ADMIN, 302),
    "admin.units": (ADMIN, 200),
    "admin.edit_unit": (ADMIN, 200),
    "admin.import_units_view": (ADMIN, 302),
    "admin.api_token_list": (READERS, 200),
    # the spare viewer's token: only its owner and the admin may revoke it
    "admin.api_token_revoke": (ADMIN, 200),  # its confirmation page
    # the JSON API: a session cookie opens nothing (a token is needed: tests/api)
    "api.openapi_json": (PUBLIC, 200),
    "api.docs": (PUBLIC, 200),
    "api.docs_asset": (PUBLIC, 200),
    **{
        f"api.{name}": (PUBLIC, 401)
        for name in (
            "list_units",
            "get_unit",
            "list_rater_groups",
            "list_questionnaires",
            "list_cycles",
            "get_cycle",
            "list_links",
            "link_qr",
            "list_responses",
            "list_counts",
            "get_results",
            "get_published_results",
            "list_rectification_items",
            "ingest_responses",
        )
    },
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
        "name": "swagger-ui.css",  # an API docs asset
        "token_id": api_tokens.create_token(
            db.session.scalar(
                select(StaffUser)
                .where(StaffUser.username.in_(["spare", "admin"]))
                .order_by(StaffUser.username.desc())  # the spare viewer's where it exists
            )
        )[0].id,
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
    if rule.endpoint in ("admin.publish_results", "admin.objections"):
        url += "?type=community"  # without a unit type: not found
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
                status_for = status.get(role) or status.get("staff" if role in STAFF else "visitor")
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


# ---- what a unit contact reads, not only whether a page opens --------------------------


def _pts(value) -> str:
    """A score as the pages print it (the ``pts`` filter)."""
    return f"{round(float(value), 2):g}"


def _readable(resp) -> str:
    """What a person reads in a response: a page's text and form values, the text of its
    SVG charts (never their drawing coordinates), CSV text, every XLSX cell, PDF text."""
    import base64
    import html as html_lib
    import io
    import xml.etree.ElementTree as ET

    data, kind = resp.data, resp.mimetype
    if kind == "text/html":
        page = data.decode()
        charts = []
        for svg in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page):
            root = ET.fromstring(base64.b64decode(svg))
            charts += [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]
        page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S)
        values = re.findall(r'\b(?:value|alt|title)="([^"]*)"', page)
        text = re.sub(r"<[^>]+>", " ", page)
        return html_lib.unescape(" ".join([text, *values, *charts]))
    if kind in ("text/csv", "application/json", "text/plain"):
        return data.decode("utf-8-sig")
    if data[:2] == b"PK":  # XLSX
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return " ".join(
            str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row
        )
    if kind == "application/pdf":
        import pypdf

        return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    if kind.startswith("image/"):
        return ""  # QR codes
    return data.decode("latin-1")  # the SPSS file: its strings are stored as text


def _figures_of(cycle, code: str, unit_type: str = "community") -> dict[str, str]:
    """Unit ``code``'s results as the office sees them: each as a string a page or file
    would print (what it is → the string)."""
    from evalsurvey.domain.assessment import composite as composite_domain
    from evalsurvey.domain.assessment import schemes as scheme_domain
    from evalsurvey.domain.results.analysis import latest_runs
    from evalsurvey.domain.results.cycle import cycle_result

    found: dict[str, str] = {}
    assessed = scheme_domain.unit_type_results(cycle, unit_type)
    scheme = assessed.units.get(code) if assessed else None  # service windows: no scheme
    for name in ("total", "partial"):
        if scheme is not None and getattr(scheme, name) is not None:
            found[f"scheme {name}"] = _pts(getattr(scheme, name))
    run = composite_domain.latest_composite(cycle, unit_type)
    combined = next(u for u in run.result["units"] if u["unit"] == code)
    if combined["score"] is None:  # a window without enough responses: nothing to show
        return found
    found["composite"] = _pts(combined["score"])
    found["composite, unrounded"] = repr(combined["score"])
    found["composite rank"] = f"第 {combined['rank']} 名"
    row = next(r for r in cycle_result(cycle, unit_type).ranking() if r.unit == code)
    found["standing score"] = _pts(row.score)
    found["standing rank"] = f"第 {row.rank} 名"
    assert row.label
    # stars: any star is a leak (no unit in a contact's scope may show one); named grades
    # (the windows' quota grades): the unit's own label
    found["grade"] = "★" if row.label.startswith("★") else row.label
    survey = next(u for u in latest_runs(cycle)[unit_type].result["units"] if u["unit"] == code)
    for group, entry in survey["groups"].items():
        if entry["score"] is not None:
            found[f"{group} satisfaction"] = _pts(entry["score"])
        if entry.get("ci95"):
            found[f"{group} interval"] = f"{_pts(entry['ci95'][0])}–{_pts(entry['ci95'][1])}"
    return found


def _leaks(read: dict[str, str], figures: dict[str, dict[str, str]], proposes: set[str]):
    """Each figure of each unit (code → its figures) found in what the person read. The
    review page may show the computed composite of the units the person proposes for
    (``proposes``): the one figure the two-level review needs (on a window it is also its
    citizens' score). A whole number ("75") is looked for only with a single unit: among
    many units' figures it also stands in schemes, counts and file bytes by chance."""
    found = []
    many = len(figures) > 1
    for url, text in read.items():
        for code, shown in figures.items():
            allowed = {shown.get("composite")} if "/review" in url and code in proposes else set()
            if "/admin/schemes/" in url:
                allowed.add("★")  # a scheme's vetoes name the grade they cap (★★★), a rule
            found += [
                f"{url}: {code} {what} {value!r}"
                for what, value in shown.items()
                if value in text and value not in allowed and not (many and value.isdigit())
            ]
    return found


def _unit_params(params: dict, unit) -> dict:
    """``params`` pointing the unit-scoped pages at ``unit``."""
    return {
        **params,
        "unit_id": unit.id,
        "public_id": db.session.scalar(
            select(Response.public_id).where(Response.unit_id == unit.id).limit(1)
        ),
        "finding_id": db.session.scalar(
            select(Finding.id).where(Finding.unit_id == unit.id).limit(1)
        ),
        "item_id": db.session.scalar(
            select(RectificationItem.id)
            .where(RectificationItem.unit_id == unit.id, RectificationItem.source == "deduction")
            .limit(1)
        ),
    }


def _contact_reads(app, client, params: dict, unit_pages: bool = False) -> dict[str, str]:
    """Every page and download the contact of unit A may open (GET), each as it reads,
    for each unit type where a page takes one (``unit_pages``: only the pages of one unit)."""
    read = {}
    for rule in app.url_map.iter_rules():
        allowed, _status = EXPECTED[rule.endpoint]
        if "GET" not in rule.methods or rule.endpoint in (
            "auth.logout",
            "static",
            "public.thanks",
            "api.docs_asset",
        ):
            continue
        if unit_pages and not {"unit_id", "item_id"} & set(rule.arguments):
            continue
        if allowed != PUBLIC and "contact_a" not in allowed and allowed is not OFFICE_READERS:
            continue  # unit B's pages are unit A's contact's when they point at unit A
        url = _url(rule, params).split("?")[0]
        urls = [url] + [f"{url}?type={t}" for t in ("community", "service_window")]
        if rule.endpoint == "admin.export_results":
            urls += [u.replace(".xlsx", ".csv") for u in urls]
        if rule.endpoint == "admin.scheme_file":
            urls += [url.replace(".json", ".xlsx")]
        for one in urls:
            resp = client.get(one)
            if resp.status_code == 200:
                read[one] = _readable(resp)
            resp.close()
    return read


def test_a_unit_contact_reads_no_figure_until_publication(app):
    """Issue 20: during the open cycle the contact of unit A (community C0101) opens every
    page and download it may and finds no score, rank, grade or satisfaction by group as
    the office sees them — neither A's nor those of the service windows below A (QA defect
    1: W01011/W01012's report, composite, review and results.csv showed them); so does the
    street above A, for every unit below it, except the computed composite on the review
    page of the units it proposes grades for; a reviewed score or a grade not even there.
    Once published A's contact reads its own results and never another unit's row."""
    from evalsurvey.domain import cycles as cycle_domain
    from evalsurvey.domain.assessment import grade_review
    from evalsurvey.domain.assessment import publication as publication_domain
    from evalsurvey.domain.assessment.standing import proposals_of
    from evalsurvey.models import CycleStatus

    demo.load(n_responses=200, seed=5)
    cycle = db.session.scalar(select(Cycle))
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    unit_a = units["C0101"]
    # the street proposes for A's neighbour C0102, the office re-reviews it: its standing
    # score and grade are now the reviewed ones, the proposal is the street's own input
    grade_review.propose(cycle, units["C0102"], 91.37, None, "", "s01")
    grade_review.draw_sample(cycle, "community", "inspector", 0.2, 7)
    proposal = proposals_of(cycle, "community")["C0102"]
    grade_review.review(proposal, 88.12, "复核", "inspector")
    db.session.commit()
    params = _unit_params(_params(app), unit_a)
    kinds = {code: u.type for code, u in units.items()}

    def figures(codes) -> dict[str, dict[str, str]]:
        return {code: _figures_of(cycle, code, kinds[code]) for code in codes}

    mine = figures(["C0101", "W01011", "W01012"])
    assert {"composite", "grade", "panel satisfaction", "department satisfaction"} <= set(
        mine["C0101"]
    )
    assert {"composite", "grade", "citizen satisfaction", "citizen interval"} <= set(mine["W01011"])
    office = app.test_client()
    login(office, "admin", PASSWORD)
    unit_page = _readable(office.get(f"/admin/cycles/{cycle.id}/units/{unit_a.id}"))
    for what in ("composite", "panel satisfaction", "department satisfaction"):
        assert mine["C0101"][what] in unit_page, what  # the strings are the ones pages print
    window_report = _readable(
        office.get(f"/admin/cycles/{cycle.id}/units/{units['W01011'].id}/report")
    )
    for what in ("standing score", "standing rank", "grade", "citizen interval"):
        assert mine["W01011"][what] in window_report, what
    contact = app.test_client()
    login(contact, ROLES["contact_a"], PASSWORD)

    read = _contact_reads(app, contact, params)
    assert len(read) > 30
    # results.csv/xlsx: not an empty file (QA defect 11) but the page that says why
    for fmt in ("csv", "xlsx"):
        got = contact.get(f"/admin/cycles/{cycle.id}/results.{fmt}?type=service_window")
        assert got.status_code == 303 and "/composite?type=service_window" in got.location
        told = _readable(contact.get(got.location))
        assert "该类单位的结果尚未公示，公示后在这里显示，并可导出。" in told
    for window in ("W01011", "W01012"):
        read.update(_contact_reads(app, contact, _unit_params(params, units[window]), True))
    assert f"/admin/cycles/{cycle.id}/units/{units['W01012'].id}/report" in read  # 200
    leaks = _leaks(read, {"C0101": mine["C0101"]}, set())  # its own: every figure
    leaks += _leaks(read, {w: mine[w] for w in ("W01011", "W01012")}, {"W01011", "W01012"})
    assert not leaks, "\n".join(leaks)
    assert "本单位的结果将在公示后显示。" in read[f"/admin/cycles/{cycle.id}/units/{unit_a.id}"]
    # what the review needs: the windows' computed scores, to confirm or correct them
    review = read[f"/admin/cycles/{cycle.id}/review?type=service_window"]
    assert mine["W01011"]["composite"] in review and mine["W01012"]["composite"] in review
    # no link to a file or report that would hold nothing yet; the sentence instead
    composite = read[f"/admin/cycles/{cycle.id}/composite?type=service_window"]
    assert "公示后在这里显示" in composite and "导出结果 Excel" not in composite
    reports = read[f"/admin/cycles/{cycle.id}/reports?type=service_window"]
    assert "将在结果公示后提供" in reports and "PDF" not in reports

    # the street above A: nothing of its communities' and windows' but the computed scores
    street = app.test_client()
    login(street, "s01", PASSWORD)
    below = [code for code, u in units.items() if u.parent and u.parent.code in ("S01",)]
    below += [code for code, u in units.items() if u.parent and u.parent.code in below]
    assert len(below) == 12
    theirs = figures(below)
    assert theirs["C0102"]["standing score"] == "88.12"  # the reviewed score stands
    read = _contact_reads(app, street, params)
    read.update(_contact_reads(app, street, _unit_params(params, units["W01011"]), True))
    leaks = _leaks(read, theirs, proposes=set(below))
    assert not leaks, "\n".join(leaks)
    review = read[f"/admin/cycles/{cycle.id}/review?type=community"]
    assert theirs["C0101"]["composite"] in review and "91.37" in review  # its own proposal
    assert "★" not in review

    # published: the contact reads its own results, and no other unit's row
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    for unit_type in ("community", "service_window"):
        publication_domain.publish_results(cycle, unit_type, "admin")
    db.session.commit()
    published = publication_domain.publication_of(cycle, "community")
    own = next(r for r in published.rows if r["unit"] == "C0101")
    others = [r["unit"] for r in published.rows if r["unit"] != "C0101"]
    results = f"/admin/cycles/{cycle.id}/results.csv?type=community"
    text = _readable(contact.get(results))
    assert _pts(own["score"]) in text and own["label"] in text
    assert len(text.strip().splitlines()) == 2  # the header and its own row
    for url in (
        f"/admin/cycles/{cycle.id}/units/{unit_a.id}",
        f"/admin/cycles/{cycle.id}/composite?type=community",
        f"/admin/cycles/{cycle.id}/review?type=community",
        f"/admin/cycles/{cycle.id}/units/{unit_a.id}/dashboard",
    ):
        assert _pts(own["score"]) in _readable(contact.get(url)), url  # nobody proposed A
    window = _readable(contact.get(f"/admin/cycles/{cycle.id}/units/{units['W01011'].id}/report"))
    assert mine["W01011"]["standing score"] in window  # its windows' reports too, now
    for url, text in _contact_reads(app, contact, params).items():
        if url.startswith("/p/"):
            continue  # the public disclosure page lists every unit, as published
        assert not [code for code in others if code in text], url
