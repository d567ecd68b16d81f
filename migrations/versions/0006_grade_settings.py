"""grading rules per cycle and unit type

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 02:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'grade_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_type', sa.String(length=40), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ['cycle_id'], ['cycles.id'], name=op.f('fk_grade_settings_cycle_id_cycles')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_settings')),
        sa.UniqueConstraint('cycle_id', 'unit_type', name='uq_grade_settings_cycle_unit_type'),
    )
    with op.batch_alter_table('grade_settings') as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_settings_cycle_id'), ['cycle_id'], unique=False)


def downgrade():
    with op.batch_alter_table('grade_settings') as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_settings_cycle_id'))
    op.drop_table('grade_settings')
