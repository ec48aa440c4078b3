"""Gap-free yearly counters for registration and letter numbers."""
from sqlalchemy import Integer, String, insert, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import db


class Counter(db.Model):
    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def next_number(session: Session, name: str) -> int:
    """Take the next value of counter `name` inside the caller's transaction.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite), so two
    registrations can never draw the same number; a rollback gives the number back.
    """
    bumped = session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar()
    if bumped is not None:
        return bumped
    session.execute(insert(Counter).values(name=name, value=1))
    return 1

