"""Login throttling: failed attempts per account and source address, counted in one statement.

An attempt is counted *before* its password is checked, by one upsert that returns the new
count (PITFALLS.md: a count read before the attempt is recorded lets a burst exceed the
limit). Only an attempt whose number is within the limit gets its password checked; a good
password clears the row; deleting the row (the "Login locks" screen) lifts the lock. Keyed by
account and address, so a stranger elsewhere cannot lock the administrator out.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, case, delete, literal, null
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import as_utc, db, utcnow


class LoginThrottle(db.Model):
    """Failed logins at one account from one address within the current window."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "remote_addr"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed, lower-cased: unknown names count too
    remote_addr: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer)
    # The failures are forgotten at this time; the window starts at the first one.
    window_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set once the failures reach the limit: attempts are refused unchecked until then.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return f"{self.username} @ {self.remote_addr}"


@dataclass(frozen=True)
class Reservation:
    """One counted attempt: its number within the window and, if refused, until when."""

    number: int
    limit: int
    locked_until: datetime | None

    @property
    def allowed(self) -> bool:
        """Whether this attempt may have its password checked."""
        return self.number <= self.limit

    def minutes_left(self, now: datetime | None = None) -> int:
        """Whole minutes, rounded up, until the lock ends (at least 1)."""
        if self.locked_until is None:
            return 1
        seconds = (as_utc(self.locked_until) - (now or utcnow())).total_seconds()
        return max(1, math.ceil(seconds / 60))


def reserve_attempt(session: Session, username: str, remote_addr: str, limit: int, window: timedelta,
                    now: datetime | None = None) -> Reservation:
    """Count an attempt at `username` from `remote_addr` and return its number in the window.

    One INSERT … ON CONFLICT DO UPDATE … RETURNING (SQLite >= 3.35, PostgreSQL): the row lock
    (PostgreSQL) or the write lock (SQLite) orders simultaneous attempts, so each gets its own
    number and at most `limit` of them are allowed. A window that has ended starts again at 1.
    Commit right after, before checking the password, so the lock is not held during the hash.
    """
    now = now or utcnow()
    table = LoginThrottle.__table__
    new_end = literal(now + window, DateTime(timezone=True))
    first_lock = new_end if limit <= 1 else null()  # the lock a first failure sets (a limit of 1)
    expired = table.c.window_ends_at <= literal(now, DateTime(timezone=True))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(table).values(username=username, remote_addr=remote_addr, failures=1,
                                          window_ends_at=new_end, locked_until=first_lock, last_attempt_at=now)
    upsert = upsert.on_conflict_do_update(
        index_elements=[table.c.username, table.c.remote_addr],
        set_={  # the right-hand sides read the row as it was before this attempt
            "failures": case((expired, 1), else_=table.c.failures + 1),
            "window_ends_at": case((expired, new_end), else_=table.c.window_ends_at),
            "locked_until": case((expired, first_lock), (table.c.failures + 1 >= limit, table.c.window_ends_at),
                                 else_=null()),
            "last_attempt_at": now,
        },
    ).returning(table.c.failures, table.c.locked_until)
    number, locked_until = session.execute(upsert).one()
    return Reservation(number=number, limit=limit, locked_until=locked_until)


def clear_failures(session: Session, username: str, remote_addr: str) -> None:
    """A good password from this address: its failures are forgotten."""
    table = LoginThrottle.__table__
    session.execute(delete(table).where(table.c.username == username, table.c.remote_addr == remote_addr))
