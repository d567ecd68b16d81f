"""sign-in attempts refused while slowed are kept too (a count per row)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 09:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('refused', sa.Integer(), nullable=False, server_default=sa.text('0'))
        )


def downgrade():
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.drop_column('refused')
