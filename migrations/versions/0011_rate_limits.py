"""rate limits: blocked attempts, and the network prefix hash of public responses

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 18:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('blocked_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=10), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['links.id'], name=op.f('fk_blocked_attempts_link_id_links')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_attempts'))
    )
    with op.batch_alter_table('blocked_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocked_attempts_link_id'), ['link_id'], unique=False)

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('network', sa.String(length=32), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('network')

    with op.batch_alter_table('blocked_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocked_attempts_link_id'))

    op.drop_table('blocked_attempts')
