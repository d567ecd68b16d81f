"""Staff accounts: create, passwords, roles, deactivation."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import check_code
from evalsurvey.extensions import db
from evalsurvey.models import Role, StaffUser, Unit

PASSWORD_MIN = 8


def check_password(password: str, field: str = "password") -> str:
    if len(password or "") < PASSWORD_MIN:
        raise DomainError("密码至少 8 位。", field)
    if len(password) > 200:
        raise DomainError("密码最多 200 位。", field)
    return password


def _unit_for(role: str, unit_code: str | None) -> Unit | None:
    if role not in set(Role):
        raise DomainError("未知的角色。", "role")
    unit_code = (unit_code or "").strip()
    if role == Role.UNIT_CONTACT and not unit_code:
        raise DomainError("单位联络员必须指定所属单位。", "unit")
    if not unit_code:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise DomainError("找不到该单位。", "unit")
    return unit


def create_staff(
    username: str,
    password: str,
    role: str = Role.VIEWER,
    unit_code: str | None = None,
    name: str = "",
) -> StaffUser:
    """A new account; viewer unless another role is given (flushed, not committed)."""
    username = check_code(username, "username")
    if db.session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
        raise DomainError("该用户名已被使用。", "username")
    check_password(password)
    unit = _unit_for(role, unit_code)
    user = StaffUser(username=username, name=(name or "").strip()[:120], role=role, unit=unit)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def change_role(user: StaffUser, role: str, unit_code: str | None = None) -> StaffUser:
    user.unit = _unit_for(role, unit_code)
    user.role = role
    user.revoke_sessions()  # a narrower role takes effect at once
    db.session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    """New password; every session signed in before it ends."""
    check_password(password)
    user.set_password(password)
    db.session.flush()


def change_own_password(user: StaffUser, current: str, new: str, confirm: str) -> None:
    if not user.check_password(current or ""):
        raise DomainError("当前密码不正确。", "current")
    if new != confirm:
        raise DomainError("两次输入的新密码不一致。", "confirm")
    check_password(new, "new")
    set_password(user, new)


def set_active(user: StaffUser, active: bool, actor: StaffUser | None = None) -> None:
    if not active and actor is not None and actor.id == user.id:
        raise DomainError("不能停用自己的账号。")
    user.active = active
    if not active:
        user.revoke_sessions()
    db.session.flush()


def sign_out_everywhere(user: StaffUser) -> None:
    user.revoke_sessions()
    db.session.flush()
