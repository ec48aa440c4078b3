"""TKKSD discussion meetings and who attended them."""
import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Timestamped, Versioned, db
from models.case import Case
from models.user import _in_values


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
