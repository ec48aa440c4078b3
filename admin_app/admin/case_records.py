"""Screens of a case's records: dispositions, meetings, documents, step history."""
import io
import logging
from datetime import datetime, timezone

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_admin.form import RenderTemplateWidget
from flask_admin.helpers import get_redirect_target
from flask_admin.model.form import InlineFormAdmin
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from wtforms import FileField
from wtforms.validators import ValidationError

from admin_app import files, letters, permissions
from admin_app.admin.base import (
    ReadOnlyModelView,
    SecuredModelView,
    attempt,
    refuse_field,
    whole_number,
)
from admin_app.admin.cases import CASE_LABELS, _changed, _require_open, case_loader, user_loader
from admin_app.i18n import show_date, show_datetime
from admin_app.labels import (
    choices,
    explain,
    label,
    reason_label,
    step_title,
)
from admin_app.settings import current_settings
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
from models.disposition import addressed_to, done_refusal, mark_done, not_done, write_disposition
from models.document import next_revision
from models.meeting import known_attendees, mark_held
from models.procedure import (
    DISPOSITION_ROLES,
)
from models.sla import is_working_day, local_today
from models.workflow import WorkflowError

log = logging.getLogger(__name__)


def _return_url(view) -> str:
    """The page a form came from (its `url` field or argument, a page of this site only), or the list."""
    return get_redirect_target() or view.get_url(".index_view")


def _step_cell(attribute: str):
    """A step number column shown as the step's title; no step (a registration's "from") as a dash."""
    def cell(view, context, model, name):
        number = getattr(model, attribute)
        return step_title(number) if number else "—"
    return cell


class AddressedToMeFilter(BaseSQLAFilter):
    """Dispositions addressed to the user looking at the list (models.disposition.addressed_to)."""

    def __init__(self):
        super().__init__(Disposition.to_user_id, _l("Addressed to me"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        return query.filter(addressed_to(current_user))

    def operation(self):
        return _l("is")


class NotDoneFilter(BaseSQLAFilter):
    """Dispositions nobody has marked done yet."""

    def __init__(self):
        super().__init__(Disposition.done_at, _l("Not done"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        return query.filter(not_done())

    def operation(self):
        return _l("is")


def _done_cell(view, context, disposition, name) -> Markup:
    """When it was done; else, to someone who may close it, a one-click "Mark done" that comes back
    to this very list (its filters and page kept)."""
    if disposition.done_at is not None:
        return Markup("{}").format(show_datetime(disposition.done_at))
    if done_refusal(disposition, current_user) is not None:
        return Markup("")
    return Markup(
        '<form method="post" action="{}" class="mark-done">'
        '<input type="hidden" name="csrf_token" value="{}"><input type="hidden" name="id" value="{}">'
        '<input type="hidden" name="url" value="{}">'
        '<button type="submit" class="btn btn-sm btn-outline-success">{}</button></form>').format(
        url_for(".done_view"), generate_csrf(), disposition.id, request.full_path.rstrip("?"), gettext("Mark done"))


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
    column_formatters = {
        "case": lambda v, c, m, n: Markup('{} <a href="{}" target="_blank" class="small">{}</a>').format(
            m.case.registration_number, url_for(".sheet_view", id=m.id), gettext("sheet")),
        "step": _step_cell("step"),
        "to_role": lambda v, c, m, n: label(Role, m.to_role),  # no role named: nothing, never "None"
        "done_at": _done_cell,
    }
    column_formatters_export = {"step": _step_cell("step")}
    column_list = ("case", "step", "author", "to_user", "to_role", "instruction", "due_date", "done_at")
    column_labels = {**CASE_LABELS, "author": _l("From"), "to_user": _l("To (person)"),
                     "to_role": _l("To (role)"), "instruction": _l("Instruction"), "due_date": _l("Due"),
                     "done_at": _l("Done")}
    column_searchable_list = ("note", "case.registration_number")
    column_filters = (AddressedToMeFilter(), NotDoneFilter(), "instruction", "to_role", "due_date", "done_at",
                      "case.registration_number", "to_user.full_name")
    column_choices = {"instruction": choices(Instruction), "to_role": choices(Role)}
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

    @expose("/done/", methods=("POST",))
    def done_view(self):
        """The list's one-click "Mark done": one disposition, for its addressee, then back to the list."""
        disposition = self.get_one(request.form.get("id", ""))
        if disposition is None:
            abort(404)
        registration = disposition.case.registration_number
        if attempt(lambda: mark_done(disposition, current_user, datetime.now(timezone.utc)), "marking done"):
            flash(gettext("Disposition on %(case)s marked done.", case=registration), "success")
        return redirect(_return_url(self))

    @expose("/sheet/")
    def sheet_view(self):
        """The lembar disposisi, laid out for A4 and the browser's print."""
        disposition = self.get_one(request.args.get("id", ""))
        if disposition is None:
            abort(404)
        return self.render("admin/disposition_sheet.html", disposition=disposition, case=disposition.case,
                           sheet=letters.sheet_context(disposition.case, disposition, local_today()))

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
    form_label = _l("Attendees")
    column_labels = {"name": _l("Name"), "position": _l("Position"), "organisation": _l("Organisation"),
                     "present": _l("Present")}


# Where the panel's own users work: the organisation an attendee picked from the users gets.
SECTION_NAME = _l("Government Section, City Secretariat of Probolinggo")


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
    # Attendees as compact rows (name, position, organisation, present), the name picked from the
    # people attendee_options() offers or typed; the pages carry that list and static/attendees.js.
    form_args = {"attendees": {"widget": RenderTemplateWidget("admin/_attendees.html")}}
    create_template = "admin/meeting_create.html"
    edit_template = "admin/meeting_edit.html"

    def attendee_options(self) -> list[dict]:
        """The names the attendee rows offer, each with the position and organisation it fills in:
        the panel's users (their role, the section) and the parties' contact persons (their party)."""
        users, contacts = known_attendees(db.session)
        section = str(SECTION_NAME)
        return ([{"name": name, "position": label(Role, role), "organisation": section} for name, role in users]
                + [{"name": person, "position": "", "organisation": party} for person, party in contacts])

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

    # -- marking it held from the case page ---------------------------------------------------------------
    @expose("/held/", methods=("POST",))
    def held_view(self):
        """Mark the meeting held (with its minutes, when typed) under the rules of the edit form: not
        before its time, not on a closed case, not from a page older than the meeting's last change."""
        meeting = self.get_one(request.form.get("id", ""))
        if meeting is None:
            abort(404)
        back = _return_url(self)
        if whole_number(request.form.get("version")) != meeting.version:
            flash(gettext("The meeting was changed after this page was opened; nothing was saved. "
                          "Reload the page and mark it held again if it still needs to be."), "error")
            return redirect(back)
        def hold():
            _require_open(meeting.case)
            mark_held(meeting, (request.form.get("minutes") or "").strip() or None, utcnow())
            problems = workflow.meeting_problems(meeting, utcnow())
            if problems:
                raise ValidationError(" ".join(gettext(problem) for problem in problems))

        if attempt(hold, "marking the meeting held") is None:
            return redirect(back)
        flash(gettext("Saved: the meeting of %(date)s is marked held.", date=show_datetime(meeting.scheduled_at)),
              "success")
        return redirect(back)

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
        back = _return_url(self)  # the case page the user came from, or the meetings
        settings, today = current_settings(), local_today()
        issued = letters.latest_letter(db.session, meeting, kind)
        try:
            letters.check_letter(meeting, kind, utcnow(), today)
            refusal = None
        except Refusal as refused:
            refusal = explain(refused)
        if issued is None and refusal:
            flash(refusal, "error")
            return redirect(back)
        if kind == DocumentKind.INVITATION and refusal is None:
            _warn_if_not_working_day(meeting)
        return self.render("admin/meeting_letter.html", meeting=meeting, kind=kind, issued=issued,
                           caption=label(DocumentKind, kind), refusal=refusal,
                           changed=issued is not None and letters.letter_changed(db.session, issued, current_user),
                           next_number=letters.preview_number(db.session, meeting, kind, today, settings),
                           status=label(MeetingStatus, meeting.status), return_url=back,
                           came_from=get_redirect_target())

    @expose("/letter/", methods=("POST",))
    def issue_letter_view(self):
        """Number and file the letter the user confirmed as the case's next document version."""
        meeting, kind = self._letter_subject(request.form)
        back = _return_url(self)
        confirm = request.form.get("confirm")
        if confirm not in ("new_number", "same_number"):
            flash(gettext("Nothing was generated: confirm on the letter page first."), "error")
            return redirect(self.get_url(".letter_view", id=meeting.id, kind=kind, url=get_redirect_target()))
        seen = request.form.get("seen", "")
        settings = current_settings()
        document = attempt(lambda: letters.issue_letter(db.session, meeting, kind, current_user, local_today(),
                                                        settings, settings.upload_max_mb * 1024 * 1024,
                                                        seen=whole_number(seen), same_number=confirm == "same_number"),
                           "issuing the letter")
        if document is None:
            return redirect(back)
        flash(Markup('{} <a href="{}">{}</a>').format(
            gettext("%(title)s no. %(number)s filed as version %(version)s.", title=document.title,
                    number=document.letter_number, version=document.revision),
            url_for("document.download_view", id=document.id), gettext("Download")), "success")
        if kind == DocumentKind.INVITATION:
            _warn_if_not_working_day(meeting)
        return redirect(back)


# Shown in the browser, never run: a checked PDF or image only (admin_app/files.py checks the content).
# The preview's own policy (Talisman's per-view options, replacing the panel's): nothing loads and
# nothing runs. Chromium (156) shows a PDF under it in its viewer, which is not the document's
# content; an image document needs inline styles for its own centring (else console errors). The
# case page may show a preview in an <iframe> (its own policy has object-src 'none'); no other site may.
PREVIEW_POLICY = {
    "default-src": "'none'",
    "style-src": "'unsafe-inline'",
    "frame-ancestors": "'self'",
    "base-uri": "'none'",
    "form-action": "'none'",
}


class _ViewOptions(dict):
    """Talisman's per-view header options. Talisman completes them with its app's defaults through
    setdefault(); those belong to the app of this request (tests run several), so they are kept on
    the request (flask.g), never on the view shared by every app."""

    def setdefault(self, key, default=None):
        return self[key] if key in self else g.setdefault(f"talisman_{key}", default)

    def __missing__(self, key):
        return getattr(g, f"talisman_{key}")


def _own_policy(**options):
    """What Talisman's `@talisman(...)` decorator does, usable before an app exists: this view's
    responses get these header options instead of the app's."""
    def decorate(view_function):
        view_function.talisman_view_options = _ViewOptions(options)
        return view_function
    return decorate


def _send_stored(document, *, as_attachment: bool):
    """A document's stored file under its checked type, never sniffed into HTML; 404 when the
    file is missing from storage (logged: the record says it should be there)."""
    try:
        response = send_file(files.path_for(document.file_sha256), as_attachment=as_attachment,
                             download_name=document.file_name, mimetype=files.safe_type(document.file_type),
                             max_age=0)
    except FileNotFoundError:
        log.error("document %s: stored file %s is missing", document.id, document.file_sha256)
        abort(404)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


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
        limit = current_settings().upload_max_mb * 1024 * 1024
        try:  # staged now, stored when the record commits
            files.attach_upload(model, form.upload.data, limit, session=db.session)
        except files.UploadRefused as refused:
            raise ValidationError(explain(refused))

    @expose("/download/")
    def download_view(self):
        """The file of a document, as an attachment, to those who may read documents."""
        document = self.get_one(request.args.get("id", ""))
        if document is None or not document.file_sha256:
            abort(404)
        return _send_stored(document, as_attachment=True)

    @expose("/preview/")
    @_own_policy(content_security_policy=PREVIEW_POLICY, content_security_policy_nonce_in=[],
                 frame_options="SAMEORIGIN")
    def preview_view(self):
        """A PDF or image document shown in the browser (inline), to those who may read documents;
        any other type is only downloaded (404 here)."""
        document = self.get_one(request.args.get("id", ""))
        if document is None or not document.file_sha256 or files.safe_type(document.file_type) not in files.PREVIEWABLE:
            abort(404)
        return _send_stored(document, as_attachment=False)


class StepEventView(ReadOnlyModelView):
    screen = "stepevent"
    column_list = ("at", "case", "kind", "from_step", "to_step", "actor", "note")
    column_labels = {**CASE_LABELS, "at": _l("When"), "kind": _l("Move"), "from_step": _l("From step"),
                     "to_step": _l("To step"), "actor": _l("By"), "reason": _l("Reason"),
                     "days_on_step": _l("Days on the step"), "working_days_on_step": _l("Working days on the step")}
    column_searchable_list = ("note", "case.registration_number")
    column_filters = ("kind", "at", "case.registration_number", "actor.full_name")
    column_choices = {"kind": choices(StepEventKind)}
    column_formatters = {"from_step": _step_cell("from_step"), "to_step": _step_cell("to_step"),
                         "reason": lambda view, context, event, name: reason_label(event.kind, event.reason)}
    column_formatters_export = column_formatters
    column_default_sort = ("at", True)

