"""The case screen's workflow parts: the advance action, the move form, deadline filters.

Views only translate and report; what may move and how lives in models/workflow.py.
"""

from flask import flash
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from admin_app.settings import current_settings
from admin_app.admin.base import DATABASE_MESSAGE, STALE_MESSAGE, whole_number
from admin_app.i18n import show_date
from admin_app.labels import explain, step_title
from models import Case, StepEvent, StepEventKind, db
from models.case import CaseStatus, due_within_clause, overdue_clause
from models.procedure import STEPS
from models.sla import local_today
from models.workflow import WorkflowError, check_seen


def _flash_error(message: str) -> None:
    flash(message, "error")


def run_move(case: Case, move, actor, *, refused=_flash_error, **arguments) -> bool:
    """Apply one workflow move in its own transaction; report success or the reason, per case.

    `refused(message)` says why a move was not made (default: a flash at the top of the page;
    the case page shows it next to the form instead)."""
    try:
        move(db.session, case, actor, **arguments)
        db.session.commit()
        return True
    except WorkflowError as error:
        db.session.rollback()
        refused(explain(error))
    except StaleDataError:
        # Another request moved the case between our read and our write: say who, as a second
        # click after the first had landed would be told.
        db.session.rollback()
        try:
            db.session.refresh(case)
            check_seen(db.session, case, arguments.get("seen") or (-1, -1))
            refused(gettext("%(case)s: ", case=case.registration_number) + str(STALE_MESSAGE))
        except WorkflowError as error:
            refused(explain(error))
    except SQLAlchemyError:
        db.session.rollback()
        refused(str(DATABASE_MESSAGE))
    return False


def report_moved(count: int, verb: str) -> None:
    if count:
        flash(ngettext("%(num)d case: %(verb)s.", "%(num)d cases: %(verb)s.", count, verb=verb), "success")


class OverdueFilter(BaseSQLAFilter):
    """Open (or on hold) and past the due date."""

    def __init__(self):
        super().__init__(Case.due_date, _l("Overdue"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        return query.filter(overdue_clause(local_today()))

    def operation(self):
        return _l("is")


class DueWithinFilter(BaseSQLAFilter):
    """Open and due from today to N days ahead (N typed by the user; the settings give the default link)."""

    def __init__(self):
        super().__init__(Case.due_date, _l("Due within (days)"))

    def validate(self, value):
        days = whole_number(value, digits=3)
        return days is not None and days <= 366

    def clean(self, value):
        return int(value)

    def apply(self, query, value, alias=None):
        return query.filter(due_within_clause(local_today(), value))

    def operation(self):
        return _l("days")


def due_badge(view, context, case, name) -> Markup:
    """The due date with what it means today: days left, or days overdue in red."""
    shown = show_date(case.due_date)
    left = case.days_left(local_today())
    if left is None:
        return Markup("{}").format(shown)
    if left < 0:
        note, css = gettext("%(days)d days overdue", days=-left), "badge badge-danger overdue-mark"
    elif left <= current_settings().due_soon_days:
        note, css = gettext("%(days)d days left", days=left), "badge badge-warning"
    else:
        note, css = gettext("%(days)d days left", days=left), "badge badge-light"
    return Markup('{} <span class="{}">{}</span>').format(shown, css, note)


# -- what the case page shows of the procedure ------------------------------------------------------
def progress(case: Case) -> list[dict]:
    """The 17 steps as done, current or future for the page's progress bar (a completed case has
    every step done; a cancelled one keeps the step where it stopped as its current one)."""
    done_all = case.status == CaseStatus.DONE
    return [{"number": s.number, "title": step_title(s.number),
             "state": "done" if done_all or s.number < case.current_step
             else "current" if s.number == case.current_step else "future"}
            for s in STEPS]


def held_since(case: Case):
    """When the case was put on hold (its latest hold in the history); None when it is not on hold."""
    if case.status != CaseStatus.ON_HOLD:
        return None
    return db.session.execute(
        select(StepEvent.at).where(StepEvent.case_id == case.id, StepEvent.kind == StepEventKind.HOLD)
        .order_by(StepEvent.id.desc()).limit(1)).scalar()
