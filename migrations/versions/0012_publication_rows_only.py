"""publications keep their grades in the frozen rows only

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('grades')


def downgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('grades', sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
