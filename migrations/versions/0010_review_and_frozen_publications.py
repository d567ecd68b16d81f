"""two-level review and frozen publications

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 18:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grade_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('body_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('grade', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('proposed_by', sa.String(length=80), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_score', sa.Float(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('reviewed_by', sa.String(length=80), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['body_id'], ['units.id'], name=op.f('fk_grade_proposals_body_id_units')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_grade_proposals_cycle_id_cycles')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_grade_proposals_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_proposals')),
    sa.UniqueConstraint('cycle_id', 'unit_id', name='uq_grade_proposals_cycle_unit')
    )
    with op.batch_alter_table('grade_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_proposals_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_proposals_unit_id'), ['unit_id'], unique=False)

    op.create_table('review_draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('unit_type', sa.String(length=40), nullable=False),
    sa.Column('always', sa.JSON(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('drawn_by', sa.String(length=80), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_review_draws_cycle_id_cycles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_draws')),
    sa.UniqueConstraint('cycle_id', 'unit_type', name='uq_review_draws_cycle_unit_type')
    )
    with op.batch_alter_table('review_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_draws_cycle_id'), ['cycle_id'], unique=False)

    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('reports', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))



def downgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('reports')
        batch_op.drop_column('rows')

    with op.batch_alter_table('review_draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_draws_cycle_id'))

    op.drop_table('review_draws')
    with op.batch_alter_table('grade_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_proposals_unit_id'))
        batch_op.drop_index(batch_op.f('ix_grade_proposals_cycle_id'))

    op.drop_table('grade_proposals')
