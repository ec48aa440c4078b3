"""The case list's "Reassign" action: supervisors give selected cases to another case worker.

The action shows the chosen cases and a choice of active case workers; the form posts to
`reassign_view`. The officers' load of My work opens the same page by GET with `?from=<user id>`:
that officer's open cases, each ticked, to untick the ones that stay. Who may reassign is the ASSIGN letter of the permission table; the rules
(an active case worker, open cases only) live in models/handover.py.
"""
from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin_app.admin.base import attempt, whole_number
from admin_app.labels import explain, label
from models import Case, CaseStatus, Role, User, db, handover
from models.procedure import OPEN_STATUSES


class ReassignCases:
    """Mixin for the case view (a SecuredModelView): the action and the endpoint it posts to."""

    reassign_template = "admin/case_reassign.html"

    def _reassign_page(self, cases: list[Case], return_url: str, source: User | None = None):
        return self.render(
            self.reassign_template,
            rows=[(case, label(CaseStatus, case.status), case.is_open) for case in cases],
            workers=[(user, label(Role, user.role)) for user in handover.successor_candidates(db.session, source)],
            return_url=return_url, source=source)

    @action("reassign", _l("Reassign"))
    def action_reassign(self, ids):
        cases = self.get_query().filter(Case.id.in_(ids)).order_by(Case.registration_number).all()
        if not cases:
            flash(gettext("Select the cases to reassign."), "error")
            return None
        return self._reassign_page(cases, get_redirect_target() or self.get_url(".index_view"))

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign_view(self):
        """POST: give the posted cases (re-read through the list's own query) to the chosen case worker.
        GET `?from=<user id>`: the page, with that officer's open cases ticked."""
        if request.method == "GET":
            source_id = whole_number(request.args.get("from"))
            source = db.session.get(User, source_id) if source_id is not None else None
            if source is None:
                abort(404)
            cases = self.get_query().filter(Case.assigned_to_id == source.id, Case.status.in_(OPEN_STATUSES)) \
                .order_by(Case.due_date, Case.registration_number).all()
            return self._reassign_page(cases, get_redirect_target() or url_for("admin.index"), source)
        back = get_redirect_target() or self.get_url(".index_view")
        ids = self.typed_ids(request.form.getlist("id"))
        cases = self.get_query().filter(Case.id.in_(ids)).order_by(Case.registration_number).all() if ids else []
        chosen = request.form.get("assignee", "")
        chosen_id = whole_number(chosen)
        assignee = db.session.get(User, chosen_id) if chosen_id is not None else None
        if not cases:
            flash(gettext("Select the cases to reassign."), "error")
            return redirect(back)
        result = attempt(lambda: handover.reassign_cases(cases, assignee, current_user), "reassignment")
        if result is None:
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
