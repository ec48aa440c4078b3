"""The case screen: the list, the case page and its moves."""
import logging

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.validators import ValidationError

from admin_app import permissions
from admin_app.admin.base import (
    SafeAjaxLoader,
    SecuredModelView,
    parse_id,
    refuse_field,
    whole_number,
)
from admin_app.admin.case_workflow import (
    DueWithinFilter,
    OverdueFilter,
    due_badge,
    report_moved,
    run_move,
)
from admin_app.admin.case_papers import CasePapers
from admin_app.admin.reassign import ReassignCases
from admin_app.labels import (
    choices,
    explain,
    label,
    requirement_label,
    step_choices,
    step_title,
)
from models import (
    Agreement,
    AgreementType,
    Case,
    CaseStatus,
    Document,
    Meeting,
    Party,
    Role,
    StepEvent,
    StepEventKind,
    User,
    db,
    workflow,
)
from models.agreement import agreement_for_case
from models.case import case_problems
from models.procedure import (
    CancelReason,
    Evidence,
    HoldReason,
    Requirement,
)
from models.sla import local_today
from models.workflow import WorkflowError

log = logging.getLogger(__name__)


def _changed(model, attribute: str) -> bool:
    """Whether the form changed `attribute` of the record (a relationship or a column)."""
    return sa_inspect(model).attrs[attribute].history.has_changes()


def party_loader(name: str, **filters) -> SafeAjaxLoader:
    return SafeAjaxLoader(name, db, Party, fields=["name"], order_by=Party.name, page_size=20, **filters)


class CaseWorkerLoader(SafeAjaxLoader):
    """Only people who work cases can be assigned one or receive a disposition (the server checks
    the same set again: models.workflow.is_case_worker)."""

    def get_query(self):
        return super().get_query().filter(User.active.is_(True), User.role.in_(permissions.CASE_WORKERS))


def user_loader(name: str) -> SafeAjaxLoader:
    return CaseWorkerLoader(name, db, User, fields=["full_name", "username"], order_by=User.full_name, page_size=20)


def case_loader(name: str, **filters) -> SafeAjaxLoader:
    return SafeAjaxLoader(name, db, Case, fields=["registration_number", "title"],
                                order_by=Case.registration_number.desc(), page_size=20, **filters)


CASE_LABELS = {
    "registration_number": _l("Registration no."), "agreement_type": _l("Type"), "title": _l("Title"),
    "subject": _l("Subject (counterparty)"), "subject.name": _l("Subject (counterparty)"),
    "object": _l("Object of cooperation"), "opd": _l("Proposing OPD"), "opd.name": _l("Proposing OPD"),
    "proposal_number": _l("Proposal letter no."), "proposal_date": _l("Proposal letter date"),
    "received_date": _l("Received"), "due_date": _l("Due"), "current_step": _l("Step"),
    "status": _l("Status"), "assigned_to": _l("Assigned to"), "assigned_to.full_name": _l("Assigned to"),
    "previous_case": _l("Follows KSB"), "renews_agreement": _l("Renews agreement"), "closed_at": _l("Closed"), "days_on_hold": _l("Days on hold"),
    "created_at": _l("Created"), "updated_at": _l("Updated"), "case": _l("Case"),
    "hold_reason": _l("Waiting for"), "cancel_reason": _l("Cancelled because"),
    "case.registration_number": _l("Case"), "step": _l("Step"), "note": _l("Note"),
}


class CaseView(CasePapers, ReassignCases, SecuredModelView):
    screen = "case"
    action_verbs = {"advance": permissions.EDIT, "reassign": permissions.ASSIGN}
    details_template = "admin/case_details.html"
    list_template = "admin/case_list.html"
    edit_template = "admin/case_edit.html"
    # The list is dense (type code, step number with a short title); the case page says it all.
    column_formatters = {
        "due_date": due_badge,
        "registration_number": lambda view, context, case, name: Markup('<a href="{}">{}</a>').format(
            view.get_url(".details_view", id=case.id), case.registration_number),
        "agreement_type": lambda view, context, case, name: Markup('<abbr title="{}">{}</abbr>').format(
            label(AgreementType, case.agreement_type), case.agreement_type),
        "current_step": lambda view, context, case, name: Markup('<span title="{}">{}</span>').format(
            step_title(case.current_step), step_title(case.current_step)[:34] + "…"
            if len(step_title(case.current_step)) > 35 else step_title(case.current_step)),
    }
    column_formatters_detail = {"due_date": due_badge}
    column_list = ("registration_number", "agreement_type", "title", "subject", "opd", "current_step",
                   "status", "received_date", "due_date", "assigned_to")
    column_details_list = ("registration_number", "agreement_type", "title", "subject", "object", "opd",
                           "proposal_number", "proposal_date", "received_date", "due_date", "days_on_hold",
                           "current_step", "status", "hold_reason", "cancel_reason", "assigned_to",
                           "previous_case", "closed_at",
                           "created_at", "updated_at")
    column_export_list = tuple(c for c in column_details_list if c != "previous_case")
    column_labels = CASE_LABELS
    column_searchable_list = ("registration_number", "title", "object", "proposal_number")
    column_filters = (OverdueFilter(), DueWithinFilter(), "agreement_type", "status", "hold_reason",
                      "cancel_reason", "current_step",
                      "opd.name", "subject.name", "assigned_to.full_name", "received_date", "due_date")
    column_sortable_list = ("registration_number", "agreement_type", "title", ("subject", "subject.name"),
                            ("opd", "opd.name"), "current_step", "status", "received_date", "due_date",
                            ("assigned_to", "assigned_to.full_name"))
    column_default_sort = ("received_date", True)
    column_choices = {"agreement_type": choices(AgreementType), "status": choices(CaseStatus),
                      "current_step": step_choices(), "hold_reason": choices(HoldReason),
                      "cancel_reason": choices(CancelReason)}
    # Step, status, numbers and due date follow the procedure and the rules: never on a form.
    form_columns = ("agreement_type", "title", "subject", "object", "opd", "proposal_number",
                    "proposal_date", "received_date", "assigned_to", "previous_case", "renews_agreement")
    form_choices = {"agreement_type": choices(AgreementType)}
    form_args = {"received_date": {"default": local_today}}  # most requests are registered the day they arrive
    form_ajax_refs = {
        "subject": party_loader("subject"),
        "opd": party_loader("opd", filters=["kind = 'opd'"]),
        "assigned_to": user_loader("assigned_to"),
        "previous_case": case_loader("previous_case", filters=["agreement_type = 'KSB'"]),
        "renews_agreement": SafeAjaxLoader("renews_agreement", db, Agreement, fields=["number", "parties"],
                                                 order_by=Agreement.valid_until, page_size=20),
    }

    def create_form(self, obj=None):
        """`?renews=<agreement>` (the register's Renew button) starts the extension case from the old one."""
        form = super().create_form(obj)
        renewed = parse_id(Agreement, request.args.get("renews"))
        if request.method == "GET" and renewed is not None:
            agreement = db.session.get(Agreement, renewed)
            if agreement is not None:
                old = agreement.case
                form.renews_agreement.data = agreement
                form.agreement_type.data, form.subject.data, form.opd.data = old.agreement_type, old.subject, old.opd
                form.title.data = gettext("Extension: %(title)s", title=old.title)
                form.object.data = old.object
        return form

    def _get_list_extra_args(self):
        """The overdue list is read by how late: the earliest due date first, unless the user sorts."""
        view_args = super()._get_list_extra_args()
        if view_args.sort is None and any(isinstance(self._filters[index], OverdueFilter)
                                          for index, _, _ in view_args.filters or ()):
            view_args.sort = [name for name, _ in self._list_columns].index("due_date")
            view_args.sort_desc = 0
        return view_args

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not is_created:
            _require_open(model)
        if _changed(model, "assigned_to") and model.assigned_to is not None \
                and not workflow.is_case_worker(model.assigned_to):
            refuse_field(form, "assigned_to", gettext("A case can only be assigned to an active staff member, "
                                                      "Kasubbag or Kabag."))
        problems = case_problems(model)
        if problems:
            raise ValidationError(" ".join(gettext(problem) for problem in problems))

    # -- the procedure ------------------------------------------------------------------------------
    def typed_ids(self, ids: list[str]) -> list:
        """Rows of the case list carry `id:step:version`: the step and version the list showed are
        kept (in g.seen_rows) for the moves, so a stale list cannot move a case a second time."""
        g.seen_rows = {}
        plain = []
        for value in ids:
            parts = value.split(":")
            numbers = [whole_number(part) for part in parts]
            if len(parts) == 3 and None not in numbers:
                g.seen_rows[numbers[0]] = (numbers[1], numbers[2])
            plain.append(parts[0])
        return super().typed_ids(plain)

    @action("advance", _l("Complete step / advance"), _l("Complete the current step of the selected cases?"))
    def action_advance(self, ids):
        cases = self.get_query().filter(Case.id.in_(ids)).order_by(Case.id).all()
        seen_rows = g.get("seen_rows", {})
        moved = 0
        for case in cases:
            if case.id not in seen_rows:
                flash(gettext("%(case)s: the list did not say which step it showed; reload it and try again.",
                              case=case.registration_number), "error")
                continue
            moved += run_move(case, workflow.advance, current_user, seen=seen_rows[case.id])
        report_moved(moved, gettext("advanced"))

    @expose("/move/", methods=("POST",))
    def move_view(self):
        """The buttons of the case page: the moves of models/procedure.py MOVES, made from the step
        and version the page showed."""
        case = self.get_one(request.form.get("id"))
        if case is None:
            abort(404)
        try:
            kind = StepEventKind(request.form.get("move", ""))
        except ValueError:
            abort(400)
        seen = _seen_state(request.form.get("step", ""), request.form.get("version", ""))
        if seen is None:
            flash(gettext("This page did not say which step it showed; reload it and try again. "
                          "Nothing was changed."), "error")
            return redirect(self.get_url(".details_view", id=case.id))
        to_step = whole_number(request.form.get("to_step"), digits=2)
        if kind is StepEventKind.RETURN and to_step is None:
            flash(gettext("Choose the step to send the case back to."), "error")
            return redirect(self.get_url(".details_view", id=case.id))
        done = run_move(case, workflow.make_move, current_user, kind=kind, seen=seen, today=local_today(),
                        note=request.form.get("note", ""), category=request.form.get("category") or None,
                        to_step=to_step)
        if done:
            flash(gettext("Saved: %(case)s is now at step %(step)s (%(status)s).", case=case.registration_number,
                          step=case.current_step, status=label(CaseStatus, case.status)), "success")
        return redirect(self.get_url(".details_view", id=case.id))

    def workflow_state(self, case: Case) -> dict:
        """What the case page shows about the procedure."""
        current = workflow.step(case.current_step)
        states, since = workflow.requirement_states(db.session, case) if case.is_open else ([], None)
        return {
            "step": current, "title": step_title(current.number), "performer": label(Role, current.role),
            "requirements": [(requirement_label(r), met, _requirement_link(r, case)) for r, met in states],
            "rework_since": since,
            "documents": db.session.execute(select(Document).where(Document.case_id == case.id)
                                            .order_by(Document.kind, Document.revision)).scalars().all(),
            "moves": set(workflow.available_moves(case, current_user)) if self.can_edit else set(),
            "earlier_steps": [(n, step_title(n)) for n in range(workflow.FIRST_STEP, case.current_step)],
            "hold_reasons": choices(HoldReason), "cancel_reasons": choices(CancelReason),
            "hold_reason": label(HoldReason, case.hold_reason), "cancel_reason": label(CancelReason, case.cancel_reason),
            "events": [(event, label(StepEventKind, event.kind), _reason_label(event)) for event in db.session.execute(
                select(StepEvent).where(StepEvent.case_id == case.id)
                .options(joinedload(StepEvent.actor)).order_by(StepEvent.id)).scalars()],
            "can_write": self.can_edit,
            "agreement": agreement_for_case(db.session, case.id),
            "may_register": case.status == CaseStatus.DONE
            and permissions.can(current_user, permissions.CREATE, "agreement"),
        }


def _seen_state(step_text: str, version_text: str) -> tuple[int, int] | None:
    """The (step, version) a page showed, from its hidden fields; None when absent or malformed."""
    step, version = whole_number(step_text, digits=2), whole_number(version_text, digits=9)
    return None if step is None or version is None else (step, version)


def _reason_label(event: StepEvent) -> str:
    if event.kind == StepEventKind.HOLD:
        return label(HoldReason, event.reason)
    if event.kind == StepEventKind.CANCEL:
        return label(CancelReason, event.reason)
    return ""


def _requirement_link(requirement: Requirement, case: Case) -> str | None:
    """Where to make the evidence a step needs, with the case (and the document kind) filled in."""
    back = url_for("case.details_view", id=case.id)
    if requirement.evidence is Evidence.DOCUMENT:
        return url_for("document.create_view", case=case.id, kind=requirement.document_kind, url=back)
    if requirement.evidence is Evidence.DISPOSITION:
        return url_for("disposition.create_view", case=case.id, url=back)
    meeting = db.session.execute(select(Meeting.id).where(Meeting.case_id == case.id)
                                 .order_by(Meeting.id.desc())).scalar()
    if meeting is not None and requirement.evidence is Evidence.MEETING_HELD:
        return url_for("meeting.edit_view", id=meeting, url=back)
    return url_for("meeting.create_view", case=case.id, url=back)


def _require_open(case: Case | None) -> None:
    try:
        workflow.require_open_case(case)
    except WorkflowError as error:
        raise ValidationError(explain(error))
