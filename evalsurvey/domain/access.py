"""The one access scope: which units, rows and identities a signed-in person may see.

Every page, download and later report asks this object, never the role directly:

* the office (admin, inspector, viewer) sees every unit and every row;
* a unit contact sees their unit and the units below it, and of those units only the
  rows and comments of rater groups whose ``visible_to_unit`` setting is on (citizens
  by default; members, leaders, departments and panels off). Counts are always shown.
  A rater's identity (an expert's id and own unit) never reaches a unit contact;
* a panel expert sees no responses at all;
* in the two-level review a unit contact proposes grades for the units below their own
  (a street's team for its communities); the office re-reviews;
* results (scores, ranks, grades, satisfaction by group, the feedback report) of a cycle:
  the office always; a unit contact only once that unit type's results are published
  (:meth:`Scope.may_see_results`) — neither its own unit's nor those below it. The one
  exception is what the two-level review needs: the computed composite score of the units
  a contact proposes grades for, on the review page only
  (:meth:`Scope.may_see_computed_for_proposal`);
* rectification items drawn from results (a deduction, a department's penalty) reach a unit
  contact once the results are published or once a reviewer has confirmed the item and so
  handed it to the unit (:meth:`Scope.may_see_item`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, or_, select

from evalsurvey.extensions import db
from evalsurvey.models import (
    Cycle,
    Publication,
    RaterGroup,
    RectificationItem,
    Response,
    Role,
    StaffUser,
    Unit,
)

OFFICE = frozenset({Role.ADMIN, Role.INSPECTOR, Role.VIEWER})
# who may change responses' review status and recompute results
REVIEWERS = frozenset({Role.ADMIN, Role.INSPECTOR})
# rectification items that name what a unit lost points on: results, until published
RESULT_SOURCES = frozenset({"deduction", "consultation"})


class AccessDenied(Exception):
    """The person may not see or change this."""


@dataclass(frozen=True)
class Scope:
    role: str
    unit_ids: frozenset[int] | None  # None: every unit
    row_group_ids: frozenset[int] | None  # rater groups whose rows are readable; None: all
    identities: bool  # may see raters' ids and own units
    own_unit_id: int | None = None  # a unit contact's own unit
    # cycle id → the unit types whose results are published (looked up once per scope)
    _published: dict[int, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def for_user(cls, user: StaffUser) -> Scope:
        role = user.role
        if role in OFFICE:
            return cls(role, None, None, True)
        if role == Role.UNIT_CONTACT and user.unit is not None:
            groups = db.session.scalars(
                select(RaterGroup.id).where(RaterGroup.visible_to_unit.is_(True))
            )
            subtree = frozenset(user.unit.subtree_ids())
            return cls(role, subtree, frozenset(groups), False, user.unit.id)
        return cls(role, frozenset(), frozenset(), False)

    @property
    def office(self) -> bool:
        return self.role in OFFICE

    @property
    def can_review(self) -> bool:
        return self.role in REVIEWERS

    def sees_unit(self, unit: Unit) -> bool:
        return self.unit_ids is None or unit.id in self.unit_ids

    def require_unit(self, unit: Unit) -> Unit:
        if not self.sees_unit(unit):
            raise AccessDenied()
        return unit

    def may_propose_for(self, unit: Unit) -> bool:
        """The two-level review: the office, or a lower-level body's contact for the units
        below its own (a street for its communities, never a unit for itself)."""
        if self.role == Role.ADMIN:
            return True
        return (
            self.role == Role.UNIT_CONTACT and self.sees_unit(unit) and unit.id != self.own_unit_id
        )

    def results_published(self, cycle: Cycle, unit_type: str) -> bool:
        """Whether ``cycle``'s results for ``unit_type`` have been published (公示)."""
        if cycle.id not in self._published:
            self._published[cycle.id] = frozenset(
                db.session.scalars(
                    select(Publication.unit_type).where(Publication.cycle_id == cycle.id)
                )
            )
        return unit_type in self._published[cycle.id]

    def may_see_results(self, cycle: Cycle, unit: Unit) -> bool:
        """Whether this person may see ``unit``'s results in ``cycle``: its scores (scheme,
        composite, standing, reviewed), rank, grade, satisfaction by rater group, feedback
        report, the points behind its rectification items.

        The office always. A unit contact, within their scope, once the unit type's results
        of the cycle are published — before that not for their own unit nor for the units
        below it (those they propose grades for see
        :meth:`may_see_computed_for_proposal`). Every page, chart and download that shows
        a result asks this."""
        if self.office:
            return True
        return self.sees_unit(unit) and self.results_published(cycle, unit.type)

    def may_see_computed_for_proposal(self, cycle: Cycle, unit: Unit) -> bool:
        """Whether the two-level review page may show this person ``unit``'s computed
        composite score: whoever may see its results, and before publication the body
        that proposes its grade (a street for its communities, a community for its
        windows), which confirms or corrects that score. Nothing else of the unit's
        results (rank, grade, reviewed or final score) comes with it."""
        return self.may_see_results(cycle, unit) or self.may_propose_for(unit)

    def may_see_item(self, item: RectificationItem) -> bool:
        """Whether this person may see the rectification ledger item ``item``: within scope;
        for a unit contact an item drawn from results (a deduction, a department's penalty)
        only once the unit type's results are published or a reviewer has confirmed it
        (then the unit must work on it). See :meth:`items` for lists."""
        if self.office:
            return True
        if not self.sees_unit(item.unit):
            return False
        return (
            item.source not in RESULT_SOURCES
            or item.status != "proposed"
            or self.results_published(item.cycle, item.unit.type)
        )

    def items(self, query: Select, cycle: Cycle) -> Select:
        """A query over ``cycle``'s :class:`RectificationItem` joined to :class:`Unit`,
        narrowed to the items this person may see (as :meth:`may_see_item`)."""
        query = self.units(query, RectificationItem.unit_id)
        if self.office:
            return query
        self.results_published(cycle, "")  # look the cycle's publications up once
        return query.where(
            or_(
                RectificationItem.source.not_in(RESULT_SOURCES),
                RectificationItem.status != "proposed",
                Unit.type.in_(self._published[cycle.id]),
            )
        )

    def sees_rows_of(self, group: RaterGroup) -> bool:
        return self.row_group_ids is None or group.id in self.row_group_ids

    def units(self, query: Select, column=Response.unit_id) -> Select:
        """``query`` narrowed to the units in scope (counts use only this)."""
        if self.unit_ids is None:
            return query
        return query.where(column.in_(self.unit_ids))

    def rows(self, query: Select) -> Select:
        """A query over :class:`Response` narrowed to the rows this person may read."""
        query = self.units(query)
        if self.row_group_ids is not None:
            query = query.where(Response.rater_group_id.in_(self.row_group_ids))
        return query
