"""The data of the Standar Pelayanan Kerjasama: the 17 steps, who acts for whom, the moves, and
what evidence each step needs. The ground floor: no model imports, no Flask, only data.

Who performs a step, what it needs and who may make which move is a one-line edit here and
nowhere else; models/workflow.py holds the functions that check and apply them.
"""
import enum
from dataclasses import dataclass

from models.base import N_, Refusal
from models.user import Role


class WorkflowError(Refusal):
    """A refused move of the procedure (or a record refused because of where its case stands)."""


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    ON_HOLD = "on_hold"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.ON_HOLD)
CLOSED_STATUSES = (CaseStatus.DONE, CaseStatus.CANCELLED)


class StepEventKind(enum.StrEnum):
    REGISTER = "register"
    ADVANCE = "advance"
    RETURN = "return"
    HOLD = "hold"
    RESUME = "resume"
    CANCEL = "cancel"
    COMPLETE = "complete"


class HoldReason(enum.StrEnum):
    """Why the clock stands still."""
    WAITING_OPD_DRAFT = "waiting_opd_draft"
    WAITING_COUNTERPARTY = "waiting_counterparty"
    WAITING_LEGAL_OPINION = "waiting_legal_opinion"
    OTHER = "other"


class CancelReason(enum.StrEnum):
    """Why a case ended without an agreement."""
    WITHDRAWN = "withdrawn"                  # withdrawn by the OPD
    REQUIREMENTS_NOT_MET = "requirements_not_met"  # rejected at intake
    REJECTED = "rejected"                    # rejected after review
    DUPLICATE = "duplicate"


class Evidence(enum.StrEnum):
    """What kind of record proves a requirement (models/workflow.py holds the query of each)."""
    DOCUMENT = "document"          # a document of the kind with a stored file
    DISPOSITION = "disposition"    # a disposition written at the step
    MEETING_PLANNED = "meeting_planned"  # a meeting planned (or held)
    MEETING_HELD = "meeting_held"  # a meeting whose time has passed, attended, with minutes


@dataclass(frozen=True)
class Requirement:
    key: str
    label: str  # untranslated; screens translate it
    evidence: Evidence
    document_kind: str | None = None
    after_meeting: bool = False  # the document reports on a held meeting: it cannot predate it


def _document(kind: str, label: str, after_meeting: bool = False) -> Requirement:
    return Requirement(f"document:{kind}", label, Evidence.DOCUMENT, kind, after_meeting)


REGULATION_NOTES = _document("regulation_notes", N_("Regulation notes (file)"))
PLAN = _document("plan", N_("Agreement plan (file)"))
OPD_DRAFT = _document("opd_draft", N_("Draft from the OPD (file)"))
DISPOSITION_SHEET = _document("disposition_sheet", N_("Disposition sheet (file)"))
INVITATION = _document("invitation", N_("Meeting invitation (file)"))
MEMO = _document("memo", N_("Nota Dinas of the held meeting (file)"), after_meeting=True)
FINAL_DRAFT = _document("final_draft", N_("Final agreement document (file)"))
HANDOVER_RECEIPT = _document("handover_receipt", N_("Hand-over receipt (file)"))
SIGNED_AGREEMENT = _document("signed_agreement", N_("Signed agreement (file)"))
DISPOSITION = Requirement("disposition", N_("A disposition written at this step"), Evidence.DISPOSITION)
MEETING_PLANNED = Requirement("meeting:planned", N_("A planned meeting"), Evidence.MEETING_PLANNED)
MEETING_HELD = Requirement("meeting:held", N_("A held meeting: its time has passed, at least one attendee "
                                              "present, minutes written"), Evidence.MEETING_HELD)


@dataclass(frozen=True)
class Step:
    number: int
    title: str  # untranslated English; the Indonesian comes from the catalogue (labels.step_title)
    role: Role
    requires: tuple[Requirement, ...] = ()


STAFF, KASUBBAG, KABAG = Role.STAFF, Role.KASUBBAG, Role.KABAG

STEPS: tuple[Step, ...] = (
    Step(1, N_("Gather and review the applicable regulations"), STAFF, (REGULATION_NOTES,)),
    Step(2, N_("Compose the agreement plan"), STAFF, (PLAN,)),
    Step(3, N_("Receive the draft from the OPD"), STAFF, (OPD_DRAFT,)),
    Step(4, N_("Forward the draft with a disposition sheet"), KASUBBAG, (DISPOSITION_SHEET,)),
    Step(5, N_("Receive the draft and write a disposition"), KABAG, (DISPOSITION,)),
    Step(6, N_("Plan the discussion with the TKKSD team and the OPD"), KASUBBAG, (MEETING_PLANNED,)),
    Step(7, N_("Write and send the meeting invitations"), STAFF, (INVITATION,)),
    Step(8, N_("Hold the discussion meeting"), KASUBBAG, (MEETING_HELD,)),
    Step(9, N_("Write the memo (Nota Dinas) of the meeting's results"), STAFF, (MEMO,)),
    Step(10, N_("Send the memo to the Head of Section"), KASUBBAG),
    Step(11, N_("Receive the memo and write a disposition"), KABAG, (DISPOSITION,)),
    Step(12, N_("Compose the final agreement document"), STAFF, (FINAL_DRAFT,)),
    Step(13, N_("Send the final document up"), KASUBBAG),
    Step(14, N_("Receive the final document and write a disposition"), KABAG, (DISPOSITION,)),
    Step(15, N_("Receive the final document with its disposition"), KASUBBAG),
    Step(16, N_("Hand the agreement document to the OPD"), STAFF, (HANDOVER_RECEIPT,)),
    Step(17, N_("Archive and store the agreement document"), STAFF, (SIGNED_AGREEMENT,)),
)

FIRST_STEP, LAST_STEP = STEPS[0].number, STEPS[-1].number

REQUIREMENTS: dict[str, Requirement] = {r.key: r for s in STEPS for r in s.requires}

# Supervisors may act for the roles below them.
ACTS_FOR: dict[Role, frozenset[Role]] = {
    KABAG: frozenset({KABAG, KASUBBAG, STAFF}),
    KASUBBAG: frozenset({KASUBBAG, STAFF}),
    STAFF: frozenset({STAFF}),
}
# The roles that work cases: they may be assigned one and receive a disposition.
CASE_WORKERS: frozenset[Role] = frozenset(ACTS_FOR)
# Who may send a case back, put it on hold, resume it, cancel it and reassign it.
SUPERVISORS: frozenset[Role] = frozenset({KABAG, KASUBBAG})
# The roles a disposition may be addressed to as a whole.
DISPOSITION_ROLES: tuple[Role, ...] = (KASUBBAG, STAFF)

PERFORMER = "performer"  # a move made by whoever may perform the current step


@dataclass(frozen=True)
class Move:
    kind: StepEventKind
    by: frozenset[Role] | str          # the roles, or PERFORMER
    source: tuple[CaseStatus, ...]     # the statuses it starts from
    target: CaseStatus | None          # the status it leaves (None: unchanged, or done after step 17)
    reason_categories: type[enum.StrEnum] | None = None  # a category the user must choose
    needs_note: bool = False


MOVES: dict[StepEventKind, Move] = {move.kind: move for move in (
    Move(StepEventKind.ADVANCE, PERFORMER, (CaseStatus.OPEN,), None),
    Move(StepEventKind.RETURN, SUPERVISORS, (CaseStatus.OPEN,), CaseStatus.OPEN, needs_note=True),
    Move(StepEventKind.HOLD, SUPERVISORS, (CaseStatus.OPEN,), CaseStatus.ON_HOLD, HoldReason, needs_note=True),
    Move(StepEventKind.RESUME, SUPERVISORS, (CaseStatus.ON_HOLD,), CaseStatus.OPEN, needs_note=True),
    Move(StepEventKind.CANCEL, SUPERVISORS, OPEN_STATUSES, CaseStatus.CANCELLED, CancelReason, needs_note=True),
)}
# Advancing past the last step completes the case.
COMPLETES_AT_LAST_STEP = CaseStatus.DONE


def step(number: int) -> Step:
    """The step with this number; raises KeyError for a number outside the procedure."""
    if not isinstance(number, int) or not FIRST_STEP <= number <= LAST_STEP:
        raise KeyError(number)
    return STEPS[number - 1]


def may_perform(role: str, step_number: int) -> bool:
    """Whether a user of `role` may complete step `step_number` (directly or acting for another role)."""
    try:
        return step(step_number).role in ACTS_FOR.get(Role(role), frozenset())
    except (KeyError, ValueError):
        return False
