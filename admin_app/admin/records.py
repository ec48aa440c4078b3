"""Screens of reference data and records: parties, complaints, users, settings, audit log."""
from datetime import date, datetime, timedelta, timezone

from flask import flash, g, redirect, request
from flask_admin import babel as admin_babel
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import Date, DateTime, literal, null, select, union_all
from wtforms import PasswordField, SelectField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from admin_app.settings import current_settings
from admin_app.admin.base import (
    STR_COLUMNS,
    ReadOnlyModelView,
    SecuredModelView,
    label_from_columns,
    refuse_field,
    whole_number,
)
from admin_app.admin.cases import case_loader
from admin_app.i18n import show_date, show_datetime
from admin_app.labels import choices, explain, label
from models import Complaint, ComplaintChannel, ComplaintStatus, Instruction, PartyKind, Role, User, db, handover
from models.base import Refusal, utcnow
from models.complaint import ANSWERED, is_response_overdue, settle_response
from models.due_dates import DUE_DATE_SETTINGS, changes_digest, due_date_changes, recompute_due_dates
from models.login_throttle import LoginThrottle
from models.setting import SETTING_DEFAULTS, parse_setting

CONTACT_LABELS = {"name": _l("Name"), "kind": _l("Kind"), "address": _l("Address"),
                  "contact_person": _l("Contact person"), "phone": _l("Phone"), "email": _l("E-mail")}


class PartyView(SecuredModelView):
    screen = "party"
    column_list = ("name", "kind", "contact_person", "phone", "email")
    column_labels = CONTACT_LABELS
    column_searchable_list = ("name", "contact_person", "email")
    column_filters = ("kind", "name")
    column_choices = {"kind": choices(PartyKind)}
    column_default_sort = "name"
    form_columns = ("kind", "name", "address", "contact_person", "phone", "email")
    form_choices = {"kind": choices(PartyKind)}
    form_args = {"email": {"validators": [Optional(), Email()]}}


class ComplaintOverdueFilter(BaseSQLAFilter):
    """Not answered within the response target of the settings."""

    def __init__(self):
        super().__init__(Complaint.received_at, _l("Response overdue"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        limit = datetime.now(timezone.utc) - timedelta(days=current_settings().complaint_response_days)
        return query.filter(Complaint.status.notin_(ANSWERED), Complaint.received_at < limit)

    def operation(self):
        return _l("is")


def _complaint_status(view, context, complaint, name):
    shown = label(ComplaintStatus, complaint.status)
    if is_response_overdue(complaint, current_settings().complaint_response_days, datetime.now(timezone.utc)):
        return Markup('{} <span class="badge badge-danger overdue-mark">{}</span>').format(
            shown, gettext("response overdue"))
    return shown


class ComplaintView(SecuredModelView):
    screen = "complaint"
    column_formatters = {"status": _complaint_status}
    column_list = ("received_at", "channel", "complainant", "case", "status", "responded_at")
    column_labels = {"received_at": _l("Received"), "channel": _l("Channel"), "complainant": _l("Complainant"),
                     "contact": _l("Contact"), "case": _l("Related case"), "description": _l("Description"),
                     "status": _l("Status"), "response": _l("Response"), "responded_at": _l("Responded")}
    column_searchable_list = ("complainant", "description", "response")
    column_filters = (ComplaintOverdueFilter(), "channel", "status", "received_at", "responded_at")
    column_choices = {"channel": choices(ComplaintChannel), "status": choices(ComplaintStatus)}
    column_default_sort = ("received_at", True)
    form_columns = ("received_at", "channel", "complainant", "contact", "case", "description", "status",
                    "response", "responded_at")
    form_choices = {"channel": choices(ComplaintChannel), "status": choices(ComplaintStatus)}
    form_ajax_refs = {"case": case_loader("case")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        problems = settle_response(model)
        if problems:
            raise ValidationError(" ".join(gettext(problem) for problem in problems))


def _optional_id(value):
    """The successor select: empty is nobody; digits are a user id; anything else the field refuses."""
    if value in (None, "", "None"):
        return None
    if isinstance(value, int):
        return value
    number = whole_number(value)
    if number is None:
        raise ValueError(value)
    return number


class SuccessorField(SelectField):
    """Who takes over the account's open work: read by the hand-over, never stored on the account."""

    def populate_obj(self, obj, name):
        pass


def _listed(items: list[str], limit: int = 20) -> str:
    if not items:
        return "—"
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} … (+{len(items) - limit})"


def _open_work_text(work: handover.OpenWork) -> dict[str, str]:
    """The open cases by registration number, the dispositions by case, instruction and step."""
    return {"cases": _listed([case.registration_number for case in work.cases]),
            "dispositions": _listed([gettext("%(case)s: %(instruction)s (step %(step)s)",
                                             case=item.case.registration_number, step=item.step,
                                             instruction=label(Instruction, item.instruction))
                                     for item in work.dispositions])}


def _counted(cases: int = 0, dispositions: int = 0, history: int = 0, documents: int = 0) -> str:
    parts = [ngettext("%(num)d case", "%(num)d cases", cases) if cases else "",
             ngettext("%(num)d disposition", "%(num)d dispositions", dispositions) if dispositions else "",
             ngettext("%(num)d history entry", "%(num)d history entries", history) if history else "",
             ngettext("%(num)d document", "%(num)d documents", documents) if documents else ""]
    return ", ".join(part for part in parts if part)


class UserView(SecuredModelView):
    screen = "user"
    column_list = ("username", "full_name", "role", "active", "language", "last_login_at")
    column_labels = {"username": _l("Username"), "full_name": _l("Full name"), "email": _l("E-mail"),
                     "role": _l("Role"), "active": _l("Active"), "language": _l("Language"),
                     "last_login_at": _l("Last login"), "new_password": _l("New password")}
    column_searchable_list = ("username", "full_name", "email")
    column_filters = ("role", "active")
    column_choices = {"role": choices(Role), "language": [("id", "Bahasa Indonesia"), ("en", "English")]}
    column_details_exclude_list = ("password_hash", "session_generation", "version")
    column_export_exclude_list = ("password_hash", "session_generation", "version")
    column_default_sort = "username"
    form_columns = ("username", "full_name", "email", "role", "active", "language", "new_password")
    form_choices = {"role": choices(Role), "language": [("id", "Bahasa Indonesia"), ("en", "English")]}
    form_extra_fields = {"new_password": PasswordField(_l("New password"), validators=[Optional(), Length(min=8, max=200)])}
    form_args = {"role": {"default": Role.VIEWER.value},  # a new account starts with the least rights
                 "username": {"validators": [Length(min=3, max=64)]},
                 "email": {"validators": [Optional(), Email()]}}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        model.username = model.username.strip().lower()
        if is_created and not form.new_password.data:
            raise ValidationError(gettext("A new account needs a password of at least 8 characters."))
        if form.new_password.data:
            model.set_password(form.new_password.data)
        if model.id == current_user.id and (not model.active or model.role != Role.ADMIN.value):
            raise ValidationError(gettext("You cannot deactivate your own account or remove your own admin role."))
        if not model.active:
            model.end_sessions()
        if not is_created:
            self._hand_over(form, model)

    def get_create_form(self):
        class NewAccountForm(super().get_create_form()):  # a new account cannot be made without one
            new_password = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=8, max=200)])
        return NewAccountForm

    # -- people leave, cases stay (models/handover.py) ------------------------------------------------
    def get_edit_form(self):
        class HandOverForm(super().get_edit_form()):
            successor = SuccessorField(_l("Successor"), coerce=_optional_id, validate_choice=False)
        return HandOverForm

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None:
            form.successor.choices = [("", "—")] + [
                (user.id, f"{user} ({label(Role, user.role)})")
                for user in handover.successor_candidates(db.session, obj)]
            work = handover.open_work(db.session, obj)
            form.successor.description = gettext(
                "Takes over the open cases and undone dispositions of this account; required to deactivate "
                "an account that holds any. Open cases: %(cases)s. Undone dispositions: %(dispositions)s.",
                **_open_work_text(work)) if work else gettext(
                "Takes over the open cases and undone dispositions of this account. It holds none now.")
        return form

    def _hand_over(self, form, model):
        """Open work moves to the chosen successor in the same transaction as the account's change;
        an account that stops working cases with open work and nobody chosen is not saved."""
        if form.successor.data is None:
            work = handover.work_left_behind(db.session, model)
            if work:
                refuse_field(form, "successor", gettext(
                    "%(name)s still holds open cases (%(cases)s) and undone dispositions (%(dispositions)s). "
                    "Choose the successor who takes them over; nothing was saved.",
                    name=str(model), **_open_work_text(work)))
            return
        successor = db.session.get(User, form.successor.data)
        try:
            form.handed_over = successor, handover.hand_over(db.session, model, successor)
        except handover.HandoverRefusal as refusal:
            refuse_field(form, "successor", explain(refusal))

    def after_model_change(self, form, model, is_created):
        super().after_model_change(form, model, is_created)
        if getattr(form, "handed_over", None) is None:
            return
        successor, moved = form.handed_over
        if moved:
            flash(gettext("Handed over to %(name)s: %(moved)s.", name=str(successor),
                          moved=_counted(cases=len(moved.cases), dispositions=len(moved.dispositions))), "success")
        else:
            flash(gettext("Nothing to hand over: the account held no open cases or undone dispositions."), "info")

    @action("delete", admin_babel.lazy_gettext("Delete"),
            admin_babel.lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        """Each account is refused on its own (on_model_delete says why); the count is what went."""
        deleted = sum(self.delete_model(user) for user in self.get_query().filter(User.id.in_(ids)).all())
        if deleted:
            flash(admin_babel.ngettext("Record was successfully deleted.",
                                       "%(count)s records were successfully deleted.", deleted, count=deleted),
                  "success")

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise ValidationError(gettext("You cannot delete your own account."))
        held = handover.holdings(db.session, model)
        if held:
            raise ValidationError(gettext(
                "%(name)s cannot be deleted: the account holds %(held)s. Deactivate the account instead.",
                name=str(model), held=_counted(held.cases, held.dispositions, held.history, held.documents)))


SETTING_LABELS = {
    "sla_days_ksb": _l("Time limit of a KSB (days)"),
    "sla_days_pks": _l("Time limit of a PKS (days)"),
    "sla_working_days": _l("Count working days instead of calendar days (yes/no)"),
    "due_soon_days": _l("Cases due within this many days are 'due soon'"),
    "complaint_response_days": _l("Response target of a complaint (days)"),
    "upload_max_mb": _l("Largest document file (MB)"),
    "form_text_max_kb": _l("Largest text of one form, all fields together (KB)"),
    "expiring_within_days": _l("Agreements expiring within this many days are 'expiring soon'"),
    "letter_number_invitation": _l("Number pattern of invitations ({seq}, {year}, {case})"),
    "letter_number_memo": _l("Number pattern of Nota Dinas ({seq}, {year}, {case})"),
}


SETTING_HINTS = {
    bool: _l("Enter yes or no."), int: _l("Enter a whole number from 0 to 3650."),
    str: _l("Enter a pattern that contains {seq} and may use {year} and {case}."),
}


def setting_label(key: str) -> str:
    """The setting's name on the screens; never its internal key."""
    return str(SETTING_LABELS.get(key, key))


def setting_kind(key: str) -> type:
    return type(getattr(SETTING_DEFAULTS, key, ""))


def setting_text(key: str, value: str) -> str:
    """A stored value as the screens show it: a yes/no in the user's words, the rest as stored."""
    if setting_kind(key) is bool:
        try:
            return gettext("yes") if parse_setting(key, value) else gettext("no")
        except ValueError:
            return value
    return value


# What a change of the due-date settings reaches: shown on the settings list and their edit forms.
REACH_NOTE = _l("Changing the time limits of KSB and PKS or the counting of days applies to cases "
                "registered afterwards, and to a case whose received date, type or days on hold change. "
                "Open cases keep their due date until an administrator recomputes it.")


class SettingView(SecuredModelView):
    screen = "setting"
    list_template = "admin/setting_list.html"
    edit_template = "admin/setting_edit.html"
    reach_note = REACH_NOTE
    due_date_settings = DUE_DATE_SETTINGS
    setting_label = staticmethod(setting_label)  # the edit page's heading
    recompute_sample_size = 50
    column_list = ("key", "value", "updated_at")
    column_labels = {"key": _l("Setting"), "value": _l("Value"), "updated_at": _l("Updated")}
    column_formatters = {"key": lambda view, context, setting, name: setting_label(setting.key),
                         "value": lambda view, context, setting, name: setting_text(setting.key, setting.value)}
    column_descriptions = {"value": _l("Whole numbers of days; yes/no for working days.")}
    column_default_sort = "key"
    form_columns = ("value",)

    def edit_form(self, obj=None):
        """The form names the setting it changes, says what it takes, and shows a yes/no in words."""
        form = super().edit_form(obj)
        if obj is not None:
            form.value.label.text = setting_label(obj.key)
            form.value.description = str(SETTING_HINTS[setting_kind(obj.key)])
            if request.method == "GET":
                form.value.data = setting_text(obj.key, obj.value)
        return form

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        try:
            value = parse_setting(model.key, model.value)
        except (KeyError, ValueError):
            refuse_field(form, "value", gettext("“%(setting)s”: %(hint)s", setting=setting_label(model.key),
                                                hint=SETTING_HINTS[setting_kind(model.key)]))
        if isinstance(value, bool):  # stored as the code, whatever language it was typed in
            model.value = "yes" if value else "no"

    @expose("/recompute/", methods=("GET", "POST"))
    def recompute_view(self):
        """Due dates of open cases under the current settings: GET shows what would change, POST applies it."""
        if request.method == "POST":
            try:
                changes = recompute_due_dates(db.session, request.form.get("reviewed", ""))
            except Refusal as refusal:
                db.session.rollback()
                flash(explain(refusal), "error")
                return redirect(self.get_url(".recompute_view"))
            db.session.commit()
            flash(ngettext("%(num)d open case got a new due date.", "%(num)d open cases got a new due date.",
                           len(changes)), "success")
            return redirect(self.get_url(".index_view"))
        changes = due_date_changes(db.session)
        return self.render("admin/setting_recompute.html", changes=changes[:self.recompute_sample_size],
                           total=len(changes), reviewed=changes_digest(changes))


# The audit trail names records by their kind, never by their table.
RECORD_KINDS = {
    "cooperation_case": _l("Case"), "app_user": _l("User"), "party": _l("Party"), "setting": _l("Setting"),
    "agreement": _l("Agreement"), "complaint": _l("Complaint"), "disposition": _l("Disposition"),
    "meeting": _l("Meeting"), "attendee": _l("Attendee"), "document": _l("Document"),
    "step_event": _l("Step history entry"), "login_throttle": _l("Login lock"),
}
AUDIT_ACTIONS = [("create", _l("created")), ("update", _l("changed")), ("delete", _l("deleted"))]
# Fields that no screen lists, so no screen's column_labels name them.
FIELD_LABELS = {"id": _l("ID"), "held_since": _l("On hold since"), "reason": _l("Reason"), "name": _l("Name"),
                "position": _l("Position"), "organisation": _l("Organisation"), "present": _l("Present"),
                "meeting": _l("Meeting"), "key": _l("Setting"), "value": _l("Value")}
SHOWN_TEXT = 80  # longer texts (minutes, notes) are cut in the list; the record itself holds them whole


def _screens_of(view, table: str) -> list:
    return [screen for screen in view.admin._views
            if getattr(getattr(screen, "model", None), "__tablename__", None) == table]


def _field_label(view, table: str, field: str) -> str:
    """The field's label on the record's own screens (`case_id` is the screens' `case`)."""
    for name in (field, field.removesuffix("_id")):
        for screen in _screens_of(view, table):
            if name in (screen.column_labels or {}):
                return str(screen.column_labels[name])
        if name in FIELD_LABELS:
            return str(FIELD_LABELS[name])
    return field


def _shown_value(view, table: str, field: str, value) -> str:
    """A stored audit value as its screens show it: labels for codes, WIB for times, names for links."""
    if value is None or value == "":
        return "—"
    model = next((screen.model for screen in _screens_of(view, table)), None)
    column = model.__table__.columns.get(field) if model is not None else None
    if column is not None and column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table
        related = next((mapper.class_ for mapper in db.Model.registry.mappers if mapper.local_table is target), None)
        if related is None:
            return f"#{value}"
        known = g.get("audit_references", {})
        if (related, value) in known:
            return known[(related, value)]
        found = db.session.get(related, value)
        return str(found) if found is not None else f"#{value}"
    for screen in _screens_of(view, table):
        for options in ((screen.column_choices or {}).get(field), (screen.form_choices or {}).get(field)):
            shown = dict((str(code), text) for code, text in options or ())
            if str(value) in shown:
                return str(shown[str(value)])
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if table == "setting" and field == "key":
        return str(SETTING_LABELS.get(value, value))
    if isinstance(value, str) and column is not None:
        try:
            if isinstance(column.type, DateTime):
                return show_datetime(datetime.fromisoformat(value))  # stored in UTC, shown in WIB
            if isinstance(column.type, Date):
                return show_date(date.fromisoformat(value))
        except ValueError:
            pass
    text = str(value)
    return text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT - 1] + "…"


def _stored_label(view, entry) -> str:
    """The record's name as stored with the entry, with the codes some records' names carry
    (a setting's key, a step event's kind, a disposition's instruction) in words."""
    stored = entry.record_label or f"#{entry.record_id}"
    if entry.table_name == "setting":
        return setting_label(stored)
    if entry.table_name == "step_event" and entry.changes:
        value = lambda field: (entry.changes.get(field) or [None, None])[1 if entry.action != "delete" else 0]
        steps = " → ".join(str(step) for step in (value("from_step"), value("to_step")) if step is not None)
        kind = _shown_value(view, entry.table_name, "kind", value("kind"))
        return f"{_shown_value(view, entry.table_name, 'case_id', value('case_id'))}: {kind} ({steps})"
    if entry.table_name == "disposition" and " / " in stored:
        case, code = stored.rsplit(" / ", 1)
        return f"{case} / {label(Instruction, code)}"
    return stored


def _audit_record(view, context, entry, name):
    return f"{RECORD_KINDS.get(entry.table_name, entry.table_name)} {_stored_label(view, entry)}"


def _audit_changes(view, context, entry, name):
    """`Title: old → new; Step: 4 → 5`; a new record lists what it was made with, a deleted one what it held."""
    parts = []
    for field, (old, new) in (entry.changes or {}).items():
        if field == "id":
            continue
        label = _field_label(view, entry.table_name, field)
        if entry.action == "create":
            parts.append(f"{label}: {_shown_value(view, entry.table_name, field, new)}")
        elif entry.action == "delete":
            parts.append(f"{label}: {_shown_value(view, entry.table_name, field, old)}")
        else:
            parts.append(f"{label}: {_shown_value(view, entry.table_name, field, old)} → "
                         f"{_shown_value(view, entry.table_name, field, new)}")
    return "; ".join(parts) or "—"


def _audit_actor(view, context, entry, name):
    return str(entry.actor.full_name or entry.actor.username) if entry.actor else gettext("System")


class AuditLogView(ReadOnlyModelView):
    """Each row reads as a sentence: when, who, did what, to which record, which fields from what to what."""

    screen = "auditlog"
    column_list = ("at", "actor", "action", "record", "changes")
    column_labels = {"at": _l("When"), "actor": _l("By"), "actor.full_name": _l("By"), "action": _l("Action"),
                     "table_name": _l("Kind of record"), "record_id": _l("Record ID"), "record": _l("Record"),
                     "record_label": _l("Record"), "changes": _l("Changes")}
    column_details_list = ("at", "actor", "action", "record", "record_id", "changes")
    column_export_list = ("at", "actor", "action", "record", "changes")
    column_searchable_list = ("record_label", "record_id")
    column_sortable_list = ("at", "action")
    column_filters = ("action", "table_name", "at", "actor.full_name")
    column_choices = {"action": AUDIT_ACTIONS, "table_name": list(RECORD_KINDS.items())}
    column_default_sort = ("at", True)
    column_formatters = {"actor": _audit_actor, "record": _audit_record, "changes": _audit_changes}
    column_formatters_export = column_formatters

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if isinstance(rows, list):
            g.audit_references = _load_references(self, rows)
        return count, rows


def _load_references(view, entries) -> dict:
    """The names of the records a page of audit rows names by id, {(model, id): name}, so that each
    change shows a name (`_shown_value`) without a query per row. The kinds whose name is a few of
    their own columns (STR_COLUMNS) come in one statement for the page, the others one per kind;
    an id of a deleted record is simply not there."""
    wanted: dict = {}
    for entry in entries:
        model = next((screen.model for screen in _screens_of(view, entry.table_name)), None)
        for field, values in (entry.changes or {}).items() if model is not None else ():
            column = model.__table__.columns.get(field)
            if column is None or not column.foreign_keys:
                continue
            target = next(iter(column.foreign_keys)).column.table
            related = next((m.class_ for m in db.Model.registry.mappers if m.local_table is target), None)
            if related is not None:
                wanted.setdefault(related, set()).update(
                    value for value in values if isinstance(value, int) and not isinstance(value, bool))
    wanted = {related: ids for related, ids in wanted.items() if ids}
    names: dict = {}
    by_columns = [related for related in wanted if related.__name__ in STR_COLUMNS]
    if by_columns:
        width = max(len(STR_COLUMNS[related.__name__]) for related in by_columns)
        parts = [select(literal(index).label("kind"), related.id.label("id"),
                        *(getattr(related, name).label(f"c{n}") for n, name in enumerate(STR_COLUMNS[related.__name__])),
                        *(null().label(f"c{n}") for n in range(len(STR_COLUMNS[related.__name__]), width)))
                 .where(related.id.in_(wanted[related])) for index, related in enumerate(by_columns)]
        for kind, record_id, *values in db.session.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            related = by_columns[kind]
            names[(related, record_id)] = label_from_columns(related, values[:len(STR_COLUMNS[related.__name__])])
    for related, ids in wanted.items():
        if related.__name__ not in STR_COLUMNS:
            names.update(((related, row.id), str(row))
                         for row in db.session.execute(select(related).where(related.id.in_(ids))).scalars())
    return names


class LockedNowFilter(BaseSQLAFilter):
    """Rows whose lock has not ended yet (the others only count failures, or have expired)."""

    def __init__(self):
        super().__init__(LoginThrottle.locked_until, _l("Locked now"), options=[("1", _l("Yes"))])

    def apply(self, query, value, alias=None):
        return query.filter(LoginThrottle.locked_until > utcnow())

    def operation(self):
        return _l("is")


class LoginLockView(SecuredModelView):
    """Failed logins per account and address (models/login_throttle.py). Deleting a row, or the
    "Lift lock" action, forgets its failures and so lifts its lock; the audit log records it."""

    screen = "loginlock"
    column_list = ("username", "remote_addr", "failures", "locked_until", "last_attempt_at")
    column_labels = {"username": _l("Username"), "remote_addr": _l("IP address"), "failures": _l("Failed attempts"),
                     "locked_until": _l("Locked until"), "window_ends_at": _l("Failures forgotten at"),
                     "last_attempt_at": _l("Last attempt")}
    column_searchable_list = ("username", "remote_addr")
    column_filters = (LockedNowFilter(), "username", "remote_addr", "last_attempt_at")
    column_default_sort = ("last_attempt_at", True)
    column_descriptions = {"username": _l("As typed at the login; it need not be an existing account.")}

    @action("delete", _l("Lift lock"), _l("Lift the lock of the selected accounts at these addresses?"))
    def action_delete(self, ids):
        """The bulk delete, named for what it does here; each row is deleted through the ORM (audited)."""
        rows = self.get_query().filter(LoginThrottle.id.in_(ids)).all()
        for row in rows:
            db.session.delete(row)
        db.session.commit()
        if rows:
            flash(ngettext("%(num)d lock was lifted.", "%(num)d locks were lifted.", len(rows)), "success")
