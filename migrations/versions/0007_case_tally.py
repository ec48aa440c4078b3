"""the cases per status, step and type kept as a tally; indexes of the OPD filter and the dashboard

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:10:00

`case_tally` (models/case.py CaseTally) holds how many cases there are of each status, step and
agreement type; from now on every write of a case keeps it, in the same transaction. It is filled
here from the cases already stored (one GROUP BY). Three indexes: the OPD filter reads an OPD's
cases newest first from (opd_id, received_date), which replaces the index of opd_id alone; the
dashboard reads the done cases by closing time from a partial index; and the undone dispositions,
the dashboard's and My work's, from a partial index, and the index of done_at keeps the done ones
only (SQLite's statistics took the undone, one value in an index of every row, for a rare one). At 1M cases on PostgreSQL the indexes take
about a minute and block writes to cases meanwhile: upgrade outside office hours.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_tally',
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('current_step', sa.Integer(), nullable=False),
    sa.Column('agreement_type', sa.String(length=3), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('status', 'current_step', 'agreement_type', name=op.f('pk_case_tally'))
    )
    op.execute("INSERT INTO case_tally (status, current_step, agreement_type, cases) "
               "SELECT status, current_step, agreement_type, count(*) FROM cooperation_case "
               "GROUP BY status, current_step, agreement_type")
    op.create_index('ix_case_opd_received', 'cooperation_case', ['opd_id', 'received_date'], unique=False)
    op.drop_index('ix_cooperation_case_opd_id', table_name='cooperation_case')
    op.create_index('ix_case_done_closed', 'cooperation_case', ['closed_at', 'due_date'], unique=False,
                    sqlite_where=sa.text("status = 'done'"), postgresql_where=sa.text("status = 'done'"))
    op.create_index('ix_disposition_undone', 'disposition', ['to_user_id', 'to_role', 'case_id'], unique=False,
                    sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))
    op.drop_index('ix_disposition_done_at', table_name='disposition')
    op.create_index('ix_disposition_done_at', 'disposition', ['done_at'], unique=False,
                    sqlite_where=sa.text('done_at IS NOT NULL'), postgresql_where=sa.text('done_at IS NOT NULL'))


def downgrade():
    op.drop_index('ix_disposition_done_at', table_name='disposition')
    op.create_index('ix_disposition_done_at', 'disposition', ['done_at'], unique=False)
    op.drop_index('ix_disposition_undone', table_name='disposition')
    op.drop_index('ix_case_done_closed', table_name='cooperation_case')
    op.create_index('ix_cooperation_case_opd_id', 'cooperation_case', ['opd_id'], unique=False)
    op.drop_index('ix_case_opd_received', table_name='cooperation_case')
    op.drop_table('case_tally')
