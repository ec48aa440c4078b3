"""What waits for whom: the rules of "My work" (Tugas saya) and of the officers' load. No Flask.

Who performs a step comes from models/procedure.py (each Step's role, ACTS_FOR). The rules:

- A case waits for a user at a step whose role is the user's own when it is assigned to the user,
  unassigned, or assigned to someone who cannot perform that step (the case's officer is a staff
  member while the step is the Kasubbag's or the Kabag's; or the assignee no longer works cases).
  A case assigned to another person who may perform the step is that person's work.
- A supervisor may act for the roles below (ACTS_FOR), but cases at those roles' steps are the
  officers' work: they show in the supervisor's list only when assigned to the supervisor. The
  officers' load (below) is where a supervisor sees the rest, and reassigns it.
- Only open cases wait; a case on hold waits for someone outside the section.
- A case sent back to its assignee (its latest step event is a return) is listed once, as returned.
- Dispositions: addressed to the user, or to the user's role with no person named; not done; on an
  open case.
- Meetings of open cases the user works (assigned to the user, or waiting for the user as above),
  and for the role that holds the meetings every meeting of a case not assigned to another user of
  that role: planned from now to 7 days ahead (to hold), or past and still without minutes (to
  write up).

Every figure is counted in SQL; lists are LIMITed.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from models.case import Case, StepEvent, due_within_clause, open_clause, overdue_clause
from models.disposition import Disposition
from models.meeting import Meeting, MeetingStatus
from models.procedure import (
    ACTS_FOR,
    CASE_WORKERS,
    OPEN_STATUSES,
    STEPS,
    CaseStatus,
    Evidence,
    StepEventKind,
)
from models.sla import CITY_TIME_ZONE
from models.user import Role, User

MEETING_WINDOW_DAYS = 7  # "this week": meetings to hold from today to 7 days ahead
LIST_LIMIT = 50          # rows per section of My work; the count says how many there are in all
# The roles whose load a supervisor watches (kabag rows appear too when a kabag holds open cases).
OFFICER_ROLES = (Role.STAFF, Role.KASUBBAG)


# -- predicates -------------------------------------------------------------------------------------
def performers(role: Role) -> frozenset[str]:
    """The roles that may perform a step of `role` (itself and the supervisors acting for it)."""
    return frozenset(r.value for r, covered in ACTS_FOR.items() if role in covered)


def _role(user) -> Role | None:
    try:
        return Role(user.role)
    except ValueError:
        return None


def _unable(step_role: Role):
    """SQL: the users who may not perform a step of `step_role` (inactive, or of another role): a
    handful, so that "assigned to one of them" is an index lookup per user, not a scan of the cases."""
    return select(User.id).where(or_(User.active.is_(False), User.role.notin_(performers(step_role))))


def _nobody_able(step_role: Role):
    """SQL: the case's assignee, if any, is not an active user who may perform a step of `step_role`
    (the assignee is always a stored user: the foreign key)."""
    return or_(Case.assigned_to_id.is_(None), Case.assigned_to_id.in_(_unable(step_role)))


def _latest_event(column: str):
    """SQL: `column` of the case's latest step event (an alias of its own, so that a query that also
    selects step events does not correlate this one with them)."""
    event = aliased(StepEvent)
    return (select(getattr(event, column)).where(event.case_id == Case.id)
            .order_by(event.id.desc()).limit(1).correlate(Case).scalar_subquery())


def returned_clause(user):
    """SQL: open cases assigned to `user` whose latest move sent them back (they have not moved since)."""
    return and_(Case.status == CaseStatus.OPEN, Case.assigned_to_id == user.id,
                _latest_event("kind") == StepEventKind.RETURN.value)


def _steps_of(role: Role) -> tuple[list[int], list[int]]:
    """The steps `role` performs itself, and those of the roles it acts for (ACTS_FOR)."""
    return ([s.number for s in STEPS if s.role == role],
            [s.number for s in STEPS if s.role != role and s.role in ACTS_FOR[role]])


def waiting_clause(user):
    """SQL: open cases at a step `user` performs that are the user's to do (see the module's rules)."""
    role = _role(user)
    if role not in CASE_WORKERS:
        return false()
    own, covered = _steps_of(role)
    mine = Case.assigned_to_id == user.id
    ways = [and_(Case.current_step.in_(own), or_(mine, _nobody_able(role)))]
    if covered:  # an empty IN would have the databases read every open case to find none
        ways.append(and_(Case.current_step.in_(covered), mine))
    return and_(Case.status == CaseStatus.OPEN, or_(*ways))


def _disposition_ways(user):
    """The two ways a disposition reaches `user`: to the person, or to the role with no person named."""
    return (Disposition.to_user_id == user.id, and_(Disposition.to_user_id.is_(None), Disposition.to_role == user.role))


def _undone_on_open_case(*addressed):
    return and_(Disposition.done_at.is_(None), *addressed,
                exists().where(Case.id == Disposition.case_id, Case.status.in_(OPEN_STATUSES)))


def disposition_clause(user):
    """SQL: undone dispositions on open cases addressed to `user` or to the user's role as a whole."""
    return _undone_on_open_case(or_(*_disposition_ways(user)))


MEETING_ROLES = frozenset(s.role for s in STEPS if any(r.evidence is Evidence.MEETING_HELD for r in s.requires))


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CITY_TIME_ZONE).astimezone(timezone.utc)


def meeting_clause(user, today: date, now: datetime):
    """SQL: meetings of the user's open cases to hold this week or to write up."""
    role = _role(user)
    if role not in CASE_WORKERS:
        return false()
    case_ids = select(Case.id).where(Case.status.in_(OPEN_STATUSES),
                                     or_(Case.assigned_to_id == user.id, waiting_clause(user)))
    if role in MEETING_ROLES:  # the role that holds the meetings: unless another of that role has the case
        case_ids = select(Case.id).where(Case.status.in_(OPEN_STATUSES), or_(
            Case.assigned_to_id == user.id,
            ~exists().where(User.id == Case.assigned_to_id, User.id != user.id, User.active.is_(True),
                            User.role == role.value)))
    end = _utc_midnight(today + timedelta(days=MEETING_WINDOW_DAYS + 1))
    no_minutes = func.length(func.trim(func.coalesce(Meeting.minutes, ""))) == 0
    # Driven by the meetings (a few in the window), each looking its case up: never every case the user works.
    return and_(exists(case_ids.where(Case.id == Meeting.case_id).correlate(Meeting)), or_(
        and_(Meeting.status == MeetingStatus.PLANNED, Meeting.scheduled_at >= now, Meeting.scheduled_at < end),
        and_(Meeting.status.in_((MeetingStatus.PLANNED, MeetingStatus.HELD)), Meeting.scheduled_at < now,
             no_minutes)))


# -- My work ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkCounts:
    """How many items of each kind wait for the user; `total` is the navigation bar's badge."""

    cases: int = 0
    dispositions: int = 0
    meetings: int = 0
    returned: int = 0

    @property
    def total(self) -> int:
        return self.cases + self.dispositions + self.meetings + self.returned


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _waiting_parts(user, role: Role):
    """The cases at a step waiting for `user` (waiting_clause) less those sent back to the user
    (listed apart), as three disjoint parts, each an index range: the user's own, the unassigned at
    the user's steps, and those held there by someone unable to perform them."""
    own, covered = _steps_of(role)
    is_open = Case.status == CaseStatus.OPEN
    not_returned = func.coalesce(_latest_event("kind"), "") != StepEventKind.RETURN.value
    return (and_(is_open, Case.current_step.in_(own + covered), Case.assigned_to_id == user.id, not_returned),
            and_(is_open, Case.current_step.in_(own), Case.assigned_to_id.is_(None)),
            and_(is_open, Case.current_step.in_(own), Case.assigned_to_id.in_(_unable(role))))


def work_counts(session: Session, user, today: date, now: datetime | None = None) -> WorkCounts:
    """The four counts of My work in one statement (zero for a role that works no cases).

    The badge is on every page: the waiting cases are counted as three disjoint index ranges of
    (status, step, assignee) - the user's own, the unassigned, those held by someone unable - rather
    than as one OR that the databases answer by reading every open case."""
    role = _role(user)
    if role not in CASE_WORKERS:
        return WorkCounts()
    count = lambda model, *clause: select(func.count()).select_from(model).where(*clause).scalar_subquery()
    mine, unassigned, held_by_unable = _waiting_parts(user, role)
    to_person, to_role = _disposition_ways(user)
    row = session.execute(select(
        count(Case, mine) + count(Case, unassigned) + count(Case, held_by_unable),
        # The two ways apart: each an index range of the undone dispositions (ix_disposition_undone_due).
        count(Disposition, _undone_on_open_case(to_person)) + count(Disposition, _undone_on_open_case(to_role)),
        count(Meeting, meeting_clause(user, today, _now(now))),
        count(Case, returned_clause(user)),
    )).one()
    return WorkCounts(*row)


@dataclass(frozen=True)
class MyWork:
    counts: WorkCounts
    cases: list[Case]                 # assigned to the user first, then the others waiting, by due date
    dispositions: list[Disposition]   # earliest due first, undated last
    meetings: list[Meeting]           # by time
    returned: list[tuple[Case, StepEvent]]  # with the return (who, when, why)


def _urgent_first(*first):
    return (*first, Case.due_date, Case.id)


def my_work(session: Session, user, today: date, now: datetime | None = None, limit: int = LIST_LIMIT) -> MyWork:
    """Everything waiting for `user`: counts and the first `limit` rows of each kind."""
    counts = work_counts(session, user, today, now)
    if _role(user) not in CASE_WORKERS:
        return MyWork(counts, [], [], [], [])
    now = _now(now)
    # The user's own first, then the others, each by due date: two index ranges apart, never a sort
    # of every case waiting at the user's steps.
    mine, unassigned, held_by_unable = _waiting_parts(user, _role(user))
    cases_where = lambda clause, rows, *order: session.execute(
        select(Case).options(joinedload(Case.assigned_to), joinedload(Case.opd))
        .where(clause).order_by(*(order or _urgent_first())).limit(rows)).scalars().all()
    # The user's own are a person's workload: read from ix_case_assignee and sorted. Ordered by an
    # expression no index gives, so that no planner walks every open case in due-date order hoping to
    # meet the user's soon (PostgreSQL did, for a user with none: 1.4 s at 1M cases).
    cases = list(cases_where(mine, limit, func.coalesce(Case.due_date, Case.due_date), Case.id))
    if len(cases) < limit:  # the others read in due-date order from ix_case_status_due_date until enough
        own, _ = _steps_of(_role(user))
        cases += cases_where(and_(Case.status == CaseStatus.OPEN, Case.current_step.in_(own),
                                  _nobody_able(_role(user))), limit - len(cases))
    undated_last = lambda disposition: (disposition.due_date is None, disposition.due_date or date.min, disposition.id)
    dispositions = sorted((disposition for way in _disposition_ways(user) for disposition in session.execute(
        select(Disposition).options(joinedload(Disposition.case), joinedload(Disposition.author))
        .where(_undone_on_open_case(way))
        .order_by(Disposition.due_date.asc().nulls_last(), Disposition.id).limit(limit)).scalars()),
        key=undated_last)[:limit]
    meetings = session.execute(
        select(Meeting).options(joinedload(Meeting.case)).where(meeting_clause(user, today, now))
        .order_by(Meeting.scheduled_at, Meeting.id).limit(limit)).scalars().all()
    returned = session.execute(
        select(Case, StepEvent).join(StepEvent, StepEvent.id == _latest_event("id"))
        .options(joinedload(StepEvent.actor))
        .where(returned_clause(user)).order_by(*_urgent_first()).limit(limit)).all()
    return MyWork(counts, list(cases), list(dispositions), list(meetings), [tuple(row) for row in returned])


# -- the officers' load -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Load:
    """One officer's open cases (open or on hold), those due soon, and those overdue."""

    user: User | None  # None: the unassigned cases
    open: int = 0
    due_soon: int = 0
    overdue: int = 0


def _load_rows(session: Session, today: date, due_soon_days: int, *where):
    flag = lambda clause: func.coalesce(func.sum(case((clause, 1), else_=0)), 0)
    return session.execute(
        select(Case.assigned_to_id, func.count(), flag(due_within_clause(today, due_soon_days)),
               flag(overdue_clause(today)))
        .where(open_clause(), *where).group_by(Case.assigned_to_id)).all()  # from ix_case_open_assignee alone


def own_load(session: Session, user, today: date, due_soon_days: int) -> Load:
    """The user's own figures (one aggregate query)."""
    rows = _load_rows(session, today, due_soon_days, Case.assigned_to_id == user.id)
    return Load(user, *rows[0][1:]) if rows else Load(user)


def officer_load(session: Session, today: date, due_soon_days: int) -> tuple[list[Load], Load]:
    """Each officer's load and the unassigned cases, in two queries.

    The officers are the active staff and Kasubbag, and anyone else who still holds open cases
    (a Kabag, or an account since deactivated: its cases must be reassigned), so the rows and the
    unassigned add up to every open case.
    """
    counts = {row[0]: row[1:] for row in _load_rows(session, today, due_soon_days)}
    holders = [user_id for user_id in counts if user_id is not None]
    officers = session.execute(select(User).where(or_(
        and_(User.active.is_(True), User.role.in_([r.value for r in OFFICER_ROLES])),
        User.id.in_(holders))).order_by(User.full_name, User.id)).scalars().all()
    rows = [Load(user, *counts.get(user.id, (0, 0, 0))) for user in officers]
    return rows, Load(None, *counts.get(None, (0, 0, 0)))
