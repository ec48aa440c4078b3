"""People leave, cases stay: what a user holds, and handing it to someone else.

A user who holds cases, dispositions, history rows or documents is never deleted (the history
would lose who did what); the account is deactivated instead, and its open work moves first to a
successor. Supervisors reassign selected cases the same way. Every change goes through the ORM,
so the audit log (models/audit.py) records each reassignment. No Flask; the caller commits.
"""
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from models.base import N_, Refusal
from models.case import Case, StepEvent
from models.disposition import Disposition
from models.document import Document
from models.procedure import CASE_WORKERS, OPEN_STATUSES, SUPERVISORS
from models.user import User
from models.workflow import is_case_worker


class HandoverRefusal(Refusal):
    """A refused hand-over or reassignment; nothing was changed."""


@dataclass(frozen=True)
class Holdings:
    """How many records name the user: any of them keeps the account from being deleted."""

    cases: int = 0         # cases assigned to the user, whatever their status
    dispositions: int = 0  # dispositions the user wrote or received
    history: int = 0       # step history rows the user made
    documents: int = 0     # documents the user created

    def __bool__(self) -> bool:
        return any((self.cases, self.dispositions, self.history, self.documents))


@dataclass(frozen=True)
class OpenWork:
    """What must move to a successor before the user stops working cases."""

    cases: list[Case] = field(default_factory=list)                # open or on hold, assigned to the user
    dispositions: list[Disposition] = field(default_factory=list)  # not done, addressed to the user

    def __bool__(self) -> bool:
        return bool(self.cases or self.dispositions)


@dataclass(frozen=True)
class Reassigned:
    """The outcome of a reassignment: moved, already with the assignee, refused (one reason each)."""

    moved: list[Case] = field(default_factory=list)
    unchanged: list[Case] = field(default_factory=list)
    refused: list[HandoverRefusal] = field(default_factory=list)


def _count(model, *where):
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def holdings(session: Session, user: User) -> Holdings:
    """Everything that names `user`, counted in one query."""
    row = session.execute(select(
        _count(Case, Case.assigned_to_id == user.id),
        _count(Disposition, or_(Disposition.author_id == user.id, Disposition.to_user_id == user.id)),
        _count(StepEvent, StepEvent.actor_id == user.id),
        _count(Document, Document.created_by_id == user.id),
    )).one()
    return Holdings(*row)


def open_work(session: Session, user: User) -> OpenWork:
    """The user's open (or held) cases and undone dispositions, in a stable order."""
    if user.id is None:
        return OpenWork()
    cases = session.execute(select(Case).where(Case.assigned_to_id == user.id, Case.status.in_(OPEN_STATUSES))
                            .order_by(Case.registration_number)).scalars().all()
    dispositions = session.execute(
        select(Disposition).where(Disposition.to_user_id == user.id, Disposition.done_at.is_(None))
        .options(joinedload(Disposition.case)).order_by(Disposition.id)).scalars().all()
    return OpenWork(list(cases), list(dispositions))


def work_left_behind(session: Session, user: User) -> OpenWork:
    """The open work that must move before `user` (as changed, not yet saved) stops working
    cases: deactivated, or given a role that works none. Empty while the user still works cases."""
    return OpenWork() if is_case_worker(user) else open_work(session, user)


def successor_candidates(session: Session, user: User | None = None) -> list[User]:
    """Active case workers (other than `user`) who may take over cases and dispositions."""
    query = select(User).where(User.active.is_(True), User.role.in_([role.value for role in CASE_WORKERS]))
    if user is not None and user.id is not None:
        query = query.where(User.id != user.id)
    return list(session.execute(query.order_by(User.full_name, User.username)).scalars())


def check_taker(taker: User | None, leaving: User | None = None) -> None:
    """The one rule for who may take work over: an active case worker, not the one who leaves."""
    if not is_case_worker(taker):
        raise HandoverRefusal(N_("Cases and dispositions can only be given to an active staff member, "
                                 "Kasubbag or Kabag."))
    if leaving is not None and taker.id == leaving.id:
        raise HandoverRefusal(N_("Choose someone else to take over the work of %(name)s."), name=str(leaving))


def hand_over(session: Session, user: User, successor: User | None) -> OpenWork:
    """Move the user's open cases and undone dispositions to `successor`; returns what moved.

    Checked on the server whatever the form offered; the caller commits, in the same
    transaction as the change of the account (deactivation, a new role).
    """
    check_taker(successor, user)
    work = open_work(session, user)
    for case in work.cases:
        case.assigned_to = successor
    for disposition in work.dispositions:
        disposition.to_user = successor
    return work


def reassign_cases(cases: list[Case], assignee: User | None, actor: User) -> Reassigned:
    """A supervisor gives `cases` to `assignee`; closed cases are refused one by one, the rest move."""
    if getattr(actor, "role", None) not in {role.value for role in SUPERVISORS}:
        raise HandoverRefusal(N_("Only the Kabag or a Kasubbag can reassign cases."))
    check_taker(assignee)
    result = Reassigned()
    for case in cases:
        if not case.is_open:
            result.refused.append(HandoverRefusal(
                N_("%(case)s is closed: its assignment stays as it was."), case=case.registration_number))
        elif case.assigned_to_id == assignee.id:
            result.unchanged.append(case)
        else:
            case.assigned_to = assignee
            result.moved.append(case)
    return result
