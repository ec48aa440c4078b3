"""TKKSD discussion meetings and who attended them."""
import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Timestamped, Versioned, db
from models.case import Case
from models.party import Party
from models.user import Role, User, _in_values


class MeetingStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class Meeting(Timestamped, Versioned, db.Model):
    __tablename__ = "meeting"
    __table_args__ = (CheckConstraint(_in_values("status", MeetingStatus), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cooperation_case.id", ondelete="CASCADE"), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    place: Mapped[str] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MeetingStatus.PLANNED.value, index=True)
    minutes: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()
    attendees: Mapped[list["Attendee"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="Attendee.id")

    def __str__(self) -> str:
        return f"{self.case.registration_number if self.case else ''} {self.scheduled_at:%Y-%m-%d}"


class Attendee(db.Model):
    __tablename__ = "attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[str | None] = mapped_column(String(120))
    organisation: Mapped[str | None] = mapped_column(String(200))
    present: Mapped[bool] = mapped_column(Boolean, default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")

    def __str__(self) -> str:
        return self.name


def mark_held(meeting: Meeting, minutes: str | None, now: datetime) -> None:
    """The meeting took place: held, with its minutes when given (else the minutes it has).

    The meeting's own rules (workflow.meeting_problems) are checked by the caller afterwards."""
    if minutes:
        meeting.minutes = minutes
    meeting.status = MeetingStatus.HELD
    meeting.updated_at = now  # the version moves even when nothing else changed: a second post is stale


def known_attendees(session: Session, limit: int = 1000) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Who is usually invited: the active accounts that take part in the procedure or sit on the
    TKKSD (full name, role code; not the IT administrator), and the parties' contact persons
    (contact person, party name). Each list ordered by name, at most `limit` long."""
    users = session.execute(
        select(User.full_name, User.role).where(User.active.is_(True), User.role != Role.ADMIN.value)
        .order_by(User.full_name).limit(limit)).all()
    contacts = session.execute(
        select(Party.contact_person, Party.name)
        .where(Party.contact_person.is_not(None), func.trim(Party.contact_person) != "")
        .order_by(Party.contact_person, Party.name).limit(limit)).all()
    return [tuple(row) for row in users], [tuple(row) for row in contacts]
