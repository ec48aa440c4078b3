"""Display labels of the stored codes, one place for lists, filters, forms and exports."""
from flask import g, has_request_context
from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l

from models import (
    AgreementType,
    CaseStatus,
    ComplaintChannel,
    ComplaintStatus,
    DocumentKind,
    Instruction,
    MeetingStatus,
    PartyKind,
    Role,
    StepEventKind,
)
from models.procedure import REQUIREMENTS, STEPS, CancelReason, HoldReason

LABELS = {
    Role: {Role.ADMIN: _l("IT administrator"), Role.KABAG: _l("Head of Section (Kabag)"),
           Role.KASUBBAG: _l("Head of Sub-section (Kasubbag)"), Role.STAFF: _l("Staff"),
           Role.VIEWER: _l("Viewer")},
    PartyKind: {PartyKind.OPD: _l("City agency (OPD)"), PartyKind.REGION: _l("Other region"),
                PartyKind.CENTRAL: _l("Ministry or central body"), PartyKind.COMPANY: _l("Company"),
                PartyKind.UNIVERSITY: _l("University"), PartyKind.COMMUNITY: _l("Community organisation"),
                PartyKind.FOREIGN: _l("Foreign party")},
    AgreementType: {AgreementType.KSB: _l("KSB (joint agreement)"),
                    AgreementType.PKS: _l("PKS (cooperation agreement)")},
    CaseStatus: {CaseStatus.OPEN: _l("Open"), CaseStatus.ON_HOLD: _l("On hold"),
                 CaseStatus.DONE: _l("Done"), CaseStatus.CANCELLED: _l("Cancelled")},
    StepEventKind: {StepEventKind.REGISTER: _l("Registered"), StepEventKind.ADVANCE: _l("Advanced"),
                    StepEventKind.RETURN: _l("Returned"), StepEventKind.HOLD: _l("Placed on hold"),
                    StepEventKind.RESUME: _l("Resumed"), StepEventKind.CANCEL: _l("Cancelled"),
                    StepEventKind.COMPLETE: _l("Completed")},
    Instruction: {Instruction.APPROVE: _l("Approve"), Instruction.STUDY: _l("Study"),
                  Instruction.FOLLOW_UP: _l("Follow up"), Instruction.PREPARE_MEETING: _l("Prepare a meeting"),
                  Instruction.COORDINATE: _l("Coordinate"), Instruction.FOR_INFORMATION: _l("For information"),
                  Instruction.FILE: _l("File away")},
    MeetingStatus: {MeetingStatus.PLANNED: _l("Planned"), MeetingStatus.HELD: _l("Held"),
                    MeetingStatus.CANCELLED: _l("Cancelled")},
    DocumentKind: {DocumentKind.PROPOSAL_LETTER: _l("Proposal letter"),
                   DocumentKind.REGULATION_NOTES: _l("Regulation notes"), DocumentKind.PLAN: _l("Plan"),
                   DocumentKind.OPD_DRAFT: _l("OPD draft"), DocumentKind.DISPOSITION_SHEET: _l("Disposition sheet"),
                   DocumentKind.INVITATION: _l("Invitation"), DocumentKind.ATTENDANCE_LIST: _l("Attendance list"),
                   DocumentKind.MINUTES: _l("Minutes"), DocumentKind.MEMO: _l("Memo (Nota Dinas)"),
                   DocumentKind.FINAL_DRAFT: _l("Final draft"), DocumentKind.SIGNED_AGREEMENT: _l("Signed agreement"),
                   DocumentKind.HANDOVER_RECEIPT: _l("Hand-over receipt"), DocumentKind.OTHER: _l("Other")},
    ComplaintChannel: {ComplaintChannel.LETTER: _l("Letter"), ComplaintChannel.PHONE: _l("Phone"),
                       ComplaintChannel.FAX: _l("Fax"), ComplaintChannel.EMAIL: _l("E-mail"),
                       ComplaintChannel.WEBSITE: _l("Website"), ComplaintChannel.IN_PERSON: _l("In person")},
    HoldReason: {HoldReason.WAITING_OPD_DRAFT: _l("Waiting for the OPD's draft"),
                 HoldReason.WAITING_COUNTERPARTY: _l("Waiting for the counterparty"),
                 HoldReason.WAITING_LEGAL_OPINION: _l("Waiting for a legal opinion"),
                 HoldReason.OTHER: _l("Other")},
    CancelReason: {CancelReason.WITHDRAWN: _l("Withdrawn by the OPD"),
                   CancelReason.REQUIREMENTS_NOT_MET: _l("Requirements not met at intake"),
                   CancelReason.REJECTED: _l("Rejected after review"),
                   CancelReason.DUPLICATE: _l("Duplicate request")},
    ComplaintStatus: {ComplaintStatus.NEW: _l("New"), ComplaintStatus.IN_PROGRESS: _l("In progress"),
                      ComplaintStatus.ANSWERED: _l("Answered"), ComplaintStatus.CLOSED: _l("Closed")},
}


# The words letters and sheets write where the panel's short labels would not do (gettext under
# force_locale("id") gives the Indonesian: admin_app/letters.py).
ROLE_TITLES = {Role.KABAG: _l("Head of the Government Section"),
               Role.KASUBBAG: _l("Head of the Cooperation Sub-section"),
               Role.STAFF: _l("Staff of the Cooperation Sub-section"),
               Role.ADMIN: _l("IT administrator"), Role.VIEWER: _l("Viewer")}
AGREEMENT_NAMES = {AgreementType.KSB: _l("Joint agreement"), AgreementType.PKS: _l("Cooperation agreement")}


def role_title(role) -> str:
    """A role as a letter names the office: `Kepala Bagian Pemerintahan`; an unknown code as itself."""
    return _named(ROLE_TITLES, Role, role)


def agreement_name(kind) -> str:
    """The long name of an agreement type: `Kesepakatan Bersama`; an unknown code as itself."""
    return _named(AGREEMENT_NAMES, AgreementType, kind)


def _named(names: dict, enum_cls, value) -> str:
    if value is None:
        return ""
    try:
        return str(names[enum_cls(value)])
    except (ValueError, KeyError):
        return str(value)


def requirement_label(requirement) -> str:
    """A requirement (or its key, as a refusal carries it) in the user's language."""
    if isinstance(requirement, str):
        requirement = REQUIREMENTS[requirement]
    return gettext(requirement.label)


def explain(error) -> str:
    """A Refusal in the user's language, with role and requirement names translated."""
    params = dict(error.params)
    for key in ("role", "actor"):
        if key in params:
            params[key] = label(Role, params[key])
    if "missing" in params:
        params["missing"] = ", ".join(requirement_label(item) for item in params["missing"])
    return gettext(error.reason, **params)


def choices(enum_cls) -> list[tuple[str, str]]:
    """(stored value, label) pairs in the enum's order, for selects, filters and lists."""
    return [(member.value, LABELS[enum_cls][member]) for member in enum_cls]


def label(enum_cls, value) -> str:
    """The label of a stored code; an unknown code shows as itself, none as nothing."""
    if value is None:
        return ""
    try:
        return str(LABELS[enum_cls][enum_cls(value)])
    except ValueError:
        return str(value)


def reason_label(kind, reason) -> str:
    """The hold or cancel reason a step event of `kind` carries, in words; nothing for other moves."""
    if kind == StepEventKind.HOLD:
        return label(HoldReason, reason)
    if kind == StepEventKind.CANCEL:
        return label(CancelReason, reason)
    return ""


def step_title(number: int) -> str:
    """`5. Menerima draf dan mendisposisi` in Indonesian, `5. Receive the draft and write a disposition` in English.
    Translated once per request and language (a list asks for it on every row and in its filters)."""
    titles = g.setdefault("step_titles", {}) if has_request_context() else {}
    key = (str(get_locale()), number)
    if key not in titles:
        step = STEPS[number - 1]
        titles[key] = f"{step.number}. {gettext(step.title)}"
    return titles[key]


def step_choices() -> list[tuple[int, LazyString]]:
    return [(s.number, LazyString(step_title, s.number)) for s in STEPS]
