"""seed the five default rater groups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# code, Chinese, English, internal (kept here, not imported: a migration must not change
# when the application code does)
GROUPS = [
    ("citizen", "群众", "Citizens", False),
    ("member", "党员", "Party members", True),
    ("panel", "第三方专家评审组", "Third-party panel", False),
    ("leader", "领导", "Leaders", True),
    ("department", "职能部门", "Departments", True),
]

rater_groups = sa.table(
    "rater_groups",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("internal", sa.Boolean),
)


def upgrade():
    conn = op.get_bind()
    existing = {row[0] for row in conn.execute(sa.select(rater_groups.c.code))}
    rows = [
        {"code": code, "name": name, "name_en": name_en, "internal": internal}
        for code, name, name_en, internal in GROUPS
        if code not in existing
    ]
    if rows:
        op.bulk_insert(rater_groups, rows)


def downgrade():
    # the groups may be in use by links and responses by now: leave them
    pass
