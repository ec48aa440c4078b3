"""Complaints about the service, from the standard's channels."""
import enum
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import N_, Timestamped, Versioned, db, utcnow
from models.case import Case
from models.user import _in_values


class ComplaintChannel(str, enum.Enum):
    LETTER = "letter"
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"
    WEBSITE = "website"
    IN_PERSON = "in_person"

    def __str__(self) -> str:
        return self.value


class ComplaintStatus(str, enum.Enum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


class Complaint(Timestamped, Versioned, db.Model):
    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(_in_values("channel", ComplaintChannel), name="channel"),
        CheckConstraint(_in_values("status", ComplaintStatus), name="status"),
        CheckConstraint("length(trim(description)) > 0", name="description_not_blank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    complainant: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str | None] = mapped_column(String(120))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cooperation_case.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.NEW.value, index=True)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    case: Mapped[Case | None] = relationship()

    def __str__(self) -> str:
        return f"{self.complainant} ({self.received_at:%Y-%m-%d})"


ANSWERED = (ComplaintStatus.ANSWERED.value, ComplaintStatus.CLOSED.value)


def response_due(complaint: Complaint, response_days: int) -> datetime:
    return complaint.received_at + timedelta(days=response_days)


def is_response_overdue(complaint: Complaint, response_days: int, now: datetime) -> bool:
    """Not yet answered and past the response target of the settings."""
    if complaint.status in ANSWERED or complaint.received_at is None:
        return False
    received = complaint.received_at if complaint.received_at.tzinfo else complaint.received_at.replace(tzinfo=now.tzinfo)
    return now > received + timedelta(days=response_days)


def settle_response(complaint: Complaint) -> list[str]:
    """An answered complaint needs its response; answering stamps the response time."""
    if complaint.status in ANSWERED:
        if not (complaint.response or "").strip():
            return [N_("An answered or closed complaint needs the response that was given.")]
        if complaint.responded_at is None:
            complaint.responded_at = utcnow()
    return []
