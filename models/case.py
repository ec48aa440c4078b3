"""A cooperation request (case) and its append-only step history."""
import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    event,
    func,
    or_,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import N_, Timestamped, Versioned, db, utcnow
from models.counter import next_number
from models.party import Party
from models.procedure import (
    FIRST_STEP,
    LAST_STEP,
    OPEN_STATUSES,
    CancelReason,
    CaseStatus,
    HoldReason,
    StepEventKind,
)
from models.sla import due_date_for
from models.user import User, _in_values


class AgreementType(enum.StrEnum):
    KSB = "KSB"  # Kesepakatan Bersama: joint agreement, at most 3 weeks
    PKS = "PKS"  # Perjanjian Kerja Sama: cooperation agreement, at most 1 month




class Case(Timestamped, Versioned, db.Model):
    __tablename__ = "cooperation_case"
    __table_args__ = (
        CheckConstraint(_in_values("agreement_type", AgreementType), name="agreement_type"),
        CheckConstraint(_in_values("status", CaseStatus), name="status"),
        CheckConstraint(f"hold_reason IS NULL OR {_in_values('hold_reason', HoldReason)}", name="hold_reason"),
        CheckConstraint(f"cancel_reason IS NULL OR {_in_values('cancel_reason', CancelReason)}",
                        name="cancel_reason"),
        CheckConstraint(f"current_step BETWEEN {FIRST_STEP} AND {LAST_STEP}", name="current_step"),
        # The three requirements of the standard: subject, object, proposal letter.
        CheckConstraint("length(trim(object)) > 0", name="object_not_blank"),
        CheckConstraint("length(trim(proposal_number)) > 0", name="proposal_number_not_blank"),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        CheckConstraint("due_date >= received_date", name="due_after_received"),
        CheckConstraint("previous_case_id IS NULL OR previous_case_id <> id", name="not_own_previous"),
        # The supervisors' overdue filter: open cases by due date.
        Index("ix_case_status_due_date", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(32), unique=True)
    agreement_type: Mapped[str] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(250))
    subject_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"), index=True)
    object: Mapped[str] = mapped_column(Text)
    opd_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"), index=True)
    proposal_number: Mapped[str] = mapped_column(String(100))
    proposal_date: Mapped[date] = mapped_column(Date)
    received_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    current_step: Mapped[int] = mapped_column(Integer, default=FIRST_STEP, index=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    # A PKS usually follows a KSB with the same counterparty.
    previous_case_id: Mapped[int | None] = mapped_column(ForeignKey("cooperation_case.id", ondelete="SET NULL"), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An extension is a new case that renews an agreement of the register.
    renews_agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreement.id", ondelete="SET NULL", use_alter=True), index=True)
    # Days spent on hold push the due date: time waiting for the OPD does not count.
    days_on_hold: Mapped[int] = mapped_column(Integer, default=0)
    held_since: Mapped[date | None] = mapped_column(Date)
    # Why it waits (while on hold) and why it ended without an agreement (once cancelled).
    hold_reason: Mapped[str | None] = mapped_column(String(32), index=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(32), index=True)

    subject: Mapped[Party] = relationship(foreign_keys=[subject_id])
    opd: Mapped[Party] = relationship(foreign_keys=[opd_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    previous_case: Mapped["Case | None"] = relationship(remote_side=[id], foreign_keys=[previous_case_id])
    renews_agreement: Mapped["Agreement | None"] = relationship(  # noqa: F821 (models/agreement.py)
        foreign_keys=[renews_agreement_id], post_update=True)
    events: Mapped[list["StepEvent"]] = relationship(
        back_populates="case", order_by="StepEvent.id", passive_deletes=True)

    def __str__(self) -> str:
        return f"{self.registration_number} {self.title}" if self.registration_number else self.title or ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def days_left(self, today: date) -> int | None:
        """Days until the due date (negative when overdue); None for a closed case.

        On hold the clock stands still: the count is frozen at the day the hold began.
        """
        if not self.is_open or self.due_date is None:
            return None
        reference = (self.held_since or today) if self.status == CaseStatus.ON_HOLD else today
        return (self.due_date - reference).days



def due_within_clause(today: date, days: int):
    """SQL for 'due soon': open (not on hold) and due from today to `days` ahead."""
    return and_(Case.status == CaseStatus.OPEN, Case.due_date >= today, Case.due_date <= today + timedelta(days=days))


def overdue_clause(today: date):
    """SQL for 'overdue': open past its due date, or put on hold when already past it."""
    return or_(
        and_(Case.status == CaseStatus.OPEN, Case.due_date < today),
        and_(Case.status == CaseStatus.ON_HOLD, Case.due_date < func.coalesce(Case.held_since, today)),
    )


class StepEvent(db.Model):
    """One move of a case: who, when, from, to, why. Rows are never changed or deleted."""

    __tablename__ = "step_event"
    __table_args__ = (
        CheckConstraint(_in_values("kind", StepEventKind), name="kind"),
        CheckConstraint(f"reason IS NULL OR reason IN "
                        f"({', '.join(repr(m.value) for m in (*HoldReason, *CancelReason))})", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cooperation_case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_step: Mapped[int | None] = mapped_column(Integer)
    to_step: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    # The category of a hold or a cancellation (HoldReason, CancelReason).
    reason: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.kind} {self.from_step}→{self.to_step}"


def case_problems(case: Case) -> list[str]:
    """Rules a case must meet beyond its columns' constraints (messages untranslated)."""
    problems = []
    if case.opd is not None and case.opd.kind != "opd":
        problems.append(N_("The proposing party must be a city agency (OPD)."))
    if case.subject is not None and case.opd is not None and case.subject.id == case.opd.id:
        problems.append(N_("The counterparty cannot be the proposing OPD itself."))
    if case.previous_case is not None:
        if case.agreement_type != AgreementType.PKS.value or case.previous_case.agreement_type != AgreementType.KSB.value:
            problems.append(N_("Only a PKS can follow a KSB."))
    if case.received_date and case.proposal_date and case.proposal_date > case.received_date:
        problems.append(N_("The proposal letter cannot be dated after the day it was received."))
    return problems


def registration_number(session: Session, received: date) -> str:
    """Next number of the received year, e.g. KS/2026/0001."""
    return f"KS/{received.year}/{next_number(session, f'case:{received.year}'):04d}"


@event.listens_for(Session, "before_flush")
def _prepare_cases(session: Session, flush_context, instances) -> None:
    """Number new cases, start their history, and keep due dates derived from the rules.

    Every way a case is written (panel, seed, CLI) goes through here, so the rules hold
    whatever screen or script did the write.
    """
    for obj in list(session.new):
        if isinstance(obj, Case):
            if obj.received_date and not obj.registration_number:
                obj.registration_number = registration_number(session, obj.received_date)
            if obj.received_date and obj.agreement_type:
                obj.due_date = due_date_for(session, obj)
            obj.current_step = obj.current_step or FIRST_STEP
            obj.status = obj.status or CaseStatus.OPEN
            session.add(StepEvent(case=obj, kind=StepEventKind.REGISTER, from_step=None,
                                  to_step=obj.current_step, actor_id=session.info.get("actor_id"),
                                  at=obj.created_at or utcnow()))
    for obj in list(session.dirty):
        if isinstance(obj, Case) and _changed(obj, "received_date", "agreement_type", "days_on_hold"):
            obj.due_date = due_date_for(session, obj)


def _changed(obj, *attributes: str) -> bool:
    state = sa_inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(StepEvent, "before_update")
@event.listens_for(StepEvent, "before_delete")
def _history_is_append_only(mapper, connection, target) -> None:
    raise ValueError("step history is append-only")
