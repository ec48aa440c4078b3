"""A cooperation request (case) and its append-only step history."""
import enum
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    event,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement

from models.base import N_, Timestamped, Versioned, as_utc, db, utcnow
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
from models.sla import CITY_TIME_ZONE, due_date_for, is_working_day
from models.user import User, _in_values


class AgreementType(enum.StrEnum):
    KSB = "KSB"  # Kesepakatan Bersama: joint agreement, at most 3 weeks
    PKS = "PKS"  # Perjanjian Kerja Sama: cooperation agreement, at most 1 month




# The open cases (OPEN_STATUSES) as SQL text: the predicate of the partial index ix_case_open_due_date,
# and, as open_clause(), a term of the deadline clauses written the same way.
OPEN_STATUS_SQL = f"status IN ({', '.join(repr(status.value) for status in OPEN_STATUSES)})"


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
        # The search box's trigram index on PostgreSQL (migration 0006; admin_app/admin/search.py asks
        # the same expression), parenthesised as PostgreSQL reflects it so autogenerate sees the same
        # index. SQLite has an FTS5 table instead, made by the migration and kept by triggers.
        Index("ix_case_search_text", literal_column(
            "((((((registration_number || ' ') || title) || ' ') || object) || ' ') || proposal_number)").label("search_text"),
            postgresql_using="gin", postgresql_ops={"search_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        # The due-soon list: open cases by due date (the id orders equal dates, as the list does).
        Index("ix_case_status_due_date", "status", "due_date", "id"),
        # The overdue list: open and on-hold cases by due date, the most days late first. Partial,
        # as the two statuses are late by different rules (overdue_clause): a (status, due_date)
        # index gives them in two runs that only a sort of every late case could merge. It holds
        # what the rules read (status, held_since), so the list's count never reads the table.
        Index("ix_case_open_due_date", "due_date", "id", "status", "held_since",
              sqlite_where=text(OPEN_STATUS_SQL), postgresql_where=text(OPEN_STATUS_SQL)),
        # My work's badge (on every page) and the open cases per step: counted from the index alone.
        Index("ix_case_status_step_assignee", "status", "current_step", "assigned_to_id"),
        # A user's own open cases by step, with their ids (the badge's own cases, those sent back),
        # from the index alone.
        Index("ix_case_assignee", "assigned_to_id", "status", "current_step", "id"),
        # Each officer's open cases with what makes them due soon or overdue (the supervisors' load
        # on My work), from the index alone.
        Index("ix_case_open_assignee", "assigned_to_id", "due_date", "status", "held_since",
              sqlite_where=text(OPEN_STATUS_SQL), postgresql_where=text(OPEN_STATUS_SQL)),
        # Whether a case is open, for the rows that point to one (the undone dispositions of My work).
        Index("ix_case_id_status", "id", "status"),
        # An OPD's cases, newest received first (the list's OPD filter and its default order).
        Index("ix_case_opd_received", "opd_id", "received_date"),
        # The done cases by closing time, with the due date they are measured against (the
        # dashboard's completed this year and on-time share), read from the index alone.
        Index("ix_case_done_closed", "closed_at", "due_date",
              sqlite_where=text("status = 'done'"), postgresql_where=text("status = 'done'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(32), unique=True)
    # The three columns the tally counts by (CaseTally): their old values are kept for it on a change.
    agreement_type: Mapped[str] = mapped_column(String(3), index=True, active_history=True)
    title: Mapped[str] = mapped_column(String(250))
    subject_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"), index=True)
    object: Mapped[str] = mapped_column(Text)
    opd_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="RESTRICT"))  # ix_case_opd_received
    proposal_number: Mapped[str] = mapped_column(String(100))
    proposal_date: Mapped[date] = mapped_column(Date)
    received_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    current_step: Mapped[int] = mapped_column(Integer, default=FIRST_STEP, index=True, active_history=True)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN, index=True, active_history=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))  # ix_case_assignee
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


class likely(FunctionElement):
    """A condition true for most rows: SQLite's `likely(x)`, the plain condition elsewhere. Without
    statistics SQLite takes an equality on an indexed column for a rare one, and would look open cases
    up by status, then sort every late one by due date; told the status test is not selective, it
    reads them from ix_case_open_due_date in order instead. PostgreSQL plans from its statistics."""

    name = "likely"
    inherit_cache = True


@compiles(likely)
def _plain_condition(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(likely, "sqlite")
def _likely_condition(element, compiler, **kw):
    return f"likely({compiler.process(element.clauses, **kw)})"


def open_clause():
    """SQL for 'open or on hold', the statuses written into the statement (not bound): a query uses
    the partial index ix_case_open_due_date only when its WHERE has the index's predicate as a term
    (SQLite matches the terms as written; PostgreSQL must prove it before the values are bound)."""
    return likely(Case.status.in_([literal(status.value, literal_execute=True) for status in OPEN_STATUSES]))


def overdue_clause(today: date):
    """SQL for 'overdue': open past its due date, or put on hold when already past it (a hold
    begins today or earlier, so a late case on hold is also past its date today). Written as a
    range of ix_case_open_due_date (open_clause, due date before today) that the index serves in
    due date order, then the hold's own test."""
    return and_(open_clause(), Case.due_date < today, or_(
        Case.status == CaseStatus.OPEN, Case.due_date < func.coalesce(Case.held_since, today)))


class StepEvent(db.Model):
    """One move of a case: who, when, from, to, why. Rows are never changed or deleted."""

    __tablename__ = "step_event"
    __table_args__ = (
        CheckConstraint(_in_values("kind", StepEventKind), name="kind"),
        CheckConstraint(f"reason IS NULL OR reason IN "
                        f"({', '.join(repr(m.value) for m in (*HoldReason, *CancelReason))})", name="reason"),
        # A case's history in order, and its latest move's kind read from the index alone (My work's
        # "sent back to me", on every page's badge).
        Index("ix_step_event_latest", "case_id", "id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cooperation_case.id", ondelete="CASCADE"))  # ix_step_event_latest
    kind: Mapped[str] = mapped_column(String(16))
    from_step: Mapped[int | None] = mapped_column(Integer)
    to_step: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    note: Mapped[str | None] = mapped_column(Text)
    # The category of a hold or a cancellation (HoldReason, CancelReason).
    reason: Mapped[str | None] = mapped_column(String(32))
    # How long the case spent on `from_step` since the previous event of its history, written with the
    # event (_time_on_steps, which also adds it to StepTimeByDay) so nothing pairs events: calendar days
    # as a fraction (the two instants apart), and working days by the SLA calendar (the working days
    # after the day it came, up to the day it left, Probolinggo dates: same day 0, Friday to Monday 1).
    # A stretch on hold (the previous event is a hold) counts 0, as the SLA does not count it either;
    # a send back, a hold and a cancellation count the time on the step they leave like a move does.
    # None on the register event only.
    days_on_step: Mapped[float | None] = mapped_column(Float)
    working_days_on_step: Mapped[int | None] = mapped_column(Integer)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.kind} {self.from_step}→{self.to_step}"


class CaseTally(db.Model):
    """How many cases there are of each status, step and agreement type, kept by every write of a
    case in its own transaction (_tally_cases): the dashboard's open cases per step and per type
    read these at most 4 × 17 × 2 rows instead of counting the cases."""

    __tablename__ = "case_tally"

    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    current_step: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_type: Mapped[str] = mapped_column(String(3), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)


class StepTimeByDay(db.Model):
    """The time on each step added up per day the cases left it (Probolinggo dates), kept by every
    step event in its own transaction (_time_on_steps): the dashboard reads a year of it, at most
    365 × 17 rows, instead of every event of the year. `visits` counts the moves that end a stay
    on the step (advance, send back, complete, cancel); a hold and a resume add time only."""

    __tablename__ = "step_time_by_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    step: Mapped[int] = mapped_column(Integer, primary_key=True)
    days: Mapped[float] = mapped_column(Float)
    working_days: Mapped[int] = mapped_column(Integer)
    visits: Mapped[int] = mapped_column(Integer)


# The moves after which the case is no longer on the step it left.
ENDS_A_STAY = (StepEventKind.ADVANCE, StepEventKind.RETURN, StepEventKind.COMPLETE, StepEventKind.CANCEL)


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


def working_days_after(start: date, end: date) -> int:
    """Working days (SLA calendar) after `start`, up to and including `end`."""
    return sum(1 for offset in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=offset)))


def time_on_step(left_at: datetime, came_at: datetime, previous_kind: str) -> tuple[float, int]:
    """(calendar days, working days) of a stretch on a step from `came_at` (the previous event,
    of kind `previous_kind`) to `left_at`: (0, 0) for a stretch on hold."""
    if previous_kind == StepEventKind.HOLD:
        return 0.0, 0
    left_at, came_at = as_utc(left_at), as_utc(came_at)
    local = lambda instant: instant.astimezone(CITY_TIME_ZONE).date()
    return (left_at - came_at).total_seconds() / 86400, working_days_after(local(came_at), local(left_at))


# Registered after _prepare_cases, so it also sees the register events that one adds to new cases.
@event.listens_for(Session, "before_flush")
def _time_on_steps(session: Session, flush_context, instances) -> None:
    """Fill the time on the step each new step event leaves, from the case's previous event: the one
    before it in the same flush, else the newest stored one (a history is written in time order);
    and add it to the step's totals of the day (StepTimeByDay)."""
    new_events: dict[object, list[StepEvent]] = {}
    totals: dict[tuple[date, int], list] = {}  # (day left, step): [days, working days, visits]
    for obj in session.new:
        if isinstance(obj, StepEvent):
            obj.at = obj.at or utcnow()
            owner = obj.case  # a new case has no id yet: its events are keyed by the object
            key = obj.case_id if owner is None else owner.id if owner.id is not None else owner
            new_events.setdefault(key, []).append(obj)
    for key, events in new_events.items():
        events.sort(key=lambda ev: (as_utc(ev.at), sa_inspect(ev).insert_order))
        previous = None
        if isinstance(key, int):
            with session.no_autoflush:
                previous = session.execute(select(StepEvent.at, StepEvent.kind).where(StepEvent.case_id == key)
                                           .order_by(StepEvent.at.desc(), StepEvent.id.desc()).limit(1)).first()
        for ev in events:
            if previous is not None and ev.kind != StepEventKind.REGISTER and ev.days_on_step is None:
                ev.days_on_step, ev.working_days_on_step = time_on_step(ev.at, previous[0], previous[1])
            previous = (ev.at, ev.kind)
            if ev.days_on_step is not None and ev.from_step is not None:
                total = totals.setdefault((as_utc(ev.at).astimezone(CITY_TIME_ZONE).date(), ev.from_step), [0.0, 0, 0])
                total[0] += ev.days_on_step
                total[1] += ev.working_days_on_step or 0
                total[2] += ev.kind in ENDS_A_STAY
    for key, (days, working_days, visits) in totals.items():
        _add_to_totals(session, StepTimeByDay.__table__, key,
                       {"days": days, "working_days": working_days, "visits": visits})


def _add_to_totals(session: Session, table, key: tuple, amounts: dict) -> None:
    """Note `amounts` to add to the row `key` of a table of running totals at the end of the flush."""
    pending = session.info.setdefault("pending_totals", {}).setdefault(table.name, {})
    added = pending.setdefault(key, dict.fromkeys(amounts, 0))
    for name, amount in amounts.items():
        added[name] += amount


@event.listens_for(Session, "before_flush")
def _tally_cases(session: Session, flush_context, instances) -> None:
    """Count each new, changed or deleted case in and out of its (status, step, type) in CaseTally."""
    table, counted = CaseTally.__table__, ("status", "current_step", "agreement_type")
    for obj in session.new:
        if isinstance(obj, Case):
            _add_to_totals(session, table, tuple(getattr(obj, name) for name in counted), {"cases": 1})
    for obj in session.dirty:
        if isinstance(obj, Case) and _changed(obj, *counted):
            state = sa_inspect(obj)
            before = tuple((state.attrs[name].history.deleted or (getattr(obj, name),))[0] for name in counted)
            _add_to_totals(session, table, before, {"cases": -1})
            _add_to_totals(session, table, tuple(getattr(obj, name) for name in counted), {"cases": 1})
    for obj in session.deleted:
        if isinstance(obj, Case):
            state = sa_inspect(obj)
            before = tuple((state.attrs[name].history.deleted or (getattr(obj, name),))[0] for name in counted)
            _add_to_totals(session, table, before, {"cases": -1})


@event.listens_for(Session, "after_flush")
def _write_totals(session: Session, flush_context) -> None:
    """Add the flush's amounts to the running totals (StepTimeByDay, CaseTally): one upsert per row,
    so concurrent writes add and never overwrite. After the flush, when the case's version check has
    passed, and in table and key order, so two transactions never wait on each other's totals
    crosswise. Written as SQL, not as ORM objects: the totals are no one's record, so they get no
    audit row."""
    pending = session.info.pop("pending_totals", None)
    if not pending:
        return
    upsert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for name in sorted(pending):
        table = db.metadata.tables[name]
        keys = [column for column in table.primary_key.columns]
        for key, amounts in sorted(pending[name].items()):
            statement = upsert(table).values(**dict(zip((column.name for column in keys), key)), **amounts)
            session.connection().execute(statement.on_conflict_do_update(
                index_elements=keys,
                set_={column: table.c[column] + statement.excluded[column] for column in amounts}))


@event.listens_for(Session, "after_soft_rollback")
def _forget_totals(session: Session, previous_transaction) -> None:
    """A flush that failed or a rolled back transaction adds nothing to the totals."""
    session.info.pop("pending_totals", None)


@event.listens_for(StepEvent, "before_update")
@event.listens_for(StepEvent, "before_delete")
def _history_is_append_only(mapper, connection, target) -> None:
    raise ValueError("step history is append-only")
