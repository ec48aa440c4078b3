"""Documents of a case (metadata; the files themselves come with the upload feature)."""
import enum
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Timestamped, Versioned, db
from models.case import Case
from models.user import User, _in_values


class DocumentKind(enum.StrEnum):
    PROPOSAL_LETTER = "proposal_letter"
    REGULATION_NOTES = "regulation_notes"
    PLAN = "plan"
    OPD_DRAFT = "opd_draft"
    DISPOSITION_SHEET = "disposition_sheet"
    INVITATION = "invitation"
    ATTENDANCE_LIST = "attendance_list"
    MINUTES = "minutes"
    MEMO = "memo"  # Nota Dinas
    FINAL_DRAFT = "final_draft"
    SIGNED_AGREEMENT = "signed_agreement"
    HANDOVER_RECEIPT = "handover_receipt"
    OTHER = "other"


class Document(Timestamped, Versioned, db.Model):
    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint(_in_values("kind", DocumentKind), name="kind"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("file_sha256 IS NULL OR (file_name IS NOT NULL AND file_size IS NOT NULL "
                        "AND file_type IS NOT NULL)", name="file_complete"),
        UniqueConstraint("case_id", "kind", "revision", name="uq_document_case_kind_revision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cooperation_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(250))
    letter_number: Mapped[str | None] = mapped_column(String(100))
    letter_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    # A generated letter (invitation, Nota Dinas) remembers the meeting it was generated from.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), index=True)
    # The stored file, if any: kept under its SHA-256, never under the name it came with.
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_sha256: Mapped[str | None] = mapped_column(String(64), index=True)

    case: Mapped[Case] = relationship()
    created_by: Mapped[User | None] = relationship()
    meeting: Mapped["Meeting | None"] = relationship()  # noqa: F821 (models/meeting.py)

    def __str__(self) -> str:
        return f"{self.title} (v{self.revision})"


def next_revision(session: Session, case_id: int, kind: str) -> int:
    """A new document of a kind already on the case becomes the next version of it."""
    with session.no_autoflush:  # the new document itself may already be in the session
        latest = session.execute(
            select(func.max(Document.revision)).where(Document.case_id == case_id, Document.kind == kind)
        ).scalar()
    return (latest or 0) + 1
