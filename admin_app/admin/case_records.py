"""Screens of a case's records: dispositions, meetings, documents, step history."""
import io
import logging
from datetime import datetime, timezone

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from wtforms import FileField
from wtforms.validators import ValidationError

from admin_app import files, letters, permissions
from admin_app.admin.base import (
    DATABASE_MESSAGE,
    ReadOnlyModelView,
    SecuredModelView,
    refuse_field,
    whole_number,
)
from admin_app.admin.case_workflow import (
    current_settings,
)
from admin_app.i18n import show_date
from admin_app.labels import (
    choices,
    explain,
    label,
    step_choices,
)
from models import (
    Attendee,
    CaseStatus,
    Disposition,
    DocumentKind,
    Instruction,
    Meeting,
    MeetingStatus,
    Role,
    StepEventKind,
    db,
    workflow,
)
from models.base import Refusal, utcnow
from models.disposition import mark_done, write_disposition
from models.document import next_revision
from models.procedure import (
    DISPOSITION_ROLES,
)
from models.sla import is_working_day, local_today
from models.workflow import WorkflowError

log = logging.getLogger(__name__)


from admin_app.admin.cases import CASE_LABELS, _changed, _require_open, case_loader, user_loader


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

