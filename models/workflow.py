"""The 17-step procedure of the Standar Pelayanan Kerjasama, as one table, and the moves.

Who performs a step and what must exist before it can be completed is a one-line edit
here and nowhere else. No Flask imports: the procedure is plain data and functions that
check, move, append a history row, or raise `WorkflowError(reason)`.

Requirements are written `what[:detail]`:
  document:<DocumentKind>  a document of that kind on the case
  disposition              a disposition written on the case at this step
  meeting:planned          a meeting planned (or already held) for the case
  meeting:held             a held meeting with at least one attendee present
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models.base import N_, Refusal
from models.sla import elapsed_days
from models.user import Role


@dataclass(frozen=True)
class Step:
    number: int
    title_id: str
    title_en: str
    role: Role
    requires: tuple[str, ...] = ()


STAFF, KASUBBAG, KABAG = Role.STAFF, Role.KASUBBAG, Role.KABAG

STEPS: tuple[Step, ...] = (
    Step(1, "Menghimpun dan menelaah peraturan perundang-undangan", "Gather and review the applicable regulations", STAFF, ("document:regulation_notes",)),
    Step(2, "Menyusun rencana kerja sama", "Compose the agreement plan", STAFF, ("document:plan",)),
    Step(3, "Menerima draf dari OPD", "Receive the draft from the OPD", STAFF, ("document:opd_draft",)),
    Step(4, "Menyampaikan draf dengan lembar disposisi", "Forward the draft with a disposition sheet", KASUBBAG, ("document:disposition_sheet",)),
    Step(5, "Menerima draf dan mendisposisi", "Receive the draft and write a disposition", KABAG, ("disposition",)),
    Step(6, "Merencanakan pembahasan dengan Tim TKKSD dan OPD", "Plan the discussion with the TKKSD team and the OPD", KASUBBAG, ("meeting:planned",)),
    Step(7, "Membuat dan mengirim undangan rapat", "Write and send the meeting invitations", STAFF, ("document:invitation",)),
    Step(8, "Melaksanakan rapat pembahasan", "Hold the discussion meeting", KASUBBAG, ("meeting:held",)),
    Step(9, "Menyusun Nota Dinas hasil rapat", "Write the memo (Nota Dinas) of the meeting's results", STAFF, ("document:memo",)),
    Step(10, "Menyampaikan Nota Dinas kepada Kepala Bagian", "Send the memo to the Head of Section", KASUBBAG),
    Step(11, "Menerima Nota Dinas dan mendisposisi", "Receive the memo and write a disposition", KABAG, ("disposition",)),
    Step(12, "Menyusun dokumen final", "Compose the final agreement document", STAFF, ("document:final_draft",)),
    Step(13, "Menyampaikan dokumen final", "Send the final document up", KASUBBAG),
    Step(14, "Menerima dokumen final dan mendisposisi", "Receive the final document and write a disposition", KABAG, ("disposition",)),
    Step(15, "Menerima dokumen final yang telah didisposisi", "Receive the final document with its disposition", KASUBBAG),
    Step(16, "Menyerahkan dokumen kepada OPD", "Hand the agreement document to the OPD", STAFF, ("document:handover_receipt",)),
    Step(17, "Mengarsipkan dan menyimpan dokumen", "Archive and store the agreement document", STAFF, ("document:signed_agreement",)),
)

FIRST_STEP, LAST_STEP = STEPS[0].number, STEPS[-1].number

# Supervisors may act for the roles below them.
ACTS_FOR: dict[Role, frozenset[Role]] = {
    KABAG: frozenset({KABAG, KASUBBAG, STAFF}),
    KASUBBAG: frozenset({KASUBBAG, STAFF}),
    STAFF: frozenset({STAFF}),
}
# Who may send a case back, put it on hold and resume it.
SUPERVISORS: frozenset[Role] = frozenset({KABAG, KASUBBAG})


def step(number: int) -> Step:
    """The step with this number; raises KeyError for a number outside the procedure."""
    if not FIRST_STEP <= number <= LAST_STEP:
        raise KeyError(number)
    return STEPS[number - 1]


class WorkflowError(Refusal):
    """A refused move of the procedure."""


def may_perform(role: str, step_number: int) -> bool:
    """Whether a user of `role` may complete step `step_number` (directly or acting for another role)."""
    try:
        return step(step_number).role in ACTS_FOR.get(Role(role), frozenset())
    except ValueError:
        return False


def missing_requirements(session: Session, case) -> list[str]:
    """The requirements of the case's current step that do not exist yet (empty: it may advance)."""
    return [req for req in step(case.current_step).requires if not _requirement_met(session, case, req)]


def _requirement_met(session: Session, case, requirement: str) -> bool:
    # Imported here: these models import this module for the step bounds.
    from models.disposition import Disposition
    from models.document import Document
    from models.meeting import Attendee, Meeting

    what, _, detail = requirement.partition(":")
    if what == "document":
        query = exists().where(Document.case_id == case.id, Document.kind == detail)
    elif what == "disposition":
        query = exists().where(Disposition.case_id == case.id, Disposition.step == case.current_step)
    elif what == "meeting" and detail == "planned":
        query = exists().where(Meeting.case_id == case.id, Meeting.status.in_(("planned", "held")))
    elif what == "meeting" and detail == "held":
        query = exists().where(Meeting.case_id == case.id, Meeting.status == "held",
                               exists().where(Attendee.meeting_id == Meeting.id, Attendee.present.is_(True)))
    else:
        raise ValueError(f"unknown requirement {requirement!r}")
    return bool(session.execute(select(query)).scalar())


def _record(session: Session, case, kind: str, from_step, to_step, actor, note: str | None) -> None:
    from models.case import StepEvent
    session.add(StepEvent(case=case, kind=kind, from_step=from_step, to_step=to_step,
                          actor_id=actor.id, note=note or None))


def _require_open(case) -> None:
    if case.status == "on_hold":
        raise WorkflowError(N_("%(case)s is on hold; resume it first."), case=case.registration_number)
    if case.status != "open":
        raise WorkflowError(N_("%(case)s is closed."), case=case.registration_number)


def advance(session: Session, case, actor, note: str | None = None) -> None:
    """Complete the case's current step: move to the next, or close the case after step 17.

    Raises WorkflowError, changing nothing, when the case is not open, the actor's role may
    not perform the step, or the step's requirements are missing. The caller commits; the
    case's version column makes a concurrent second move of the same case fail.
    """
    _require_open(case)
    current = step(case.current_step)
    if not may_perform(actor.role, current.number):
        raise WorkflowError(N_("%(case)s: step %(step)s is performed by %(role)s, not by %(actor)s."),
                            case=case.registration_number, step=current.number, role=current.role.value,
                            actor=actor.role)
    missing = missing_requirements(session, case)
    if missing:
        raise WorkflowError(N_("%(case)s: step %(step)s cannot be completed without: %(missing)s."),
                            case=case.registration_number, step=current.number, missing=missing)
    if current.number == LAST_STEP:
        case.status = "done"
        case.closed_at = datetime.now(timezone.utc)
        _record(session, case, "complete", current.number, current.number, actor, note)
    else:
        case.current_step = current.number + 1
        _record(session, case, "advance", current.number, case.current_step, actor, note)


def _require_supervisor(actor) -> None:
    if Role(actor.role) not in SUPERVISORS:
        raise WorkflowError(N_("Only the Kabag or the Kasubbag may do this."))


def _require_reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise WorkflowError(N_("Give a reason."))
    return reason.strip()


def send_back(session: Session, case, actor, to_step: int, reason: str | None) -> None:
    """A supervisor returns an open case to an earlier step, with a reason."""
    _require_supervisor(actor)
    reason = _require_reason(reason)
    _require_open(case)
    if not FIRST_STEP <= to_step < case.current_step:
        raise WorkflowError(N_("%(case)s can only be sent back to a step before %(step)s."),
                            case=case.registration_number, step=case.current_step)
    _record(session, case, "return", case.current_step, to_step, actor, reason)
    case.current_step = to_step


def hold(session: Session, case, actor, reason: str | None, today: date) -> None:
    """A supervisor stops the clock: the case waits for the OPD or the counterparty."""
    _require_supervisor(actor)
    reason = _require_reason(reason)
    _require_open(case)
    case.status = "on_hold"
    case.held_since = today
    _record(session, case, "hold", case.current_step, case.current_step, actor, reason)


def resume(session: Session, case, actor, reason: str | None, today: date) -> None:
    """Restart the clock; the days on hold (in the SLA's unit) push the due date."""
    _require_supervisor(actor)
    reason = _require_reason(reason)
    if case.status != "on_hold":
        raise WorkflowError(N_("%(case)s is not on hold."), case=case.registration_number)
    case.status = "open"
    case.days_on_hold = (case.days_on_hold or 0) + elapsed_days(session, case.held_since or today, today)
    case.held_since = None
    _record(session, case, "resume", case.current_step, case.current_step, actor, reason)
