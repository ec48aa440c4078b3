"""Accounts, roles and login attempts."""
import enum
import secrets
from datetime import datetime
from functools import lru_cache

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import Timestamped, Versioned, db, utcnow


class Role(str, enum.Enum):
    """The five roles of PRODUCT.md; what each may do lives in admin_app/permissions.py."""

    ADMIN = "admin"
    KABAG = "kabag"
    KASUBBAG = "kasubbag"
    STAFF = "staff"
    VIEWER = "viewer"

    def __str__(self) -> str:
        return self.value


def _in_values(column: str, enum_cls: type[enum.Enum]) -> str:
    """SQL CHECK text that keeps a string column within an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    return f"{column} IN ({values})"


class User(UserMixin, Timestamped, Versioned, db.Model):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in_values("role", Role), name="role"),
        CheckConstraint("language IN ('id', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    language: Mapped[str] = mapped_column(String(2), default="id")
    # Bumped by logout, password change and deactivation: every older session cookie dies.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every session cookie issued for this account so far."""
        self.session_generation = (self.session_generation or 0) + 1

    def has_role(self, *roles: "Role | str") -> bool:
        return self.role in {str(role) for role in roles}


def hash_password(password: str) -> str:
    """Every account's hash is made here, with Werkzeug's default method (scrypt in 3.1)."""
    return generate_password_hash(password)


@lru_cache(maxsize=1)
def unknown_account_hash() -> str:
    """A hash made like a real one, of a password nobody knows; once per process (the app
    factory makes it at start, so no login waits for it)."""
    return hash_password(secrets.token_urlsafe(32))


def password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is the account's; with no such account a dummy hash of the same cost
    is checked, so an unknown username is not refused faster than a wrong password."""
    if user is None:
        check_password_hash(unknown_account_hash(), password)
        return False
    return user.check_password(password)


class LoginAttempt(db.Model):
    """Every login whose password was checked, failed or successful, for audit
    (the throttle counts in models/login_throttle.py)."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
