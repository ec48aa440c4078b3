"""The case list's "Reassign" action: supervisors give selected cases to another case worker.

The action shows the chosen cases and a choice of active case workers; the form posts to
`reassign_view`. Who may reassign is the ASSIGN letter of the permission table; the rules
(an active case worker, open cases only) live in models/handover.py.
"""
from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from admin_app.admin.base import DATABASE_MESSAGE, STALE_MESSAGE, whole_number
from admin_app.labels import explain, label
from models import Case, CaseStatus, Role, User, db, handover


class ReassignCases:
    """Mixin for the case view (a SecuredModelView): the action and the endpoint it posts to."""

    reassign_template = "admin/case_reassign.html"

    @action("reassign", _l("Reassign"))
    def action_reassign(self, ids):
        cases = self.get_query().filter(Case.id.in_(ids)).order_by(Case.registration_number).all()
        if not cases:
            flash(gettext("Select the cases to reassign."), "error")
            return None
        return self.render(
            self.reassign_template,
            rows=[(case, label(CaseStatus, case.status), case.is_open) for case in cases],
            workers=[(user, label(Role, user.role)) for user in handover.successor_candidates(db.session)],
            return_url=get_redirect_target() or self.get_url(".index_view"))

    @expose("/reassign/", methods=("POST",))
    def reassign_view(self):
        """Give the posted cases (re-read through the list's own query) to the chosen case worker."""
        back = get_redirect_target() or self.get_url(".index_view")
        ids = self.typed_ids(request.form.getlist("id"))
        cases = self.get_query().filter(Case.id.in_(ids)).order_by(Case.registration_number).all() if ids else []
        chosen = request.form.get("assignee", "")
        chosen_id = whole_number(chosen)
        assignee = db.session.get(User, chosen_id) if chosen_id is not None else None
        if not cases:
            flash(gettext("Select the cases to reassign."), "error")
            return redirect(back)
        try:
            result = handover.reassign_cases(cases, assignee, current_user)
            db.session.commit()
        except handover.HandoverRefusal as refusal:
            db.session.rollback()
            flash(explain(refusal), "error")
            return redirect(back)
        except StaleDataError:
            db.session.rollback()
            flash(str(STALE_MESSAGE), "error")
            return redirect(back)
        except SQLAlchemyError:
            db.session.rollback()
            flash(str(DATABASE_MESSAGE), "error")
            return redirect(back)
        for refusal in result.refused:
            flash(explain(refusal), "error")
        if result.moved:
            flash(ngettext("%(num)d case reassigned to %(name)s.", "%(num)d cases reassigned to %(name)s.",
                           len(result.moved), name=str(assignee)), "success")
        if result.unchanged:
            flash(ngettext("%(num)d case was already assigned to %(name)s.",
                           "%(num)d cases were already assigned to %(name)s.",
                           len(result.unchanged), name=str(assignee)), "info")
        return redirect(back)
