"""Bringing the due dates of open cases in line with the current SLA settings.

A case's due date is fixed when it is registered (and whenever its received date, type or
days on hold change: see models/case.py). Changing the limits or the day counting later
reaches the open cases only through this explicit recomputation, which an administrator
reviews first. Closed cases keep the due date they were measured against.
"""
import hashlib
from datetime import date
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import N_, Refusal
from models.case import Case
from models.procedure import OPEN_STATUSES
from models.setting import load_settings
from models.sla import due_date_under

# The settings that decide due dates; changing one reaches open cases only through the recomputation.
DUE_DATE_SETTINGS = ("sla_days_ksb", "sla_days_pks", "sla_working_days")


class DueDateChange(NamedTuple):
    case: Case
    old: date
    new: date


def due_date_changes(session: Session, lock: bool = False) -> list[DueDateChange]:
    """The open cases (open or on hold) whose due date differs from what the settings give now,
    oldest received first. `lock` takes row locks on PostgreSQL, for the write that follows."""
    settings = load_settings(session)
    query = (select(Case).where(Case.status.in_(OPEN_STATUSES))
             .order_by(Case.received_date, Case.id))
    if lock:
        query = query.with_for_update()
    changes = []
    for case in session.execute(query).scalars():
        new = due_date_under(settings, case)
        if new != case.due_date:
            changes.append(DueDateChange(case, case.due_date, new))
    return changes


def changes_digest(changes: list[DueDateChange]) -> str:
    """A short fingerprint of `changes`: the page that shows them posts it back with the confirmation."""
    text = ";".join(f"{change.case.id}:{change.old}:{change.new}" for change in changes)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def recompute_due_dates(session: Session, reviewed: str) -> list[DueDateChange]:
    """Give every open case the due date of the current settings; returns what changed.

    `reviewed` is the digest of the changes the administrator was shown: when the settings or
    the cases moved on since, nothing is changed and Refusal says so. The cases are changed
    through the ORM, so the audit log records each one; the caller commits.
    """
    changes = due_date_changes(session, lock=True)
    if changes_digest(changes) != reviewed:
        raise Refusal(N_("The settings or the open cases changed after the list was shown: nothing was "
                         "changed. Check the new list and confirm again."))
    for change in changes:
        change.case.due_date = change.new
    return changes
