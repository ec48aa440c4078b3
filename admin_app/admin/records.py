"""Screens of reference data and records: parties, complaints, users, settings, audit log."""
from datetime import datetime, timedelta, timezone

from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms import PasswordField
from wtforms.validators import Email, Length, Optional, ValidationError

from admin_app.admin.base import ReadOnlyModelView, SecuredModelView, current_settings
from admin_app.admin.cases import case_loader
from admin_app.labels import choices, label
from models import Complaint, ComplaintChannel, ComplaintStatus, PartyKind, Role
from models.complaint import ANSWERED, is_response_overdue, settle_response
from models.setting import parse_setting

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
    form_args = {"username": {"validators": [Length(min=3, max=64)]},
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

    def on_model_delete(self, model):
        if model.id == current_user.id:
            raise ValidationError(gettext("You cannot delete your own account."))


SETTING_LABELS = {
    "sla_days_ksb": _l("Time limit of a KSB (days)"),
    "sla_days_pks": _l("Time limit of a PKS (days)"),
    "sla_working_days": _l("Count working days instead of calendar days (yes/no)"),
    "due_soon_days": _l("Cases due within this many days are 'due soon'"),
    "complaint_response_days": _l("Response target of a complaint (days)"),
    "upload_max_mb": _l("Largest document file (MB)"),
    "expiring_within_days": _l("Agreements expiring within this many days are 'expiring soon'"),
    "letter_number_invitation": _l("Number pattern of invitations ({seq}, {year}, {case})"),
    "letter_number_memo": _l("Number pattern of Nota Dinas ({seq}, {year}, {case})"),
}


class SettingView(SecuredModelView):
    screen = "setting"
    column_list = ("key", "value", "updated_at")
    column_labels = {"key": _l("Setting"), "value": _l("Value"), "updated_at": _l("Updated")}
    column_formatters = {"key": lambda view, context, setting, name: SETTING_LABELS.get(setting.key, setting.key)}
    column_descriptions = {"value": _l("Whole numbers of days; yes/no for working days.")}
    column_default_sort = "key"
    form_columns = ("value",)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        try:
            parse_setting(model.key, model.value)
        except (KeyError, ValueError):
            raise ValidationError(gettext("This value is not valid for %(key)s.", key=model.key))


class AuditLogView(ReadOnlyModelView):
    screen = "auditlog"
    column_list = ("at", "actor", "action", "table_name", "record_id", "record_label", "changes")
    column_labels = {"at": _l("When"), "actor": _l("By"), "action": _l("Action"), "table_name": _l("Table"),
                     "record_id": _l("Record ID"), "record_label": _l("Record"), "changes": _l("Changes")}
    column_searchable_list = ("table_name", "record_label", "record_id")
    column_filters = ("action", "table_name", "at", "actor.username")
    column_default_sort = ("at", True)
    column_formatters = {"changes": lambda view, context, model, name: "; ".join(
        f"{field}: {old!r} → {new!r}" for field, (old, new) in (model.changes or {}).items())}


