"""Figures of the dashboard, each one aggregate query: counted and grouped by the database, never by
loading the cases or their events into Python. The open cases per step and type are read from the
tally every write of a case keeps (CaseTally), durations from the totals each move keeps
(StepTimeByDay): neither counts the cases or pairs the history here. The rest are index ranges."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.case import Case, CaseTally, StepTimeByDay, open_clause, overdue_clause
from models.disposition import Disposition
from models.procedure import OPEN_STATUSES, STEPS, CaseStatus
from models.sla import CITY_TIME_ZONE
from models.user import User
from models.workload import due_within_clause


def _open_tally(session: Session) -> list[tuple[int, str, int]]:
    """(step, type, cases) of the open (or held) cases, from the tally the writes keep."""
    return session.execute(select(CaseTally.current_step, CaseTally.agreement_type, CaseTally.cases)
                           .where(CaseTally.status.in_(OPEN_STATUSES))).all()


def open_by_step(session: Session) -> dict[int, int]:
    """Open (or held) cases at each step, every step listed, in step order."""
    counts = dict.fromkeys((step.number for step in STEPS), 0)
    for step_number, _kind, cases in _open_tally(session):
        counts[step_number] += cases
    return counts


def open_by_type(session: Session) -> dict[str, int]:
    """Open (or held) cases of each agreement type."""
    counts = {"KSB": 0, "PKS": 0}
    for _step, kind, cases in _open_tally(session):
        counts[kind] = counts.get(kind, 0) + cases
    return counts


def overdue_count(session: Session, today: date) -> int:
    return session.execute(select(func.count()).select_from(Case).where(overdue_clause(today))).scalar_one()


def due_soon_count(session: Session, today: date, days: int) -> int:
    """Open cases due from today to `days` ahead (the case list's "Due within (days)" filter)."""
    return session.execute(select(func.count()).select_from(Case)
                           .where(due_within_clause(today, days))).scalar_one()


def start_of(day: date) -> datetime:
    """Midnight of `day` in Probolinggo, as the UTC instant the database compares with."""
    return datetime.combine(day, time.min, tzinfo=CITY_TIME_ZONE).astimezone(timezone.utc)


def completed_in_year(session: Session, today: date) -> int:
    """Cases completed since 1 January (Probolinggo time) of this year."""
    return session.execute(select(func.count()).select_from(Case).where(
        Case.status == CaseStatus.DONE, Case.closed_at >= start_of(date(today.year, 1, 1)))).scalar_one()


def _local_day(session: Session, instant):
    """SQL: the Probolinggo calendar day of a stored UTC instant (WIB is UTC+7 all year)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(str(CITY_TIME_ZONE), instant))
    return func.date(instant, "+7 hours")


def on_time_share(session: Session, today: date) -> tuple[int, int]:
    """(closed on or before the due date, closed) over the last 12 months."""
    on_time = case((_local_day(session, Case.closed_at) <= Case.due_date, 1), else_=0)
    row = session.execute(select(func.coalesce(func.sum(on_time), 0), func.count()).where(
        Case.status == CaseStatus.DONE, Case.closed_at >= start_of(today - timedelta(days=365)))).one()
    return int(row[0]), int(row[1])


def mean_days_per_step(session: Session, today: date) -> list[tuple[int, float]]:
    """Where cases wait longest: the mean days of a stay at each step (from coming to the step to
    the move that leaves it, time on hold left out as the SLA leaves it out), over the moves of the
    last 12 months; longest first, one decimal. Read from the totals the moves keep per day and step
    (StepTimeByDay, at most 365 × 17 rows), never from the events themselves."""
    rows = session.execute(
        select(StepTimeByDay.step, func.sum(StepTimeByDay.days), func.sum(StepTimeByDay.visits))
        .where(StepTimeByDay.day >= today - timedelta(days=365)).group_by(StepTimeByDay.step)).all()
    means = [(int(step_number), round(float(days) / visits, 1)) for step_number, days, visits in rows if visits]
    return sorted(means, key=lambda row: (-row[1], row[0]))


@dataclass(frozen=True)
class Addressee:
    """Undone dispositions of one addressee: a person (`name`), or a whole role (`role`, no person)."""

    name: str | None
    role: str | None
    count: int


def open_dispositions_per_person(session: Session) -> list[Addressee]:
    """Undone dispositions by addressee, most first: grouped by addressee from the index of the
    undone ones (ix_disposition_undone_due), then the few addressees' names."""
    role = case((Disposition.to_user_id.is_(None), Disposition.to_role), else_=None).label("role")
    grouped = (select(Disposition.to_user_id, role, func.count().label("count"))
               .where(Disposition.done_at.is_(None)).group_by(Disposition.to_user_id, role).subquery())
    rows = session.execute(
        select(User.full_name, grouped.c.role, grouped.c.count).select_from(grouped)
        .outerjoin(User, User.id == grouped.c.to_user_id)
        .order_by(grouped.c.count.desc(), User.full_name, grouped.c.role)).all()
    return [Addressee(name, role, count) for name, role, count in rows]


def needing_attention(session: Session, today: date, within_days: int, limit: int = 25) -> list[Case]:
    """Open cases overdue or due within `within_days`, most urgent first, with who holds them."""
    return list(session.execute(
        select(Case).options(joinedload(Case.assigned_to), joinedload(Case.opd))
        .where(open_clause(), or_(overdue_clause(today), due_within_clause(today, within_days)))
        .order_by(Case.due_date, Case.id).limit(limit)).scalars())


def attention_count(session: Session, today: date, within_days: int) -> int:
    """Overdue or due soon: two disjoint ranges of ix_case_open_due_date (before today, from today)."""
    return overdue_count(session, today) + due_soon_count(session, today, within_days)
