"""Audit trail: one row per created, changed or deleted record, with field-level changes."""
import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import as_utc, db, utcnow
from models.user import User

# Never copied into the trail: secrets, and bookkeeping that changes on every write.
HIDDEN_FIELDS = {"password_hash"}
SKIPPED_FIELDS = {"version", "updated_at", "created_at", "session_generation", "last_login_at"}


class AuditLog(db.Model):
    """Append-only; written by the session hook below, never by a form."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_table_record", "table_name", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(8), index=True)  # create / update / delete
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(64))
    record_label: Mapped[str | None] = mapped_column(String(250))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.action} {self.table_name}#{self.record_id}"


# Rows that are themselves history or bookkeeping are not audited again.
UNAUDITED_TABLES = {"audit_log", "login_attempt", "counter"}


def _plain(value):
    if isinstance(value, datetime):  # SQLite gives back naive UTC: the same moment, not a change
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _column_changes(obj, action: str) -> dict:
    state = inspect(obj)
    changes = {}
    for column_attr in state.mapper.column_attrs:
        name = column_attr.key
        if name in SKIPPED_FIELDS:
            continue
        history = state.attrs[name].history
        if action == "create":
            old, new = None, getattr(obj, name)
        elif action == "delete":
            old, new = getattr(obj, name), None
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
        else:
            continue
        if old is None and new is None:
            continue
        if name in HIDDEN_FIELDS:
            old, new = ("***" if old else None), "***"
        if _plain(old) != _plain(new):
            changes[name] = [_plain(old), _plain(new)]
    return changes


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session: Session, flush_context) -> None:
    """Record what this flush did; the acting user comes from `session.info['actor_id']`."""
    rows = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            table = getattr(obj, "__tablename__", None)
            if table is None or table in UNAUDITED_TABLES:
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _column_changes(obj, action)
            if action == "update" and not changes:
                continue
            identity = inspect(obj).identity or (getattr(obj, "id", None),)
            rows.append({
                "at": utcnow(), "actor_id": session.info.get("actor_id"), "action": action,
                "table_name": table, "record_id": ":".join(str(part) for part in identity),
                "record_label": str(obj)[:250], "changes": changes,
            })
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)
