"""The moves of the procedure: check, move, append a history row, or refuse.

The data (steps, roles, moves, requirements) lives in models/procedure.py; this module holds
only the functions over it. No Flask imports. Every refusal is a `WorkflowError(reason)` and
changes nothing; the caller commits.
"""
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from models.base import N_, as_utc, utcnow
from models.case import Case, StepEvent
from models.disposition import Disposition
from models.document import Document
from models.meeting import Attendee, Meeting, MeetingStatus
from models.procedure import (
    ACTS_FOR,
    CASE_WORKERS,
    CLOSED_STATUSES,
    COMPLETES_AT_LAST_STEP,
    FIRST_STEP,
    LAST_STEP,
    MOVES,
    PERFORMER,
    STEPS,
    SUPERVISORS,
    CaseStatus,
    Evidence,
    Move,
    Requirement,
    StepEventKind,
    WorkflowError,
    may_perform,
    step,
)
from models.sla import CITY_TIME_ZONE, elapsed_days
from models.user import Role, User

__all__ = ["ACTS_FOR", "FIRST_STEP", "LAST_STEP", "STEPS", "SUPERVISORS", "WorkflowError", "advance",
           "available_moves", "cancel", "hold", "make_move", "may_perform", "missing_requirements", "resume",
           "send_back", "step"]


# -- evidence --------------------------------------------------------------------------------------
def _held_meeting_clause(case_id: int, now: datetime, since: datetime | None):
    """SQL: a meeting of the case whose time has passed, marked held, attended, with minutes."""
    clauses = [Meeting.case_id == case_id, Meeting.status == MeetingStatus.HELD, Meeting.scheduled_at <= now,
               func.length(func.trim(func.coalesce(Meeting.minutes, ""))) > 0,
               exists().where(Attendee.meeting_id == Meeting.id, Attendee.present.is_(True))]
    if since is not None:
        clauses.append(Meeting.scheduled_at > since)
    return clauses


def meeting_is_held(meeting: Meeting, now: datetime) -> bool:
    """The same rule in Python, for a meeting at hand (the Nota Dinas is generated only from one)."""
    return (meeting.status == MeetingStatus.HELD and as_utc(meeting.scheduled_at) <= now
            and bool((meeting.minutes or "").strip()) and any(a.present for a in meeting.attendees))


def meeting_problems(meeting: Meeting, now: datetime) -> list[str]:
    """Rules a meeting must meet when saved (messages untranslated)."""
    problems = []
    if meeting.status == MeetingStatus.HELD and meeting.scheduled_at is not None \
            and as_utc(meeting.scheduled_at) > now:
        problems.append(N_("A meeting cannot be marked held before its scheduled time."))
    return problems


def rework_since(session: Session, case: Case, step_number: int) -> datetime | None:
    """When the case was last sent back to `step_number` or earlier: the evidence of that step
    must be newer than this (None: never sent back that far)."""
    return session.execute(select(func.max(StepEvent.at)).where(
        StepEvent.case_id == case.id, StepEvent.kind == StepEventKind.RETURN,
        StepEvent.to_step <= step_number)).scalar()


def _evidence(case: Case, requirement: Requirement, since: datetime | None, now: datetime):
    """The query that proves `requirement` for the case at its current step."""
    newer = (lambda column: [column > since]) if since is not None else (lambda column: [])
    if requirement.evidence is Evidence.DOCUMENT:
        clauses = [Document.case_id == case.id, Document.kind == requirement.document_kind,
                   Document.file_sha256.is_not(None), *newer(Document.created_at)]
        if requirement.after_meeting:  # a memo reports on the latest held meeting: written after it
            clauses += [exists().where(*_held_meeting_clause(case.id, now, None),
                                       Meeting.scheduled_at <= Document.created_at),
                        ~exists().where(*_held_meeting_clause(case.id, now, None),
                                        Meeting.scheduled_at > Document.created_at)]
        return exists().where(*clauses)
    if requirement.evidence is Evidence.DISPOSITION:
        return exists().where(Disposition.case_id == case.id, Disposition.step == case.current_step,
                              *newer(Disposition.created_at))
    if requirement.evidence is Evidence.MEETING_PLANNED:
        return exists().where(Meeting.case_id == case.id,
                              Meeting.status.in_((MeetingStatus.PLANNED, MeetingStatus.HELD)),
                              *newer(Meeting.scheduled_at))
    if requirement.evidence is Evidence.MEETING_HELD:
        return exists().where(*_held_meeting_clause(case.id, now, since))
    raise ValueError(f"no evidence query for {requirement!r}")


def requirement_states(session: Session, case: Case, now: datetime | None = None):
    """[(requirement, met)] of the case's current step, and the send back its evidence must follow."""
    now = now or utcnow()
    current = step(case.current_step)
    since = rework_since(session, case, current.number) if current.requires else None
    return [(r, bool(session.execute(select(_evidence(case, r, since, now))).scalar()))
            for r in current.requires], since


def missing_requirements(session: Session, case: Case, now: datetime | None = None) -> list[Requirement]:
    """The requirements of the case's current step not yet met (empty: it may advance)."""
    states, _ = requirement_states(session, case, now)
    return [requirement for requirement, met in states if not met]


# -- who may do what ---------------------------------------------------------------------------------
def is_case_worker(user: User | None) -> bool:
    """Active staff, kasubbag or kabag: may be assigned a case or receive a disposition."""
    return user is not None and bool(user.active) and user.role in CASE_WORKERS


def _allowed_by_role(move: Move, case: Case, actor) -> bool:
    try:
        role = Role(actor.role)
    except ValueError:
        return False
    if move.by == PERFORMER:
        return may_perform(role, case.current_step)
    return role in move.by


def available_moves(case: Case, actor) -> list[StepEventKind]:
    """What this user may do with this case now: the one answer for the buttons and the server."""
    return [kind for kind, move in MOVES.items()
            if case.status in move.source and _allowed_by_role(move, case, actor)
            and not (kind is StepEventKind.RETURN and case.current_step == FIRST_STEP)]


def _refuse_status(case: Case, move: Move) -> None:
    if case.status in move.source:
        return
    if case.status == CaseStatus.ON_HOLD:
        raise WorkflowError(N_("%(case)s is on hold; resume it first."), case=case.registration_number)
    if case.status in CLOSED_STATUSES:
        raise WorkflowError(N_("%(case)s is closed."), case=case.registration_number)
    raise WorkflowError(N_("%(case)s is not on hold."), case=case.registration_number)


def _check(case: Case, actor, kind: StepEventKind, note: str | None, category: str | None) -> str | None:
    """Refuse a move that available_moves does not offer this user now, saying why; then the move's
    own conditions (a reason category, a note). Returns the note, stripped."""
    move = MOVES[kind]
    if kind not in available_moves(case, actor):
        if not _allowed_by_role(move, case, actor):
            if move.by == PERFORMER:
                current = step(case.current_step)
                raise WorkflowError(N_("%(case)s: step %(step)s is performed by %(role)s, not by %(actor)s."),
                                    case=case.registration_number, step=current.number, role=current.role.value,
                                    actor=actor.role)
            raise WorkflowError(N_("Only the Kabag or the Kasubbag may do this."))
        _refuse_status(case, move)
        raise WorkflowError(N_("%(case)s can only be sent back to a step before %(step)s."),
                            case=case.registration_number, step=case.current_step)
    if move.reason_categories is not None and category not in {c.value for c in move.reason_categories}:
        raise WorkflowError(N_("Choose the reason category."))
    if move.needs_note and not (note and note.strip()):
        raise WorkflowError(N_("Give a reason."))
    return note.strip() if note and note.strip() else None


def check_seen(session: Session, case: Case, seen: tuple[int, int] | None) -> None:
    """Refuse a move made from a page that no longer shows the case as it is (a second tab,
    a double click, a stale list): the step and version the user saw must still hold."""
    if seen is None:
        return
    seen_step, seen_version = seen
    if seen_step == case.current_step and seen_version == case.version:
        return
    last = session.execute(select(StepEvent).where(StepEvent.case_id == case.id)
                           .order_by(StepEvent.id.desc()).limit(1)).scalar()
    if last is not None and last.kind != StepEventKind.REGISTER:
        at = as_utc(last.at).astimezone(CITY_TIME_ZONE)
        raise WorkflowError(N_("%(case)s was already moved by %(name)s at %(time)s; it is now at step %(step)s. "
                               "Nothing was changed."), case=case.registration_number,
                            name=str(last.actor) if last.actor else "?", time=f"{at:%H:%M}",
                            step=case.current_step)
    raise WorkflowError(N_("%(case)s was changed by someone else after you opened it. Reload the page; "
                           "nothing was changed."), case=case.registration_number)


def _record(session: Session, case: Case, kind: StepEventKind, from_step, to_step, actor, note, reason=None):
    """Append the move to the history. Its time on the step it leaves (days_on_step and
    working_days_on_step) is filled when the session flushes (models/case.py _time_on_steps), so
    it is written in the move's own transaction, and also for events the seed or a script adds."""
    session.add(StepEvent(case=case, kind=kind, from_step=from_step, to_step=to_step,
                          actor_id=actor.id, note=note or None, reason=reason))


# -- the moves ----------------------------------------------------------------------------------------
def advance(session: Session, case: Case, actor, note: str | None = None, *,
            seen: tuple[int, int] | None = None, now: datetime | None = None) -> None:
    """Complete the case's current step: move to the next, or close the case after step 17.

    Raises WorkflowError, changing nothing, when the case is not open, the page was stale, the
    actor's role may not perform the step, or the step's evidence is missing. The case's version
    column makes a concurrent second move of the same case fail at commit.
    """
    check_seen(session, case, seen)
    note = _check(case, actor, StepEventKind.ADVANCE, note, None)
    missing = missing_requirements(session, case, now)
    if missing:
        raise WorkflowError(N_("%(case)s: step %(step)s cannot be completed without: %(missing)s."),
                            case=case.registration_number, step=case.current_step,
                            missing=[r.key for r in missing])
    current = case.current_step
    if current == LAST_STEP:
        case.status = COMPLETES_AT_LAST_STEP
        case.closed_at = utcnow()
        _record(session, case, StepEventKind.COMPLETE, current, current, actor, note)
    else:
        case.current_step = current + 1
        _record(session, case, StepEventKind.ADVANCE, current, case.current_step, actor, note)


def send_back(session: Session, case: Case, actor, to_step: int, reason: str | None, *,
              seen: tuple[int, int] | None = None) -> None:
    """A supervisor returns an open case to an earlier step, with a reason: the evidence of that
    step and the later ones must be made again."""
    check_seen(session, case, seen)
    reason = _check(case, actor, StepEventKind.RETURN, reason, None)
    if not isinstance(to_step, int) or not FIRST_STEP <= to_step < case.current_step:
        raise WorkflowError(N_("%(case)s can only be sent back to a step before %(step)s."),
                            case=case.registration_number, step=case.current_step)
    _record(session, case, StepEventKind.RETURN, case.current_step, to_step, actor, reason)
    case.current_step = to_step


def hold(session: Session, case: Case, actor, reason: str | None, today: date, category: str | None = None, *,
         seen: tuple[int, int] | None = None) -> None:
    """A supervisor stops the clock: the case waits for the OPD, the counterparty, a legal opinion."""
    check_seen(session, case, seen)
    reason = _check(case, actor, StepEventKind.HOLD, reason, category)
    case.status = CaseStatus.ON_HOLD
    case.held_since = today
    case.hold_reason = category
    _record(session, case, StepEventKind.HOLD, case.current_step, case.current_step, actor, reason, category)


def resume(session: Session, case: Case, actor, reason: str | None, today: date, *,
           seen: tuple[int, int] | None = None) -> None:
    """Restart the clock; the days on hold (in the SLA's unit) push the due date."""
    check_seen(session, case, seen)
    reason = _check(case, actor, StepEventKind.RESUME, reason, None)
    case.status = CaseStatus.OPEN
    case.days_on_hold = (case.days_on_hold or 0) + elapsed_days(session, case.held_since or today, today)
    case.held_since = None
    case.hold_reason = None
    _record(session, case, StepEventKind.RESUME, case.current_step, case.current_step, actor, reason)


def cancel(session: Session, case: Case, actor, category: str | None, reason: str | None, *,
           seen: tuple[int, int] | None = None) -> None:
    """A supervisor closes an open or held case without an agreement: withdrawn, not meeting the
    requirements, rejected after review, a duplicate. Its clock stops; nothing is added to it after."""
    check_seen(session, case, seen)
    reason = _check(case, actor, StepEventKind.CANCEL, reason, category)
    case.status = CaseStatus.CANCELLED
    case.cancel_reason = category
    case.hold_reason = None
    case.closed_at = utcnow()
    _record(session, case, StepEventKind.CANCEL, case.current_step, case.current_step, actor, reason, category)


def make_move(session: Session, case: Case, actor, kind: StepEventKind, *, seen: tuple[int, int] | None,
              today: date, note: str | None = None, category: str | None = None,
              to_step: int | None = None) -> None:
    """One entry point for the screens: the move `kind` with what the form carried."""
    if kind is StepEventKind.ADVANCE:
        advance(session, case, actor, note, seen=seen)
    elif kind is StepEventKind.RETURN:
        send_back(session, case, actor, to_step, note, seen=seen)
    elif kind is StepEventKind.HOLD:
        hold(session, case, actor, note, today, category, seen=seen)
    elif kind is StepEventKind.RESUME:
        resume(session, case, actor, note, today, seen=seen)
    elif kind is StepEventKind.CANCEL:
        cancel(session, case, actor, category, note, seen=seen)
    else:
        raise WorkflowError(N_("This move does not exist."))


def require_open_case(case: Case | None) -> None:
    """Dispositions, meetings and documents are added only to a case still in the procedure."""
    if case is not None and case.status in CLOSED_STATUSES:
        raise WorkflowError(N_("%(case)s is closed: nothing can be added to it or changed on it."),
                            case=case.registration_number)
