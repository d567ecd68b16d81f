"""the typed result: publications keep it and any stated override; proposals and reviews
keep the computed composite they were made against

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 13:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('result', sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column('override_reason', sa.Text(), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('overridden', sa.JSON(), nullable=False, server_default='[]')
        )
    with op.batch_alter_table('grade_proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('computed_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('computed_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_computed', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_run_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_grade_proposals_computed_run_id_analysis_runs',
            'analysis_runs', ['computed_run_id'], ['id'],
        )
        batch_op.create_foreign_key(
            'fk_grade_proposals_reviewed_run_id_analysis_runs',
            'analysis_runs', ['reviewed_run_id'], ['id'],
        )


def downgrade():
    with op.batch_alter_table('grade_proposals', schema=None) as batch_op:
        batch_op.drop_constraint(
            'fk_grade_proposals_reviewed_run_id_analysis_runs', type_='foreignkey'
        )
        batch_op.drop_constraint(
            'fk_grade_proposals_computed_run_id_analysis_runs', type_='foreignkey'
        )
        batch_op.drop_column('reviewed_run_id')
        batch_op.drop_column('reviewed_computed')
        batch_op.drop_column('computed_run_id')
        batch_op.drop_column('computed_score')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_column('overridden')
        batch_op.drop_column('override_reason')
        batch_op.drop_column('result')
