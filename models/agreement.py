"""The agreement register: what a completed case produced, and how long it is valid."""
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import N_, Timestamped, Versioned, db
from models.case import Case
from models.counter import next_number
from models.procedure import CaseStatus

PKS_MAX_YEARS = 5


class Agreement(Timestamped, Versioned, db.Model):
    __tablename__ = "agreement"
    __table_args__ = (
        CheckConstraint("valid_until > valid_from", name="valid_period"),
        CheckConstraint("length(trim(number)) > 0", name="number_not_blank"),
        Index("ix_agreement_valid", "valid_from", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cooperation_case.id", ondelete="RESTRICT"), unique=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    parties: Mapped[str] = mapped_column(Text)
    # A PKS follows the KSB agreed with the same counterparty.
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("agreement.id", ondelete="SET NULL"), index=True)
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(foreign_keys=[case_id])
    follows: Mapped["Agreement | None"] = relationship(remote_side=[id], foreign_keys=[follows_id])

    def __str__(self) -> str:
        return self.number or ""

    @property
    def agreement_type(self) -> str | None:
        return self.case.agreement_type if self.case else None


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def agreement_problems(agreement: Agreement) -> list[str]:
    """Rules of the register beyond the columns' constraints (messages untranslated)."""
    problems = []
    case = agreement.case
    if case is not None and case.status != CaseStatus.DONE:
        problems.append(N_("Only a completed case (all 17 steps) can enter the agreement register."))
    if agreement.valid_from and agreement.valid_until:
        if agreement.valid_until <= agreement.valid_from:
            problems.append(N_("The validity must end after it starts."))
        elif (case is not None and case.agreement_type == "PKS"
              and agreement.valid_until > add_years(agreement.valid_from, PKS_MAX_YEARS)):
            problems.append(N_("A PKS is valid for at most 5 years."))
    if agreement.signed_on and agreement.valid_from and agreement.signed_on > agreement.valid_from:
        problems.append(N_("An agreement cannot be valid before it is signed."))
    if agreement.follows is not None and (agreement.follows.agreement_type != "KSB" or
                                          (case is not None and case.agreement_type != "PKS")):
        problems.append(N_("Only a PKS can follow a KSB."))
    return problems


def agreement_number(session: Session, agreement_type: str, signed_on: date) -> str:
    """The next register number, e.g. PKS/007/425.014/2026."""
    while True:  # a number typed in by hand may already hold the next value: skip past it
        sequence = next_number(session, f"agreement:{agreement_type}:{signed_on.year}")
        number = f"{agreement_type}/{sequence:03d}/425.014/{signed_on.year}"
        if session.execute(select(Agreement.id).where(Agreement.number == number)).first() is None:
            return number


def agreement_for_case(session: Session, case_id: int) -> Agreement | None:
    return session.execute(select(Agreement).where(Agreement.case_id == case_id)).scalar_one_or_none()
