"""Figures of the dashboard, computed by the database where it can and in Python where the
SQL would differ between SQLite and PostgreSQL (durations)."""
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.case import Case, StepEvent, overdue_clause
from models.disposition import Disposition
from models.procedure import OPEN_STATUSES, STEPS, CaseStatus
from models.user import User


def open_by_step(session: Session) -> dict[int, int]:
    rows = session.execute(select(Case.current_step, func.count()).where(Case.status.in_(OPEN_STATUSES))
                           .group_by(Case.current_step)).all()
    counts = dict(rows)
    return {step.number: counts.get(step.number, 0) for step in STEPS}


def open_by_type(session: Session) -> dict[str, int]:
    rows = session.execute(select(Case.agreement_type, func.count()).where(Case.status.in_(OPEN_STATUSES))
                           .group_by(Case.agreement_type)).all()
    return {"KSB": 0, "PKS": 0, **dict(rows)}


def overdue_count(session: Session, today: date) -> int:
    return session.execute(select(func.count()).select_from(Case).where(overdue_clause(today))).scalar_one()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=timezone.utc)


def completed_in_year(session: Session, today: date) -> int:
    return session.execute(select(func.count()).select_from(Case).where(
        Case.status == CaseStatus.DONE, Case.closed_at >= _start_of(date(today.year, 1, 1)))).scalar_one()


def on_time_share(session: Session, today: date) -> tuple[int, int]:
    """(closed on or before the due date, closed) over the last 12 months."""
    rows = session.execute(select(Case.closed_at, Case.due_date).where(
        Case.status == CaseStatus.DONE, Case.closed_at >= _start_of(today - timedelta(days=365)))).all()
    on_time = sum(1 for closed_at, due in rows if closed_at.date() <= due)
    return on_time, len(rows)


def mean_days_per_step(session: Session, today: date) -> dict[int, float]:
    """Mean days a case spent at each step (over moves of the last 12 months); where cases wait longest."""
    events = session.execute(
        select(StepEvent.case_id, StepEvent.to_step, StepEvent.at)
        .where(StepEvent.at >= _start_of(today - timedelta(days=365)))
        .order_by(StepEvent.case_id, StepEvent.at, StepEvent.id)).all()
    spent: dict[tuple[int, int], float] = defaultdict(float)
    for current, following in zip(events, events[1:]):
        if current.case_id == following.case_id:
            spent[(current.case_id, current.to_step)] += (following.at - current.at).total_seconds() / 86400
    per_step: dict[int, list[float]] = defaultdict(list)
    for (_, step_number), days in spent.items():
        per_step[step_number].append(days)
    return {number: round(sum(values) / len(values), 1) for number, values in sorted(per_step.items())}


def open_dispositions_per_person(session: Session) -> list[tuple[str, int]]:
    """Undone dispositions by addressee (a person, or a whole role)."""
    rows = session.execute(
        select(User.full_name, Disposition.to_role, func.count())
        .select_from(Disposition).outerjoin(User, User.id == Disposition.to_user_id)
        .where(Disposition.done_at.is_(None))
        .group_by(User.full_name, Disposition.to_role)
        .order_by(func.count().desc())).all()
    return [(name or role or "?", count) for name, role, count in rows]


def needing_attention(session: Session, today: date, within_days: int, limit: int = 25) -> list[Case]:
    """Open cases overdue or due within `within_days`, most urgent first, with who holds them."""
    return list(session.execute(
        select(Case).options(joinedload(Case.assigned_to), joinedload(Case.opd))
        .where(or_(overdue_clause(today),
                   and_(Case.status == CaseStatus.OPEN, Case.due_date <= today + timedelta(days=within_days))))
        .order_by(Case.due_date, Case.id).limit(limit)).scalars())
