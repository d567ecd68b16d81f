"""reviewed responses, per-group visibility, revocable sessions, stored analysis runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 01:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses') as batch_op:
        batch_op.add_column(
            sa.Column('reviewed', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('rater_groups') as batch_op:
        batch_op.add_column(
            sa.Column('visible_to_unit', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # citizens rate a window in public: the window may read their rows and comments
    op.execute("UPDATE rater_groups SET visible_to_unit = TRUE WHERE code = 'citizen'")
    with op.batch_alter_table('staff_users') as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=True))
    staff = sa.table('staff_users', sa.column('id', sa.Integer), sa.column('session_token'))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(staff.c.id)).all():
        conn.execute(
            staff.update().where(staff.c.id == user_id).values(session_token=secrets.token_hex(16))
        )
    with op.batch_alter_table('staff_users') as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=32), nullable=False)
    # Responses a person already decided on (audited status changes) count as reviewed.
    op.execute(
        "UPDATE responses SET reviewed = TRUE WHERE id IN "
        "(SELECT entity_id FROM audit_log WHERE entity = 'Response')"
    )
    op.create_table(
        'analysis_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_type', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('n_responses', sa.Integer(), nullable=False),
        sa.Column('n_used', sa.Integer(), nullable=False),
        sa.Column('n_suspect', sa.Integer(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('message', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ['cycle_id'], ['cycles.id'], name=op.f('fk_analysis_runs_cycle_id_cycles')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_runs')),
    )
    with op.batch_alter_table('analysis_runs') as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_runs_cycle_id'), ['cycle_id'], unique=False)


def downgrade():
    with op.batch_alter_table('analysis_runs') as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_runs_cycle_id'))
    op.drop_table('analysis_runs')
    with op.batch_alter_table('staff_users') as batch_op:
        batch_op.drop_column('session_token')
    with op.batch_alter_table('rater_groups') as batch_op:
        batch_op.drop_column('visible_to_unit')
    with op.batch_alter_table('responses') as batch_op:
        batch_op.drop_column('reviewed')
