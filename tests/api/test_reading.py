"""What each token reads: the pages' scope (a unit contact only its units, never rows of
groups it may not read, never raters' identities; results only once published)."""

from __future__ import annotations

from evalsurvey.extensions import db
from tests.api.conftest import bearer
from tests.factories import make_response


def fill(world) -> None:
    for (unit, group), link in world.links.items():
        for n in range(3):
            make_response(link, {"attitude": 4, "speed": 5}, device=f"{unit}{group}{n}")
    db.session.commit()


def get(client, world, who, url, **headers):
    r = client.get(url, headers=bearer(world.tokens[who], **headers))
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def test_unit_contact_reads_its_units_and_only_rows_it_may_read(client, world):
    fill(world)
    rows = get(client, world, "street", "/api/v1/cycles/2026H2/responses")["responses"]
    assert {(r["unit"], r["rater_group"]) for r in rows} == {("C1", "citizen"), ("C2", "citizen")}
    assert all(r["rater"] == "" for r in rows)
    # asking for members' rows gives none; their counts are there
    rows = get(client, world, "street", "/api/v1/cycles/2026H2/responses?group=member")
    assert rows["responses"] == []
    counts = get(client, world, "street", "/api/v1/cycles/2026H2/counts")["counts"]
    assert {(c["unit"], c["rater_group"], c["responses"]) for c in counts} == {
        ("C1", "citizen", 3), ("C1", "member", 3), ("C2", "citizen", 3), ("C2", "member", 3)
    }  # fmt: skip
    # another street's unit: 403, as a problem
    r = client.get(
        "/api/v1/cycles/2026H2/responses?unit=C3", headers=bearer(world.tokens["street"])
    )
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert client.get("/api/v1/units/C3", headers=bearer(world.tokens["street"])).status_code == 403
    units = get(client, world, "street", "/api/v1/units")["units"]
    assert {u["code"] for u in units} == {"S1", "C1", "C2"}
    links = get(client, world, "street", "/api/v1/cycles/2026H2/links")["links"]
    assert {link["unit"] for link in links} == {"C1", "C2"}
    groups = get(client, world, "street", "/api/v1/rater-groups")["rater_groups"]
    assert {g["code"]: g["rows_readable"] for g in groups}["member"] is False


def test_office_reads_every_row_by_cursor(client, world):
    fill(world)
    seen, url = [], "/api/v1/cycles/2026H2/responses?limit=7"
    while True:
        page = get(client, world, "viewer", url)
        seen += [r["response_id"] for r in page["responses"]]
        if not page["next_cursor"]:
            break
        url = f"/api/v1/cycles/2026H2/responses?limit=7&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == 18
    page = get(client, world, "viewer", "/api/v1/cycles/2026H2/responses?unit=S1&group=member")
    assert {r["unit"] for r in page["responses"]} == {"C1", "C2"}


def test_link_qr_code_is_a_png_of_its_address(client, world):
    links = get(client, world, "admin", "/api/v1/cycles/2026H2/links")["links"]
    r = client.get(links[0]["qr_png"], headers=bearer(world.tokens["admin"]))
    assert r.status_code == 200 and r.data.startswith(b"\x89PNG")
    c3 = next(link for link in links if link["unit"] == "C3")
    r = client.get(c3["qr_png"], headers=bearer(world.tokens["street"]))
    assert r.status_code == 403 and r.mimetype == "application/problem+json"


def test_results_before_a_composite_are_404(client, world):
    r = client.get(
        "/api/v1/cycles/2026H2/results?unit_type=community", headers=bearer(world.tokens["admin"])
    )
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.get(
        "/api/v1/cycles/2026H2/published-results?unit_type=community",
        headers=bearer(world.tokens["admin"]),
    )
    assert r.status_code == 404


def test_results_follow_the_pages_rules_before_and_after_publication(app, client):
    from sqlalchemy import select

    from evalsurvey import demo
    from evalsurvey.domain import api_tokens
    from evalsurvey.domain import cycles as cycle_domain
    from evalsurvey.domain.assessment import publication as publication_domain
    from evalsurvey.models import Cycle, CycleStatus, StaffUser

    demo.load(n_responses=200, seed=4)
    cycle = db.session.scalar(select(Cycle).where(Cycle.status == CycleStatus.OPEN))
    users = {u.username: u for u in db.session.scalars(select(StaffUser))}
    office = api_tokens.create_token(users["admin"])[1]
    street = api_tokens.create_token(users["s01"])[1]
    db.session.commit()
    url = f"/api/v1/cycles/{cycle.code}/results?unit_type=community"
    r = client.get(url, headers=bearer(office, **{"Accept-Language": "en"}))
    assert r.status_code == 200, r.get_data(as_text=True)
    result = r.get_json()
    assert result["published"] is False and len(result["units"]) == 12
    graded = [u for u in result["units"] if u["standing"] and u["standing"]["label"]]
    assert graded and all(u["standing"]["reason"].startswith("score") for u in graded)
    assert all(u["terms"] for u in result["units"])
    # the office sees what the latest analysis flagged, as on the unit dashboard
    from evalsurvey.domain.access import Scope
    from evalsurvey.domain.results.dashboard import unit_dashboard
    from evalsurvey.models import Unit

    assert all(u["flags"] is not None for u in result["units"])
    first = result["units"][0]
    unit = db.session.scalar(select(Unit).where(Unit.code == first["unit"]))
    board = unit_dashboard(cycle, unit, Scope.for_user(users["admin"]))
    assert first["flags"]["reasons"] == board.flags
    from evalsurvey.domain.results.analysis import latest_runs

    stored = latest_runs(cycle)["community"].result  # the run the flags come from
    for u in result["units"]:
        mine = [r for r in stored["responses"] if r["unit"] == u["unit"]]
        entry = next(e for e in stored["units"] if e["unit"] == u["unit"])
        assert u["flags"]["suspect"] == sum(bool(r["suspect"]) for r in mine)
        assert sum(u["flags"]["reasons"].values()) == sum(len(r["reasons"]) for r in mine)
        assert u["flags"]["surge_days"] == len(entry.get("surges", []))
    assert any(u["flags"]["reasons"] for u in result["units"])  # the demo has flagged ones
    # a street contact sees no result before publication, as on the pages
    r = client.get(url, headers=bearer(street))
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    published_url = url.replace("/results", "/published-results")
    assert client.get(published_url, headers=bearer(office)).status_code == 404

    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    publication_domain.publish_results(cycle, "community", "admin")
    db.session.commit()
    mine = client.get(url, headers=bearer(street)).get_json()
    assert mine["published"] is True and len(mine["units"]) == 4  # its own communities
    assert all(u["flags"] is None for u in mine["units"])  # flags are the office's
    published = client.get(published_url, headers=bearer(street)).get_json()
    assert published == mine
    everyone = client.get(published_url, headers=bearer(office)).get_json()
    assert {u["unit"] for u in mine["units"]} < {u["unit"] for u in everyone["units"]}


LISTS = (
    "/api/v1/rater-groups",
    "/api/v1/questionnaires",
    "/api/v1/cycles",
    "/api/v1/cycles/2026H2/links",
    "/api/v1/cycles/2026H2/counts",
    "/api/v1/units",
)


def test_every_list_is_paged_by_cursor(client, world):
    from datetime import timedelta

    from evalsurvey.models import CycleStatus
    from evalsurvey.models.types import utcnow
    from tests.factories import SIMPLE_QUESTIONNAIRE, make_cycle, make_questionnaire

    fill(world)
    # a second questionnaire and an earlier cycle, made after the open one: time order
    # and id order differ
    make_questionnaire({**SIMPLE_QUESTIONNAIRE, "code": "WIN2"})
    earlier = utcnow() - timedelta(days=200)
    make_cycle(CycleStatus.CLOSED, code="2026H1", opens_at=earlier,
               closes_at=earlier + timedelta(days=30))  # fmt: skip
    db.session.commit()
    codes = [c["code"] for c in get(client, world, "admin", "/api/v1/cycles")["cycles"]]
    assert codes == ["2026H1", "2026H2"]
    for url in LISTS:
        whole = get(client, world, "admin", url)
        key = next(k for k in whole if k != "next_cursor")
        assert whole["next_cursor"] is None and len(whole[key]) > 1, url
        walked, cursor, pages = [], None, 0
        while True:
            query = "?limit=1" + (f"&cursor={cursor}" if cursor else "")
            page = get(client, world, "admin", url + query)
            walked += page[key]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert walked == whole[key], url
        # counts page by unit: one unit (with all its groups) per page
        assert pages == (len({c["unit"] for c in walked}) if key == "counts" else len(walked))
