"""Parties: the city's agencies (OPD) and their counterparties."""
import enum

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Timestamped, Versioned, db
from models.user import _in_values


class PartyKind(str, enum.Enum):
    OPD = "opd"
    REGION = "region"
    CENTRAL = "central"
    COMPANY = "company"
    UNIVERSITY = "university"
    COMMUNITY = "community"
    FOREIGN = "foreign"

    def __str__(self) -> str:
        return self.value


class Party(Timestamped, Versioned, db.Model):
    __tablename__ = "party"
    __table_args__ = (
        CheckConstraint(_in_values("kind", PartyKind), name="kind"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        UniqueConstraint("kind", "name", name="uq_party_kind_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    contact_person: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(120))

    def __str__(self) -> str:
        return self.name
