"""Gap-free yearly counters for registration and letter numbers."""
from sqlalchemy import Integer, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import db


class Counter(db.Model):
    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def next_number(session: Session, name: str) -> int:
    """Take the next value of counter `name` inside the caller's transaction.

    One upsert: the first number of a year is inserted, later ones counted up. It takes a row
    lock (PostgreSQL) or the write lock (SQLite), so two requests can never draw the same number,
    and two drawing the year's first one do not collide on the insert; a rollback gives it back.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(Counter).values(name=name, value=1)
    return session.execute(
        upsert.on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    ).scalar_one()


def peek_number(session: Session, name: str) -> int:
    """The value `next_number` would give now, without taking it (a preview: someone may take it first)."""
    current = session.execute(select(Counter.value).where(Counter.name == name)).scalar()
    return (current or 0) + 1
