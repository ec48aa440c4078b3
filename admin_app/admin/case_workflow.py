"""The case screen's workflow parts: the advance action, the move form, deadline filters.

Views only translate and report; what may move and how lives in models/workflow.py.
"""
from datetime import timedelta

from flask import flash
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from admin_app.admin.base import DATABASE_MESSAGE, STALE_MESSAGE, current_settings, whole_number
from admin_app.i18n import show_date
from admin_app.labels import explain
from models import Case, db
from models.case import CaseStatus, overdue_clause
from models.sla import local_today
from models.workflow import WorkflowError, check_seen


def run_move(case: Case, move, actor, **arguments) -> bool:
    """Apply one workflow move in its own transaction; report success or the reason, per case."""
    try:
        move(db.session, case, actor, **arguments)
        db.session.commit()
        return True
    except WorkflowError as error:
        db.session.rollback()
        flash(explain(error), "error")
    except StaleDataError:
        # Another request moved the case between our read and our write: say who, as a second
        # click after the first had landed would be told.
        db.session.rollback()
        try:
            db.session.refresh(case)
            check_seen(db.session, case, arguments.get("seen") or (-1, -1))
            flash(gettext("%(case)s: ", case=case.registration_number) + str(STALE_MESSAGE), "error")
        except WorkflowError as error:
            flash(explain(error), "error")
    except SQLAlchemyError:
        db.session.rollback()
        flash(str(DATABASE_MESSAGE), "error")
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
        today = local_today()
        return query.filter(Case.status == CaseStatus.OPEN, Case.due_date >= today,
                            Case.due_date <= today + timedelta(days=value))

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
