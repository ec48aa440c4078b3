"""Declarative base, the shared `db` object and the columns every table carries."""
from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# Named constraints so Alembic can alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects keep their values after a commit: what a request reports after saving ("KS/2026/0042 is
# now at step 5") is what it wrote, and needs no second round trip that could fail after the save.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def N_(message: str) -> str:
    """Marks a message for translation where Flask is not imported; screens translate it on show."""
    return message


class Refusal(Exception):
    """A refused request: `reason` is an untranslated message, `params` fill its placeholders.
    The screens translate it (admin_app.labels.explain); nothing was changed."""

    def __init__(self, reason: str, **params):
        shown = {k: ", ".join(v) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
        super().__init__(reason % shown if params else reason)
        self.reason, self.params = reason, params


def utcnow() -> datetime:
    """Aware UTC now; stored as UTC, shown in the city's time zone."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime; a naive one (SQLite drops the offset) was stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Timestamped:
    """Creation and update times, set by the database session, never by forms."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Versioned:
    """Optimistic lock: every UPDATE checks and bumps `version` (SQLAlchemy version_id_col).

    The admin forms also carry the version they were loaded with, because Flask-Admin
    reloads the row on POST and the ORM check alone would compare against that reload.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}
