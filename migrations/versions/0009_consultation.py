"""department consultation: adjustments

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 02:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('item', sa.String(length=40), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('evidence', sa.String(length=255), nullable=False),
        sa.Column('submitted_by', sa.String(length=80), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('decided_by', sa.String(length=80), nullable=False),
        sa.Column('decision', sa.Text(), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_adjustments_cycle_id_cycles')),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_adjustments_unit_id_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustments')),
    )
    with op.batch_alter_table('adjustments') as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustments_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adjustments_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('adjustments') as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustments_unit_id'))
        batch_op.drop_index(batch_op.f('ix_adjustments_cycle_id'))
    op.drop_table('adjustments')
