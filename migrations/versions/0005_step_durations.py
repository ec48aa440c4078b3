"""time on the step each move leaves, stored on the step history

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:30:00

Each step event gets the time the case spent on the step it leaves (models/case.py StepEvent:
calendar days, working days by the SLA calendar, 0 for a stretch on hold), computed for the
histories already stored, and the table of their totals per day and step (StepTimeByDay) the
dashboard reads. Needs SQLite 3.33 or later (UPDATE ... FROM, window functions, and
3.35 for the downgrade's DROP COLUMN). One UPDATE rewrites every step event, blocking moves
meanwhile: 100k cases (690k events) on SQLite took about 4 s; on PostgreSQL at 1M cases (7.7M
events) expect minutes and upgrade outside office hours. Memory stays flat: no event is read
into Python.
"""
from datetime import timedelta, timezone

from alembic import op
import sqlalchemy as sa

from models.sla import CITY_TIME_ZONE, is_working_day

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 2000  # calendar rows written per statement

_events = sa.table('step_event', sa.column('at', sa.DateTime(timezone=True)))
_calendar = sa.table('tmp_working_day_count', sa.column('day', sa.Date()), sa.column('worked', sa.Integer()))


def upgrade():
    # Plain ALTER TABLE on both databases (no table copy): nullable columns without a default are
    # instant on PostgreSQL; SQLite 3.35 or later drops them again without rebuilding the table.
    op.add_column('step_event', sa.Column('days_on_step', sa.Float(), nullable=True))
    op.add_column('step_event', sa.Column('working_days_on_step', sa.Integer(), nullable=True))
    op.create_table('step_time_by_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('days', sa.Float(), nullable=False),
    sa.Column('working_days', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'step', name=op.f('pk_step_time_by_day'))
    )
    _backfill(op.get_bind())


def downgrade():
    op.drop_table('step_time_by_day')
    op.drop_column('step_event', 'working_days_on_step')
    op.drop_column('step_event', 'days_on_step')


def _local_day(instant):
    return (instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)).astimezone(CITY_TIME_ZONE).date()


def _backfill(bind):
    """The figures models/case.py _time_on_steps writes with each move, for the histories already
    stored, in SQL: each event against the one before it (LAG over the case's events by time, id).
    Working days come from a calendar table of running working-day counts (the SLA calendar of
    models/sla.py, written in batches), so the working days of a stretch are two lookups and no
    event is read into Python."""
    first, last = bind.execute(sa.select(sa.func.min(_events.c.at), sa.func.max(_events.c.at))).one()
    if first is None:
        return
    op.create_table('tmp_working_day_count', sa.Column('day', sa.Date(), primary_key=True),
                    sa.Column('worked', sa.Integer(), nullable=False))
    day, end, worked, rows = _local_day(first), _local_day(last), 0, []
    while day <= end:
        worked += is_working_day(day)
        rows.append({'day': day, 'worked': worked})
        if len(rows) == BATCH:
            bind.execute(_calendar.insert(), rows)
            rows = []
        day += timedelta(days=1)
    if rows:
        bind.execute(_calendar.insert(), rows)

    if bind.dialect.name == 'postgresql':
        days = "extract(epoch FROM e.at - e.previous_at) / 86400.0"
        local = lambda column: f"CAST(timezone('{CITY_TIME_ZONE}', {column}) AS date)"
    else:
        days = "julianday(e.at) - julianday(e.previous_at)"
        local = lambda column: f"date({column}, '+7 hours')"  # WIB is UTC+7 all year
    bind.execute(sa.text(f"""
        UPDATE step_event SET days_on_step = stretch.days, working_days_on_step = stretch.worked
        FROM (
            SELECT e.id,
                   CASE WHEN e.previous_kind = 'hold' THEN 0.0 ELSE {days} END AS days,
                   CASE WHEN e.previous_kind = 'hold' THEN 0 ELSE left_day.worked - came_day.worked END AS worked
            FROM (SELECT id, kind, at, lag(at) OVER w AS previous_at, lag(kind) OVER w AS previous_kind
                  FROM step_event WINDOW w AS (PARTITION BY case_id ORDER BY at, id)) AS e
            JOIN tmp_working_day_count AS came_day ON came_day.day = {local('e.previous_at')}
            JOIN tmp_working_day_count AS left_day ON left_day.day = {local('e.at')}
            WHERE e.previous_at IS NOT NULL AND e.kind <> 'register'
        ) AS stretch
        WHERE stretch.id = step_event.id"""))
    op.drop_table('tmp_working_day_count')
    # The running totals the moves keep (models/case.py StepTimeByDay), from the figures just written.
    bind.execute(sa.text(f"""
        INSERT INTO step_time_by_day (day, step, days, working_days, visits)
        SELECT {local('at')}, from_step, sum(days_on_step), sum(working_days_on_step),
               sum(CASE WHEN kind IN ('advance', 'return', 'complete', 'cancel') THEN 1 ELSE 0 END)
        FROM step_event WHERE days_on_step IS NOT NULL AND from_step IS NOT NULL
        GROUP BY {local('at')}, from_step"""))
