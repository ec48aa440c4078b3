"""Domain models of the cooperation service. Importing this package registers every table."""
from models.base import Base, db
from models.user import Role, User, LoginAttempt
from models.login_throttle import LoginThrottle
from models.party import Party, PartyKind
from models.counter import next_number
from models.case import AgreementType, Case, CaseStatus, StepEvent, StepEventKind
from models.procedure import CancelReason, HoldReason
from models.disposition import Disposition, Instruction
from models.meeting import Attendee, Meeting, MeetingStatus
from models.document import Document, DocumentKind
from models.complaint import Complaint, ComplaintChannel, ComplaintStatus
from models.audit import AuditLog
from models.agreement import Agreement
from models.setting import Setting, Settings, load_settings

__all__ = [
    "Agreement", "AgreementType", "Attendee", "AuditLog", "Base", "CancelReason", "Case", "CaseStatus", "Complaint",
    "ComplaintChannel", "ComplaintStatus", "Disposition", "Document", "DocumentKind",
    "HoldReason", "Instruction", "LoginAttempt", "LoginThrottle", "Meeting", "MeetingStatus", "Party", "PartyKind",
    "Role",
    "Setting", "Settings", "StepEvent", "StepEventKind", "User", "db", "load_settings",
    "next_number",
]
