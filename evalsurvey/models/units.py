"""Evaluated units and the groups of people who rate them."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evalsurvey.extensions import db

UNIT_TYPES = {
    "district": ("区", "District"),
    "street": ("街道", "Street"),
    "community": ("社区", "Community"),
    "agency_branch": ("机关支部", "Agency branch"),
    "enterprise": ("企业", "Enterprise"),
    "village": ("村", "Village"),
    "service_window": ("窗口单位", "Service window"),
    "other": ("其他", "Other"),
}


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40), default="other")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    def subtree_ids(self) -> set[int]:
        """Ids of this unit and every unit below it, at any depth."""
        found = {self.id}
        frontier = [self.id]
        while frontier:
            frontier = list(db.session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier))))
            frontier = [i for i in frontier if i not in found]
            found.update(frontier)
        return found

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class RaterGroup(db.Model):
    """Who rates: citizen, member, panel, leader, department, … (internal or external)."""

    __tablename__ = "rater_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    internal: Mapped[bool] = mapped_column(default=False)
    # May the assessed unit read this group's rows, comments and rater ids? Counts are
    # always shown. Off by default: members, leaders, departments and panels speak freely
    # only when the unit they rate cannot read their words or names.
    visible_to_unit: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<RaterGroup {self.code}>"


DEFAULT_RATER_GROUPS = [
    # code, Chinese, English, internal
    ("citizen", "群众", "Citizens", False),
    ("member", "党员", "Party members", True),
    ("panel", "第三方专家评审组", "Third-party panel", False),
    ("leader", "领导", "Leaders", True),
    ("department", "职能部门", "Departments", True),
]
