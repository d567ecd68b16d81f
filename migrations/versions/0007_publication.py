"""published results and objections

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 02:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'publications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('unit_type', sa.String(length=40), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('grades', sa.JSON(), nullable=False),
        sa.Column('published_by', sa.String(length=80), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('objections_until', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_publications_cycle_id_cycles')),
        sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], name=op.f('fk_publications_run_id_analysis_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publications')),
        sa.UniqueConstraint('cycle_id', 'unit_type', name='uq_publications_cycle_unit_type'),
    )
    with op.batch_alter_table('publications') as batch_op:
        batch_op.create_index(batch_op.f('ix_publications_cycle_id'), ['cycle_id'], unique=False)
    op.create_table(
        'objections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.Column('unit_code', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('contact', sa.String(length=200), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('answered_by', sa.String(length=80), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_objections_publication_id_publications')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_objections')),
    )
    with op.batch_alter_table('objections') as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_publication_id'), ['publication_id'], unique=False)


def downgrade():
    with op.batch_alter_table('objections') as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_publication_id'))
    op.drop_table('objections')
    with op.batch_alter_table('publications') as batch_op:
        batch_op.drop_index(batch_op.f('ix_publications_cycle_id'))
    op.drop_table('publications')
