"""each officer's open cases by due date, and each addressee's undone dispositions by due date

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:30:00

The supervisors' My work counts every officer's open cases, those due soon and those overdue: at
1M cases PostgreSQL read the whole table for it (230 ms). A partial index of the open cases by
(assignee, due date, status, held since) answers it from the index alone. My work lists a user's
undone dispositions soonest due first: at 1M cases the Kasubbag's role had 162k of them, sorted
for 50 (300 ms). Two partial indexes of the undone ones give them in that order: a person's, and a
whole role's (an index led by the person cannot, as "no person" is no equality to a planner).
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OPEN_STATUS_SQL = "status IN ('open', 'on_hold')"  # models/case.py OPEN_STATUS_SQL when this was written


def upgrade():
    op.create_index('ix_case_open_assignee', 'cooperation_case', ['assigned_to_id', 'due_date', 'status', 'held_since'],
                    unique=False, sqlite_where=sa.text(OPEN_STATUS_SQL), postgresql_where=sa.text(OPEN_STATUS_SQL))
    op.create_index('ix_disposition_undone_due', 'disposition', ['to_user_id', 'due_date', 'id', 'case_id', 'to_role'],
                    unique=False, sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))
    op.create_index('ix_disposition_undone_role', 'disposition', ['to_role', 'due_date', 'id', 'case_id'], unique=False,
                    sqlite_where=sa.text('done_at IS NULL AND to_user_id IS NULL'),
                    postgresql_where=sa.text('done_at IS NULL AND to_user_id IS NULL'))
    op.drop_index('ix_disposition_undone', table_name='disposition')


def downgrade():
    op.create_index('ix_disposition_undone', 'disposition', ['to_user_id', 'to_role', 'case_id'], unique=False,
                    sqlite_where=sa.text('done_at IS NULL'), postgresql_where=sa.text('done_at IS NULL'))
    op.drop_index('ix_disposition_undone_role', table_name='disposition')
    op.drop_index('ix_disposition_undone_due', table_name='disposition')
    op.drop_index('ix_case_open_assignee', table_name='cooperation_case')
