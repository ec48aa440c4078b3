"""indexes that serve the deadline lists in their order

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:30:00

The overdue list (open and on-hold cases past their due date, the most days late first) gets a
partial index on (due_date, id) over the open and on-hold cases: the list is a walk from the start
of it, whatever the number of cases; status and held_since ride along so that its count reads the
index alone. The due-soon list's (status, due_date) index gains the id,
which orders equal due dates as the list does, so PostgreSQL reads a page without sorting a day's
cases. My work's count, in the navigation bar of every page, reads (status, current_step,
assigned_to_id) from an index of its own. Indexes only: no row changes. Over 1M cases each takes some seconds to build and blocks
writes to cases meanwhile.
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The same predicate as models/case.py OPEN_STATUS_SQL (the statuses of models/procedure.py OPEN_STATUSES).
OPEN_STATUSES = "status IN ('open', 'on_hold')"


def upgrade():
    op.create_index('ix_case_open_due_date', 'cooperation_case', ['due_date', 'id', 'status', 'held_since'],
                    sqlite_where=sa.text(OPEN_STATUSES), postgresql_where=sa.text(OPEN_STATUSES))
    op.drop_index('ix_case_status_due_date', table_name='cooperation_case')
    op.create_index('ix_case_status_due_date', 'cooperation_case', ['status', 'due_date', 'id'])
    op.create_index('ix_case_status_step_assignee', 'cooperation_case', ['status', 'current_step', 'assigned_to_id'])


def downgrade():
    op.drop_index('ix_case_status_step_assignee', table_name='cooperation_case')
    op.drop_index('ix_case_status_due_date', table_name='cooperation_case')
    op.create_index('ix_case_status_due_date', 'cooperation_case', ['status', 'due_date'])
    op.drop_index('ix_case_open_due_date', table_name='cooperation_case')
