"""Dispositions: a superior's written instruction on a case's document."""
import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import N_, Timestamped, Versioned, db
from models.case import Case
from models.user import Role, User, _in_values
from models.procedure import ACTS_FOR, FIRST_STEP, LAST_STEP, WorkflowError


class Instruction(enum.StrEnum):
    APPROVE = "approve"          # Setujui
    STUDY = "study"              # Pelajari
    FOLLOW_UP = "follow_up"      # Tindak lanjuti
    PREPARE_MEETING = "prepare_meeting"  # Siapkan rapat
    COORDINATE = "coordinate"    # Koordinasikan
    FOR_INFORMATION = "for_information"  # Untuk diketahui
    FILE = "file"                # Arsipkan


class Disposition(Timestamped, Versioned, db.Model):
    __tablename__ = "disposition"
    __table_args__ = (
        CheckConstraint(_in_values("instruction", Instruction), name="instruction"),
        CheckConstraint(f"step BETWEEN {FIRST_STEP} AND {LAST_STEP}", name="step"),
        CheckConstraint(f"to_role IS NULL OR {_in_values('to_role', Role)}", name="to_role"),
        CheckConstraint("to_user_id IS NOT NULL OR to_role IS NOT NULL", name="has_addressee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cooperation_case.id", ondelete="CASCADE"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    to_role: Mapped[str | None] = mapped_column(String(16))
    instruction: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    case: Mapped[Case] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])

    def __str__(self) -> str:
        return f"{self.case.registration_number if self.case else ''} / {self.instruction}"


def write_disposition(disposition: Disposition, author) -> None:
    """A new disposition is written by `author` at the step its case stands at."""
    disposition.author_id = author.id
    disposition.step = disposition.case.current_step


def mark_done(disposition: Disposition, actor, now: datetime) -> None:
    """The addressee (the person, or anyone holding the addressed role) or the author closes it."""
    if actor.role not in {role.value for role in ACTS_FOR}:
        raise WorkflowError(N_("Only the addressee of a disposition can mark it done."))
    if disposition.done_at is not None:
        raise WorkflowError(N_("This disposition is already done."))
    addressed = disposition.to_user_id == actor.id or disposition.to_role == actor.role
    if not (addressed or disposition.author_id == actor.id):
        raise WorkflowError(N_("Only the addressee of a disposition can mark it done."))
    disposition.done_at = now
