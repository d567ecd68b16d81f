"""composite settings per cycle and unit type; runs say what kind they are

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 01:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analysis_runs') as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=20), nullable=False, server_default='analysis')
        )
    op.create_table(
        'composite_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_type', sa.String(length=40), nullable=False),
        sa.Column('weights', sa.JSON(), nullable=False),
        sa.Column('missing', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ['cycle_id'], ['cycles.id'], name=op.f('fk_composite_settings_cycle_id_cycles')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_composite_settings')),
        sa.UniqueConstraint(
            'cycle_id', 'unit_type', name='uq_composite_settings_cycle_unit_type'
        ),
    )
    with op.batch_alter_table('composite_settings') as batch_op:
        batch_op.create_index(
            batch_op.f('ix_composite_settings_cycle_id'), ['cycle_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('composite_settings') as batch_op:
        batch_op.drop_index(batch_op.f('ix_composite_settings_cycle_id'))
    op.drop_table('composite_settings')
    with op.batch_alter_table('analysis_runs') as batch_op:
        batch_op.drop_column('kind')
