"""The access scope: units in the subtree, rows only of groups the unit may read, no identities."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from evalsurvey.domain import units as unit_domain
from evalsurvey.domain.access import Scope
from evalsurvey.extensions import db
from evalsurvey.models import LinkMode, RaterGroup, Role
from evalsurvey.models.types import utcnow
from tests.factories import login, make_cycle, make_link, make_response, make_staff, make_unit


def _panel_and_citizens():
    community = make_unit("C1", type="community")
    cycle = make_cycle()
    citizens = make_link(unit=community, cycle=cycle)
    panel = make_link(
        unit=community,
        cycle=cycle,
        questionnaire=citizens.questionnaire,
        group="panel",
        mode=LinkMode.INVITE,
        record_rater=True,
    )
    for i in range(3):
        make_response(citizens, {"attitude": 4, "speed": 4}, when=utcnow() - timedelta(hours=i))
        r = make_response(panel, {"attitude": 3, "speed": 3, "pts": 8})
        r.rater, r.rater_unit = f"E0{i}", "C7"
        r.comment = f"专家意见{i}"
    db.session.commit()
    return community, cycle, panel


def _csv_rows(client, cycle):
    text = client.get(f"/admin/cycles/{cycle.id}/responses.csv").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_unit_contact_gets_no_panel_rows_nor_expert_ids(app, client):
    community, cycle, _panel = _panel_and_citizens()
    make_staff("contact", Role.UNIT_CONTACT, unit=community)
    make_staff("office", Role.VIEWER)
    login(client, "contact")
    rows = _csv_rows(client, cycle)
    assert {r["rater_group"] for r in rows} == {"citizen"} and len(rows) == 3
    assert all(r["rater"] == "" and r["rater_unit"] == "" for r in rows)
    page = client.get(f"/admin/cycles/{cycle.id}/responses").get_data(as_text=True)
    assert "专家意见" not in page and "E01" not in page
    assert ">6<" in page  # the panel still shows in the counts
    home = client.get("/admin/").get_data(as_text=True)
    assert ">6<" in home  # the home page counts the contact's own units
    office = app.test_client()
    login(office, "office")
    assert {r["rater"] for r in _csv_rows(office, cycle)} == {"", "E00", "E01", "E02"}


def test_a_group_made_visible_shows_rows_but_never_identities(app, client):
    community, cycle, _panel = _panel_and_citizens()
    contact = make_staff("contact", Role.UNIT_CONTACT, unit=community)
    panel = db.session.scalar(select(RaterGroup).where(RaterGroup.code == "panel"))
    unit_domain.set_group_visibility(panel, True)
    db.session.commit()
    scope = Scope.for_user(contact)
    assert scope.sees_rows_of(panel) and not scope.identities
    login(client, "contact")
    rows = _csv_rows(client, cycle)
    assert {r["rater_group"] for r in rows} == {"citizen", "panel"}
    assert {r["rater"] for r in rows} == {""}


def test_scope_of_each_role(app):
    street = make_unit("S1", type="street")
    mine = make_unit("W1", parent=street)
    other = make_unit("W2")
    contact = make_staff("contact", Role.UNIT_CONTACT, unit=street)
    inspector = make_staff("insp", Role.INSPECTOR)
    expert = make_staff("expert", Role.PANEL)
    assert Scope.for_user(contact).sees_unit(mine) and not Scope.for_user(contact).sees_unit(other)
    assert Scope.for_user(inspector).sees_unit(other) and Scope.for_user(inspector).can_review
    assert not Scope.for_user(expert).sees_unit(mine)


def test_results_wait_for_publication_for_every_unit_contact(app):
    """Before a unit type's results are published only the office sees them: not a unit's
    own contact nor the contact above it. The body that proposes a unit's grade (a street for
    its communities, a community for its windows) sees only its computed score, for the
    review page. Published: everyone within their scope."""
    from evalsurvey import demo
    from evalsurvey.domain import cycles as cycle_domain
    from evalsurvey.domain.assessment import publication as publication_domain
    from evalsurvey.models import Cycle, CycleStatus, StaffUser, Unit

    demo.load(n_responses=200, seed=5)
    cycle = db.session.scalar(select(Cycle))
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    scopes = {
        name: Scope.for_user(db.session.scalar(select(StaffUser).where(StaffUser.username == name)))
        for name in ("admin", "viewer", "s01", "c0101")
    }
    community, window, street = units["C0101"], units["W01011"], units["S01"]
    other = units["C0201"]  # another street's community

    def seen(name: str, unit) -> bool:
        return scopes[name].may_see_results(cycle, unit)

    def computed(name: str, unit) -> bool:
        return scopes[name].may_see_computed_for_proposal(cycle, unit)

    assert seen("admin", community) and seen("viewer", other) and computed("viewer", other)
    for name, unit in (("s01", community), ("s01", window), ("s01", street),
                       ("c0101", community), ("c0101", window), ("c0101", other)):  # fmt: skip
        assert not seen(name, unit), (name, unit.code)
    assert computed("s01", community) and computed("c0101", window)  # they propose for them
    assert not computed("s01", street) and not computed("c0101", community)  # never its own
    assert not computed("s01", other) and not computed("c0101", other)

    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    publication_domain.publish_results(cycle, "community", "admin")
    db.session.commit()
    fresh = {
        name: Scope.for_user(db.session.scalar(select(StaffUser).where(StaffUser.username == name)))
        for name in ("s01", "c0101")
    }
    assert fresh["c0101"].may_see_results(cycle, community)
    assert fresh["s01"].may_see_results(cycle, community)
    assert not fresh["c0101"].may_see_results(cycle, window)  # windows: not yet published
    assert fresh["c0101"].may_see_computed_for_proposal(cycle, window)
    assert not fresh["c0101"].may_see_results(cycle, other)  # never outside the scope
    assert not fresh["s01"].may_see_results(cycle, other)
