"""a cycle's minimum number of responses per rater group; a composite's internal/external
split of the satisfaction share (the per-group weights it gives are stored beside it)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("group_min_n", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("composite_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("split", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("composite_settings", schema=None) as batch_op:
        batch_op.drop_column("split")
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_column("group_min_n")
