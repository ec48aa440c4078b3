"""Screens of the case work: cases, dispositions, meetings, documents, step history."""
import io
import logging
from datetime import datetime, timezone

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload
from wtforms import FileField
from wtforms.validators import ValidationError

from admin_app import files, letters, permissions
from admin_app.admin.base import (
    DATABASE_MESSAGE,
    ReadOnlyModelView,
    SafeAjaxLoader,
    SecuredModelView,
    parse_id,
    refuse_field,
    whole_number,
)
from admin_app.admin.case_workflow import (
    DueWithinFilter,
    OverdueFilter,
    current_settings,
    due_badge,
    report_moved,
    run_move,
)
from admin_app.admin.reassign import ReassignCases
from admin_app.i18n import show_date
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
    Attendee,
    Case,
    CaseStatus,
    Disposition,
    Document,
    DocumentKind,
    Instruction,
    Meeting,
    MeetingStatus,
    Party,
    Role,
    StepEvent,
    StepEventKind,
    User,
    db,
    workflow,
)
from models.agreement import agreement_for_case
from models.base import Refusal, utcnow
from models.case import case_problems
from models.disposition import mark_done, write_disposition
from models.document import next_revision
from models.procedure import (
    DISPOSITION_ROLES,
    CancelReason,
    Evidence,
    HoldReason,
    Requirement,
)
from models.sla import is_working_day, local_today
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


class CaseView(ReassignCases, SecuredModelView):
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


class CaseRecordView(SecuredModelView):
    """Dispositions, meetings and documents: made, changed and removed only while their case is open."""

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        _require_open(model.case)
        for previous in sa_inspect(model).attrs.case.history.deleted:  # moved off a case: that one too
            _require_open(previous)

    def on_model_delete(self, model):
        super().on_model_delete(model)
        _require_open(model.case)


class DispositionView(CaseRecordView):
    screen = "disposition"
    prefill_fields = ("case",)
    # Marking done is the addressee's act; models/disposition.py checks who that is.
    action_verbs = {"mark_done": permissions.LIST, "delete": permissions.DELETE}
    column_formatters = {"case": lambda v, c, m, n: Markup('{} <a href="{}" target="_blank" class="small">{}</a>').format(
        m.case.registration_number, url_for(".sheet_view", id=m.id), gettext("sheet"))}
    column_list = ("case", "step", "author", "to_user", "to_role", "instruction", "due_date", "done_at")
    column_labels = {**CASE_LABELS, "author": _l("From"), "to_user": _l("To (person)"),
                     "to_role": _l("To (role)"), "instruction": _l("Instruction"), "due_date": _l("Due"),
                     "done_at": _l("Done")}
    column_searchable_list = ("note", "case.registration_number")
    column_filters = ("instruction", "to_role", "due_date", "done_at", "case.registration_number",
                      "to_user.full_name")
    column_choices = {"instruction": choices(Instruction), "to_role": choices(Role), "step": step_choices()}
    column_default_sort = ("created_at", True)
    # The step is the case's step when the disposition is written; the author is who writes it.
    form_columns = ("case", "to_user", "to_role", "instruction", "note", "due_date")
    form_choices = {"instruction": choices(Instruction),
                    "to_role": [("", "—")] + [c for c in choices(Role) if c[0] in DISPOSITION_ROLES]}
    form_ajax_refs = {"case": case_loader("case", filters=[f"status IN ('{CaseStatus.OPEN}', '{CaseStatus.ON_HOLD}')"]),
                      "to_user": user_loader("to_user")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.to_role = model.to_role or None
        if model.to_user is None and model.to_role is None:
            raise ValidationError(gettext("Choose the addressee: a person or a role."))
        if _changed(model, "to_user") and model.to_user is not None and not workflow.is_case_worker(model.to_user):
            refuse_field(form, "to_user", gettext("A disposition can only be addressed to an active staff member, "
                                                  "Kasubbag or Kabag."))
        if model.to_role is not None and model.to_role not in DISPOSITION_ROLES:
            refuse_field(form, "to_role", gettext("A disposition can only be addressed to the Kasubbag or the staff."))
        if is_created:
            write_disposition(model, current_user)

    def is_action_allowed(self, name: str) -> bool:
        # Marking done is for addressees: someone who never receives a disposition is not offered it.
        if name == "mark_done" and current_user.role not in permissions.CASE_WORKERS:
            return False
        return super().is_action_allowed(name)

    @action("mark_done", _l("Mark done"), _l("Mark the selected dispositions done?"))
    def action_mark_done(self, ids):
        done = 0
        for disposition in self.get_query().filter(Disposition.id.in_(ids)).all():
            try:
                mark_done(disposition, current_user, datetime.now(timezone.utc))
                db.session.commit()
                done += 1
            except WorkflowError as error:
                db.session.rollback()
                flash(explain(error), "error")
        if done:
            flash(ngettext("%(num)d disposition marked done.", "%(num)d dispositions marked done.", done), "success")

    @expose("/sheet/")
    def sheet_view(self):
        """The lembar disposisi, laid out for A4 and the browser's print."""
        disposition = self.get_one(request.args.get("id", ""))
        if disposition is None:
            abort(404)
        return self.render("admin/disposition_sheet.html", disposition=disposition,
                           instructions=choices(Instruction))

    @expose("/sheet.docx")
    def sheet_docx_view(self):
        """The same sheet as a DOCX file, for a word processor."""
        disposition = self.get_one(request.args.get("id", ""))
        if disposition is None:
            abort(404)
        data = letters.disposition_sheet_docx(disposition, local_today())
        name = f"lembar-disposisi-{disposition.case.registration_number.replace('/', '-')}.docx"
        return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype=files.DOCX)


class AttendeeInline(InlineFormAdmin):
    form_columns = ("id", "name", "position", "organisation", "present")
    form_label = _l("Attendee")
    column_labels = {"name": _l("Name"), "position": _l("Position"), "organisation": _l("Organisation"),
                     "present": _l("Present")}


def _letter_buttons(view, context, meeting, name):
    """Links to the confirmation page of the meeting's invitation and Nota Dinas: nothing is numbered there."""
    if not view.can_create:
        return ""
    kinds = ((DocumentKind.INVITATION, gettext("Invitation")), (DocumentKind.MEMO, gettext("Nota Dinas")))
    return Markup("").join(
        Markup('<a class="btn btn-sm btn-outline-secondary mr-1" href="{}">{} (DOCX)</a>').format(
            url_for(".letter_view", id=meeting.id, kind=kind), caption) for kind, caption in kinds)


def _warn_if_not_working_day(meeting: Meeting) -> None:
    """A meeting on a weekend or an Indonesian holiday (the SLA's calendar) is allowed, with a warning."""
    day = letters.local_time(meeting.scheduled_at).date()
    if not is_working_day(day):
        flash(gettext("The meeting is on %(date)s, a weekend or an Indonesian public holiday. Check the date.",
                      date=show_date(day)), "warning")


class MeetingView(CaseRecordView):
    screen = "meeting"
    prefill_fields = ("case",)
    column_list = ("case", "scheduled_at", "place", "status", "letters")
    column_formatters = {"letters": _letter_buttons}
    column_labels = {**CASE_LABELS, "scheduled_at": _l("Scheduled"), "place": _l("Place"),
                     "agenda": _l("Agenda"), "minutes": _l("Minutes"), "attendees": _l("Attendees"),
                     "letters": _l("Letters")}
    column_searchable_list = ("place", "agenda", "case.registration_number")
    column_filters = ("status", "scheduled_at", "case.registration_number")
    column_choices = {"status": choices(MeetingStatus)}
    column_default_sort = ("scheduled_at", True)
    form_columns = ("case", "scheduled_at", "place", "agenda", "status", "minutes", "attendees")
    form_choices = {"status": choices(MeetingStatus)}
    form_ajax_refs = {"case": case_loader("case")}
    inline_models = (AttendeeInline(Attendee),)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)  # a closed case is refused there
        problems = workflow.meeting_problems(model, utcnow())
        if problems:
            refuse_field(form, "status", " ".join(gettext(problem) for problem in problems))
        # An edit of the attendees alone writes only attendee rows: touching the meeting bumps its
        # version as well, so a second tab's stale attendee list is refused like any stale form.
        model.updated_at = utcnow()

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        _warn_if_not_working_day(model)

    # -- letters: asked for, confirmed, then numbered ---------------------------------------------------
    def _letter_subject(self, values) -> tuple[Meeting, DocumentKind]:
        """The meeting (through get_one, as the list would show it) and the letter kind a request names."""
        meeting_id, kind = values.get("id", ""), values.get("kind", "")
        meeting = self.get_one(meeting_id)
        if meeting is None or kind not in letters.LETTERS:
            abort(404)
        return meeting, DocumentKind(kind)

    @expose("/letter/", methods=("GET",))
    def letter_view(self):
        """What generating the letter will do, asked before it is done: the number it will take, or
        the letter already issued (download it; regenerate it only if it would now read differently)."""
        meeting, kind = self._letter_subject(request.args)
        settings, today = current_settings(), local_today()
        issued = letters.latest_letter(db.session, meeting, kind)
        try:
            letters.check_letter(meeting, kind, utcnow(), today)
            refusal = None
        except Refusal as refused:
            refusal = explain(refused)
        if issued is None and refusal:
            flash(refusal, "error")
            return redirect(self.get_url(".index_view"))
        if kind == DocumentKind.INVITATION and refusal is None:
            _warn_if_not_working_day(meeting)
        return self.render("admin/meeting_letter.html", meeting=meeting, kind=kind, issued=issued,
                           caption=label(DocumentKind, kind), refusal=refusal,
                           changed=issued is not None and letters.letter_changed(db.session, issued, current_user),
                           next_number=letters.preview_number(db.session, meeting, kind, today, settings),
                           status=label(MeetingStatus, meeting.status), return_url=self.get_url(".index_view"))

    @expose("/letter/", methods=("POST",))
    def issue_letter_view(self):
        """Number and file the letter the user confirmed as the case's next document version."""
        meeting, kind = self._letter_subject(request.form)
        confirm = request.form.get("confirm")
        if confirm not in ("new_number", "same_number"):
            flash(gettext("Nothing was generated: confirm on the letter page first."), "error")
            return redirect(self.get_url(".letter_view", id=meeting.id, kind=kind))
        seen = request.form.get("seen", "")
        settings = current_settings()
        try:
            document = letters.issue_letter(db.session, meeting, kind, current_user, local_today(), settings,
                                            settings.upload_max_mb * 1024 * 1024,
                                            seen=whole_number(seen),
                                            same_number=confirm == "same_number")
            db.session.commit()
        except Refusal as refused:
            db.session.rollback()
            flash(explain(refused), "error")
            return redirect(self.get_url(".index_view"))
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("letter not issued")
            flash(str(DATABASE_MESSAGE), "error")
            return redirect(self.get_url(".index_view"))
        flash(Markup('{} <a href="{}">{}</a>').format(
            gettext("%(title)s no. %(number)s filed as version %(version)s.", title=document.title,
                    number=document.letter_number, version=document.revision),
            url_for("document.download_view", id=document.id), gettext("Download")), "success")
        if kind == DocumentKind.INVITATION:
            _warn_if_not_working_day(meeting)
        return redirect(self.get_url(".index_view"))


class DocumentView(CaseRecordView):
    screen = "document"
    prefill_fields = ("case", "kind")
    column_list = ("case", "kind", "revision", "title", "letter_number", "letter_date", "file_name", "created_by")
    column_details_list = ("case", "kind", "revision", "title", "letter_number", "letter_date", "note", "file_name",
                           "file_size", "file_type", "file_sha256", "created_by", "created_at")
    column_export_list = column_details_list
    column_labels = {**CASE_LABELS, "kind": _l("Kind"), "revision": _l("Version"), "title": _l("Title"),
                     "letter_number": _l("Letter no."), "letter_date": _l("Letter date"),
                     "created_by": _l("Uploaded by"), "file_name": _l("File"), "file_size": _l("Size (bytes)"),
                     "file_type": _l("File type"), "file_sha256": _l("SHA-256"), "upload": _l("File")}
    column_searchable_list = ("title", "letter_number", "file_name", "case.registration_number")
    column_filters = ("kind", "letter_date", "case.registration_number")
    column_choices = {"kind": choices(DocumentKind)}
    column_default_sort = ("created_at", True)
    column_formatters = {"file_name": lambda view, context, model, name: Markup('<a href="{}">{}</a>').format(
        url_for(".download_view", id=model.id), model.file_name) if model.file_sha256 else ""}
    column_formatters_detail = column_formatters
    form_columns = ("case", "kind", "title", "letter_number", "letter_date", "note", "upload")
    form_extra_fields = {"upload": FileField(_l("File (PDF, DOCX, XLSX, ODT, JPEG, PNG)"))}
    form_choices = {"kind": choices(DocumentKind)}
    form_ajax_refs = {"case": case_loader("case")}

    def get_edit_form(self):
        class MetadataOnly(super().get_edit_form()):
            upload = None  # a file never replaces another: a new upload is the case's next version
        return MetadataOnly

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not is_created:
            return
        model.created_by_id = current_user.id
        model.revision = next_revision(db.session, model.case_id or model.case.id, model.kind)
        upload = form.upload.data
        if upload and upload.filename:
            limit = current_settings().upload_max_mb * 1024 * 1024
            try:  # staged now, stored when the record commits
                stored = files.accept(upload.filename, upload.stream, limit, session=db.session)
            except files.UploadRefused as refused:
                raise ValidationError(explain(refused))
            model.file_name, model.file_size = stored.name, stored.size
            model.file_type, model.file_sha256 = stored.type, stored.sha256

    @expose("/download/")
    def download_view(self):
        """The file of a document, as an attachment, to those who may read documents."""
        document = self.get_one(request.args.get("id", ""))
        if document is None or not document.file_sha256:
            abort(404)
        try:
            response = send_file(files.path_for(document.file_sha256), as_attachment=True,
                                 download_name=document.file_name, mimetype=files.safe_type(document.file_type),
                                 max_age=0)
        except FileNotFoundError:
            log.error("document %s: stored file %s is missing", document.id, document.file_sha256)
            abort(404)
        response.headers["X-Content-Type-Options"] = "nosniff"  # the checked type, never sniffed into HTML
        return response


class StepEventView(ReadOnlyModelView):
    screen = "stepevent"
    column_list = ("at", "case", "kind", "from_step", "to_step", "actor", "note")
    column_labels = {**CASE_LABELS, "at": _l("When"), "kind": _l("Move"), "from_step": _l("From step"),
                     "to_step": _l("To step"), "actor": _l("By")}
    column_searchable_list = ("note", "case.registration_number")
    column_filters = ("kind", "at", "case.registration_number", "actor.full_name")
    column_choices = {"kind": choices(StepEventKind), "from_step": step_choices(), "to_step": step_choices()}
    column_default_sort = ("at", True)

