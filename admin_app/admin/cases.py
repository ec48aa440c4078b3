"""The case screen: the list, the case page and its moves."""
import logging

from flask import Response, abort, current_app, flash, g, redirect, request, session, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload
from wtforms.validators import ValidationError

from admin_app import dates, files, permissions
from admin_app.admin.base import (
    DATABASE_MESSAGE,
    FIRST_YEAR,
    LAST_YEAR,
    SafeAjaxLoader,
    SecuredModelView,
    parse_id,
    refuse_field,
    row_url,
    whole_number,
)
from admin_app.admin.case_workflow import (
    DueWithinFilter,
    OverdueFilter,
    current_settings,
    due_badge,
    progress,
    report_moved,
    held_since,
    run_move,
)
from admin_app.admin.case_papers import CasePapers
from admin_app.admin.reassign import ReassignCases
from admin_app.admin.search import IndexedSearch
from admin_app.labels import (
    choices,
    explain,
    label,
    reason_label,
    requirement_label,
    step_choices,
    step_title,
)
from models import (
    Agreement,
    AgreementType,
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
from models.case import case_problems
from models.document import next_revision
from models.procedure import (
    DISPOSITION_ROLES,
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
    "case.registration_number": _l("Case"), "case.title": _l("Title"), "step": _l("Step"), "note": _l("Note"),
}


def _step_cell(title: str) -> Markup:
    """The list's step: the title cut at 35 characters, the whole of it on hover."""
    return Markup('<span title="{}">{}</span>').format(title, title[:34] + "…" if len(title) > 35 else title)


class CaseView(IndexedSearch, CasePapers, ReassignCases, SecuredModelView):
    screen = "case"
    action_verbs = {"advance": permissions.EDIT, "reassign": permissions.ASSIGN}
    details_template = "admin/case_details.html"
    list_template = "admin/case_list.html"
    edit_template = "admin/case_edit.html"
    # The list is dense (type code, step number with a short title); the case page says it all.
    column_formatters = {
        "due_date": due_badge,
        "registration_number": lambda view, context, case, name: Markup('<a href="{}">{}</a>').format(
            row_url(view, ".details_view", case.id), case.registration_number),
        "agreement_type": lambda view, context, case, name: Markup('<abbr title="{}">{}</abbr>').format(
            label(AgreementType, case.agreement_type), case.agreement_type),
        "current_step": lambda view, context, case, name: _step_cell(step_title(case.current_step)),
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
                      "opd.name", "subject.name", "assigned_to.full_name", "received_date", "due_date", "closed_at")
    column_sortable_list = ("registration_number", "agreement_type", "title", ("subject", "subject.name"),
                            ("opd", "opd.name"), "current_step", "status", "received_date",
                            # Equal due dates keep one order from page to page, the indexes' order.
                            ("due_date", ("due_date", "id")), ("assigned_to", "assigned_to.full_name"))
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
        """The overdue and due-soon lists are read by the deadline: the earliest due date first (the
        most days late, the soonest due), unless the user sorts. An index serves each in that
        order (Case.__table_args__), so a page reads its own rows and no more."""
        view_args = super()._get_list_extra_args()
        if view_args.sort is None and any(isinstance(self._filters[index], (OverdueFilter, DueWithinFilter))
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

    # -- the case page: the hub where a case's work is done --------------------------------------------
    def render(self, template, **kwargs):
        # Built before the template runs, so that a message the page cannot show beside its form
        # is still flashed at the top.
        if template == self.details_template and isinstance(kwargs.get("model"), Case):
            kwargs["wf"] = self.workflow_state(kwargs["model"])
        return super().render(template, **kwargs)

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        if is_created:
            flash(gettext("%(number)s registered.", number=model.registration_number), "success")

    def get_save_return_url(self, model, is_created: bool = False) -> str:
        """A registered case opens on its own page, where its work starts; the number said there
        replaces Flask-Admin's generic "Record was successfully created."."""
        if not is_created:
            return super().get_save_return_url(model, is_created)
        generic = admin_gettext("Record was successfully created.")
        session["_flashes"] = [item for item in session.get("_flashes", []) if item[1] != generic]
        return self.get_url(".details_view", id=model.id)

    def _back_to_form(self, case: Case, form_id: str, message: str, **typed) -> Response:
        """A refused form: back to the case page at that form, which shows why and what was typed
        (kept in the session for that one page view)."""
        session[REFUSAL_KEY] = {"case": case.id, "form": form_id, "message": message,
                                **{name: (value or "")[:KEPT_TEXT] for name, value in typed.items()}}
        return redirect(self.get_url(".details_view", id=case.id) + "#" + form_id)

    @expose("/move/", methods=("POST",))
    def move_view(self):
        """The buttons of the case page: the moves of models/procedure.py MOVES, made from the step
        and version the page showed. A refusal returns to the form with the note kept."""
        case = self.get_one(request.form.get("id"))
        if case is None:
            abort(404)
        try:
            kind = StepEventKind(request.form.get("move", ""))
        except ValueError:
            abort(400)
        typed = {"note": request.form.get("note", ""), "category": request.form.get("category", ""),
                 "to_step": request.form.get("to_step", "")}
        form_id = f"move-{kind.value}"
        seen = _seen_state(request.form.get("step", ""), request.form.get("version", ""))
        if seen is None:
            return self._back_to_form(case, form_id, gettext(
                "This page did not say which step it showed; reload it and try again. Nothing was changed."), **typed)
        to_step = whole_number(request.form.get("to_step"), digits=2)
        if kind is StepEventKind.RETURN and to_step is None:
            return self._back_to_form(case, form_id, gettext("Choose the step to send the case back to."), **typed)
        reasons: list[str] = []
        done = run_move(case, workflow.make_move, current_user, refused=reasons.append, kind=kind, seen=seen,
                        today=local_today(), note=typed["note"], category=typed["category"] or None,
                        to_step=to_step)
        if not done:
            return self._back_to_form(case, form_id, " ".join(reasons), **typed)
        flash(gettext("Saved: %(case)s is now at step %(step)s (%(status)s).", case=case.registration_number,
                      step=case.current_step, status=label(CaseStatus, case.status)), "success")
        return redirect(self.get_url(".details_view", id=case.id))

    @expose("/upload/", methods=("POST",))
    def upload_view(self):
        """The checklist's upload: a document of the kind the step needs, filed as the Documents
        screen files one (the next version of its kind, checked and stored with the record)."""
        case = self.get_one(request.form.get("id"))
        if case is None:
            abort(404)
        kind = request.form.get("kind", "")
        if kind not in {member.value for member in DocumentKind}:
            abort(400)
        typed = {"letter_number": request.form.get("letter_number", "").strip(),
                 "letter_date": request.form.get("letter_date", "").strip()}
        form_id = f"upload-{kind}"
        letter_date = None
        if typed["letter_date"]:
            try:
                letter_date = dates.parse_date(typed["letter_date"])
            except ValueError:
                letter_date = None
            if letter_date is None or not FIRST_YEAR <= letter_date.year <= LAST_YEAR:
                return self._back_to_form(case, form_id, str(dates.DATE_ERROR), **typed)
        upload = request.files.get("upload")
        if upload is None or not upload.filename:
            return self._back_to_form(case, form_id, gettext("Choose the file to upload."), **typed)
        try:
            _require_open(case)
        except ValidationError as error:
            return self._back_to_form(case, form_id, str(error), **typed)
        with force_locale("id"):  # the record's title is the section's own word for the kind
            title = label(DocumentKind, kind)
        document = Document(case=case, kind=kind, title=title, letter_number=typed["letter_number"][:100] or None,
                            letter_date=letter_date, created_by_id=current_user.id,
                            revision=next_revision(db.session, case.id, kind))
        try:
            files.attach_upload(document, upload, current_settings().upload_max_mb * 1024 * 1024,
                                session=db.session)
            db.session.add(document)
            db.session.commit()
        except files.UploadRefused as refused:
            db.session.rollback()
            return self._back_to_form(case, form_id, explain(refused), **typed)
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("document not filed from the case page")
            return self._back_to_form(case, form_id, str(DATABASE_MESSAGE), **typed)
        flash(gettext("%(title)s filed as version %(version)s.", title=document.title, version=document.revision),
              "success")
        return redirect(self.get_url(".details_view", id=case.id) + "#checklist")

    def workflow_state(self, case: Case) -> dict:
        """What the case page shows and offers: where the case stands, the step's checklist with a
        way to meet each item in place, the moves, and the case's records. Every link and form is
        offered only to a user whose role may use the screen behind it."""
        refusal = session.get(REFUSAL_KEY)
        if refusal and refusal.get("case") == case.id:
            session.pop(REFUSAL_KEY)
        else:
            refusal = None
        user, back = current_user, url_for("case.details_view", id=case.id)
        may = {screen: {verb for verb in (permissions.LIST, permissions.CREATE, permissions.EDIT)
                        if permissions.can(user, verb, screen)}
               for screen in ("case", "document", "disposition", "meeting", "agreement")}
        current = workflow.step(case.current_step)
        states, since = workflow.requirement_states(db.session, case) if case.is_open else ([], None)
        moves = set(workflow.available_moves(case, user)) if self.can_edit else set()
        meetings = db.session.execute(select(Meeting).where(Meeting.case_id == case.id)
                                      .options(selectinload(Meeting.attendees))
                                      .order_by(Meeting.scheduled_at, Meeting.id)).scalars().all()
        live = [m for m in meetings if m.status != MeetingStatus.CANCELLED]
        meeting = max(live, key=lambda m: m.id) if live else None
        forms = {f"move-{kind.value}" for kind in moves}
        requirements = [_checklist_item(requirement, met, case, meeting, may, back, forms)
                        for requirement, met in states]
        if any(item["dispose"] for item in requirements):
            forms.add("disposition-form")
        if refusal and refusal["form"] not in forms:
            flash(refusal["message"], "error")  # its form is gone (the case moved on): say it at the top
            refusal = None
        documents: dict[str, list[Document]] = {}
        for document in db.session.execute(
                select(Document).where(Document.case_id == case.id).options(joinedload(Document.created_by))
                .order_by(Document.revision.desc())).scalars():
            documents.setdefault(document.kind, []).append(document)
        views = current_app.view_functions
        return {
            "step": current, "title": step_title(current.number), "performer": label(Role, current.role),
            "may_perform": workflow.may_perform(user.role, current.number),
            "progress": progress(case), "due": due_badge(self, None, case, "due_date"), "held_since": held_since(case),
            "status": label(CaseStatus, case.status), "type": label(AgreementType, case.agreement_type),
            "requirements": requirements, "rework_since": since, "forms": forms, "refusal": refusal,
            "moves": moves, "may": may, "back": back,
            "earlier_steps": [(n, step_title(n)) for n in range(workflow.FIRST_STEP, case.current_step)],
            "hold_reasons": choices(HoldReason), "cancel_reasons": choices(CancelReason),
            "hold_reason": label(HoldReason, case.hold_reason), "cancel_reason": label(CancelReason, case.cancel_reason),
            "events": [(event, label(StepEventKind, event.kind), reason_label(event.kind, event.reason)) for event in db.session.execute(
                select(StepEvent).where(StepEvent.case_id == case.id)
                .options(joinedload(StepEvent.actor)).order_by(StepEvent.id)).scalars()],
            "documents": [(label(DocumentKind, kind), documents[kind]) for kind in DocumentKind if kind in documents],
            "previewable": files.PREVIEWABLE if "document.preview_view" in views else frozenset(),
            "dispositions": [(d, label(Instruction, d.instruction), label(Role, d.to_role),
                              d.done_at is None and (d.to_user_id == user.id or d.to_role == user.role))
                             for d in db.session.execute(
                                 select(Disposition).where(Disposition.case_id == case.id)
                                 .options(joinedload(Disposition.author), joinedload(Disposition.to_user))
                                 .order_by(Disposition.created_at, Disposition.id)).scalars()],
            "may_mark_done": "disposition.done_view" in views and "l" in may["disposition"],
            "meetings": [(m, label(MeetingStatus, m.status)) for m in meetings],
            "letters": (("invitation", gettext("Invitation")), ("memo", gettext("Nota Dinas"))),
            "workers": db.session.execute(select(User).where(User.active.is_(True),
                                                             User.role.in_(permissions.CASE_WORKERS))
                                          .order_by(User.full_name)).scalars().all(),
            "disposition_roles": [(role.value, label(Role, role)) for role in DISPOSITION_ROLES],
            "instructions": choices(Instruction),
            "can_write": self.can_edit,
            "agreement": agreement_for_case(db.session, case.id),
            "may_register": case.status == CaseStatus.DONE and "c" in may["agreement"],
        }


# What a refused form's typed text the next page view keeps (the session is a cookie of ~4 KB).
REFUSAL_KEY, KEPT_TEXT = "case_page_refusal", 1000


def _checklist_item(requirement: Requirement, met: bool, case: Case, meeting: Meeting | None, may: dict,
                    back: str, forms: set) -> dict:
    """One line of the checklist and what the user may do about it right there: upload the
    document (its kind fixed), generate the letter from the meeting, write the disposition, plan
    or close the meeting. `forms` collects the ids of the forms the page will carry."""
    item = {"label": requirement_label(requirement), "met": met, "evidence": requirement.evidence.value,
            "kind": requirement.document_kind, "upload": False, "dispose": False, "held": None,
            "links": [], "form_id": None}
    links = item["links"]
    if requirement.document_kind == DocumentKind.DISPOSITION_SHEET and "l" in may["case"]:
        links.append((url_for("case.sheet_view", id=case.id), gettext("Print disposition sheet"), "sheet"))
    if met:
        return item
    evidence, writes_meetings = requirement.evidence, may["meeting"]
    if evidence is Evidence.DOCUMENT:
        if requirement.document_kind in (DocumentKind.INVITATION, DocumentKind.MEMO) and "c" in writes_meetings:
            if meeting is not None:
                caption = gettext("Generate the invitation") if requirement.document_kind == DocumentKind.INVITATION \
                    else gettext("Generate the Nota Dinas")
                links.append((url_for("meeting.letter_view", id=meeting.id, kind=requirement.document_kind,
                                      url=back), caption, "letter"))
            else:
                links.append((url_for("meeting.create_view", case=case.id, url=back),
                              gettext("Plan the meeting"), "meeting"))
        if "c" in may["document"]:
            item["upload"], item["form_id"] = True, f"upload-{requirement.document_kind}"
            forms.add(item["form_id"])
            links.append((url_for("document.create_view", case=case.id, kind=requirement.document_kind, url=back),
                          gettext("Full form"), "form"))
    elif evidence is Evidence.DISPOSITION:
        item["dispose"] = "c" in may["disposition"]
    elif evidence is Evidence.MEETING_HELD and meeting is not None:
        if "e" in writes_meetings and "meeting.held_view" in current_app.view_functions:
            item["held"], item["form_id"] = meeting, "meeting-held"
            forms.add("meeting-held")
        elif "e" in writes_meetings:
            links.append((url_for("meeting.edit_view", id=meeting.id, url=back), gettext("Open the meeting"), "meeting"))
    elif "c" in writes_meetings:  # a meeting to plan (or, with none yet, to plan before holding it)
        links.append((url_for("meeting.create_view", case=case.id, url=back), gettext("Plan the meeting"), "meeting"))
    return item


def _seen_state(step_text: str, version_text: str) -> tuple[int, int] | None:
    """The (step, version) a page showed, from its hidden fields; None when absent or malformed."""
    step, version = whole_number(step_text, digits=2), whole_number(version_text, digits=9)
    return None if step is None or version is None else (step, version)


def _require_open(case: Case | None) -> None:
    try:
        workflow.require_open_case(case)
    except WorkflowError as error:
        raise ValidationError(explain(error))
