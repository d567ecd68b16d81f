"""the rectification ledger

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 02:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'rectification_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('reference', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=120), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=True),
        sa.Column('visit_due_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('evidence', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_by', sa.String(length=80), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_rectification_items_cycle_id_cycles')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_rectification_items_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_items')),
    )
    with op.batch_alter_table('rectification_items') as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_items_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectification_items_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rectification_items') as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_items_unit_id'))
        batch_op.drop_index(batch_op.f('ix_rectification_items_cycle_id'))
    op.drop_table('rectification_items')
