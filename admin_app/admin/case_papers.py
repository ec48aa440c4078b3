"""The papers printed from a case: the step-4 disposition sheet and the case file of step 17.

The sheet is the lembar disposisi of admin/disposition_sheet.html with its header filled from the
case and the disposition part blank for the Kabag, until step 5's disposition is written on it. Filed
from here, its DOCX becomes the case's next version of the disposition-sheet document: step 4's
evidence. The case file is the cover sheet of the paper archive: details, step history,
dispositions, meetings and the documents with their versions.
"""
import io
import logging

from flask import abort, flash, redirect, request, send_file
from flask_admin import expose
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from admin_app import files, letters, permissions
from admin_app.settings import current_settings
from admin_app.admin.base import attempt
from admin_app.labels import label, step_title
from models import (
    AgreementType,
    CaseStatus,
    Disposition,
    Document,
    DocumentKind,
    Instruction,
    Meeting,
    MeetingStatus,
    Role,
    StepEvent,
    StepEventKind,
    db,
)
from models.base import utcnow
from models.procedure import CancelReason, HoldReason
from models.sla import local_today

log = logging.getLogger(__name__)

class CasePapers:
    """Mixed into CaseView: its routes live at /admin/case/..."""

    def _paper_case(self):
        """The case a request names (`id`), read through get_one like its page: 404 for no case of ours."""
        case = self.get_one(request.values.get("id", ""))
        if case is None:
            abort(404)
        return case

    def _may_file_sheet(self, case) -> bool:
        return case.is_open and permissions.can(current_user, permissions.CREATE, "document")

    @expose("/sheet/")
    def sheet_view(self):
        """The case's step-4 lembar disposisi, A4 for the browser's print: header from the case, the
        disposition part blank for the Kabag, or showing the disposition step 5 wrote on it."""
        case = self._paper_case()
        disposition = letters.sheet_disposition(db.session, case)
        # The words of the DOCX, from the one function both sheets are filled from.
        return self.render("admin/disposition_sheet.html", case=case, disposition=disposition,
                           sheet=letters.sheet_context(case, disposition, local_today()),
                           docx_url=self.get_url(".sheet_docx_view", id=case.id),
                           file_url=self.get_url(".file_sheet_view") if self._may_file_sheet(case) else None,
                           now=utcnow(), back_url=self.get_url(".details_view", id=case.id))

    @expose("/sheet.docx")
    def sheet_docx_view(self):
        """The same sheet as a DOCX file, for a word processor."""
        case = self._paper_case()
        data = letters.case_sheet_docx(db.session, case, local_today())
        return send_file(io.BytesIO(data), as_attachment=True, download_name=letters.sheet_file_name(case),
                         mimetype=files.DOCX)

    @expose("/sheet/file/", methods=("POST",))
    def file_sheet_view(self):
        """File the sheet as the case's next disposition-sheet document (step 4's evidence), then back
        to the case page."""
        case = self._paper_case()
        if not permissions.can(current_user, permissions.CREATE, "document"):
            abort(403)
        back = get_redirect_target() or self.get_url(".details_view", id=case.id)
        # A generated file is held to the same limit as an uploaded one.
        limit = current_settings().upload_max_mb * 1024 * 1024
        document = attempt(lambda: letters.file_disposition_sheet(db.session, case, current_user, local_today(), limit),
                           "filing the disposition sheet")
        if document is None:
            return redirect(back)
        flash(Markup('{} <a href="{}">{}</a>').format(
            gettext("The disposition sheet of %(case)s was filed as version %(version)s.",
                    case=case.registration_number, version=document.revision),
            self.get_url("document.download_view", id=document.id), gettext("Download")), "success")
        return redirect(back)

    @expose("/file/")
    def file_view(self):
        """The case file: an A4 cover sheet for the paper archive of step 17."""
        case = self._paper_case()
        events = db.session.execute(select(StepEvent).where(StepEvent.case_id == case.id)
                                    .options(joinedload(StepEvent.actor)).order_by(StepEvent.id)).scalars().all()
        dispositions = db.session.execute(
            select(Disposition).where(Disposition.case_id == case.id)
            .options(joinedload(Disposition.author), joinedload(Disposition.to_user))
            .order_by(Disposition.created_at, Disposition.id)).scalars().all()
        meetings = db.session.execute(select(Meeting).where(Meeting.case_id == case.id)
                                      .options(selectinload(Meeting.attendees))
                                      .order_by(Meeting.scheduled_at, Meeting.id)).scalars().all()
        documents = db.session.execute(select(Document).where(Document.case_id == case.id)
                                       .order_by(Document.kind, Document.revision)).scalars().all()
        return self.render(
            "admin/case_file.html", case=case,
            type_label=label(AgreementType, case.agreement_type), status_label=label(CaseStatus, case.status),
            step=step_title(case.current_step),
            reason=label(HoldReason, case.hold_reason) or label(CancelReason, case.cancel_reason),
            events=[(event, label(StepEventKind, event.kind),
                     step_title(event.from_step) if event.from_step else "", step_title(event.to_step))
                    for event in events],
            dispositions=[(disposition, step_title(disposition.step), label(Instruction, disposition.instruction),
                           label(Role, disposition.to_role)) for disposition in dispositions],
            meetings=[(meeting, label(MeetingStatus, meeting.status)) for meeting in meetings],
            documents=[(document, label(DocumentKind, document.kind)) for document in documents],
            now=utcnow(), back_url=self.get_url(".details_view", id=case.id))

