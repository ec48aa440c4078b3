"""Dispositions: a superior's written instruction on a case's document."""
import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    or_,
    text,
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
        # The undone dispositions (the dashboard, My work): a few among every one written, each
        # person's in due-date order (undated last, as PostgreSQL's index orders them), and with
        # the role, so the dashboard groups every undone one by addressee from the index alone...
        Index("ix_disposition_undone_due", "to_user_id", "due_date", "id", "case_id", "to_role",
              sqlite_where=text("done_at IS NULL"), postgresql_where=text("done_at IS NULL")),
        # ... and those to a whole role in due-date order: an index led by the person would not give
        # them in that order, as "no person" (IS NULL) is no equality to a planner.
        Index("ix_disposition_undone_role", "to_role", "due_date", "id", "case_id",
              sqlite_where=text("done_at IS NULL AND to_user_id IS NULL"),
              postgresql_where=text("done_at IS NULL AND to_user_id IS NULL")),
        # The done ones by when (the list's "Done" filter). Partial: an index of every row would hold
        # the undone as one value, which SQLite's statistics take for a rare one and look up first.
        Index("ix_disposition_done_at", "done_at",
              sqlite_where=text("done_at IS NOT NULL"), postgresql_where=text("done_at IS NOT NULL")),
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
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # ix_disposition_done_at

    case: Mapped[Case] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])

    def __str__(self) -> str:
        return f"{self.case.registration_number if self.case else ''} / {self.instruction}"


def write_disposition(disposition: Disposition, author) -> None:
    """A new disposition is written by `author` at the step its case stands at."""
    disposition.author_id = author.id
    disposition.step = disposition.case.current_step


def done_refusal(disposition: Disposition, actor) -> str | None:
    """Why `actor` may not mark `disposition` done (untranslated), or None when they may: the
    addressee (the person, or anyone holding the addressed role) or the author closes it."""
    if actor.role not in {role.value for role in ACTS_FOR}:
        return N_("Only the addressee of a disposition can mark it done.")
    if disposition.done_at is not None:
        return N_("This disposition is already done.")
    addressed = disposition.to_user_id == actor.id or disposition.to_role == actor.role
    if not (addressed or disposition.author_id == actor.id):
        return N_("Only the addressee of a disposition can mark it done.")
    return None


def mark_done(disposition: Disposition, actor, now: datetime) -> None:
    """Close the disposition for `actor`, or raise WorkflowError saying why they may not."""
    refusal = done_refusal(disposition, actor)
    if refusal is not None:
        raise WorkflowError(refusal)
    disposition.done_at = now


def addressed_to(user) -> ColumnElement[bool]:
    """Dispositions addressed to `user`: to them by name, or to their role with no person named
    (a disposition naming a person is that person's, whatever their role)."""
    return or_(Disposition.to_user_id == user.id,
               and_(Disposition.to_user_id.is_(None), Disposition.to_role == user.role))


def not_done() -> ColumnElement[bool]:
    """Dispositions nobody has marked done yet."""
    return Disposition.done_at.is_(None)
