"""The agreement register: signed agreements, their validity, and renewals."""
from datetime import timedelta

from flask import url_for
from flask_admin.contrib.sqla.filters import BaseSQLAFilter
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms.validators import Optional, ValidationError

from admin_app import permissions
from admin_app.settings import current_settings
from admin_app.i18n import show_date
from admin_app.admin.base import SafeAjaxLoader, SecuredModelView
from admin_app.admin.cases import CASE_LABELS, case_loader
from models import Agreement, CaseStatus, db
from models.agreement import agreement_number, agreement_problems
from models.sla import local_today


class ValidityFilter(BaseSQLAFilter):
    """Active today, expired, or expiring within the settings' window (90 days by default)."""

    def __init__(self):
        super().__init__(Agreement.valid_until, _l("Validity"),
                         options=[("active", _l("Active")), ("expired", _l("Expired")),
                                  ("expiring", _l("Expiring soon"))])

    def apply(self, query, value, alias=None):
        today = local_today()
        if value == "active":
            return query.filter(Agreement.valid_from <= today, Agreement.valid_until >= today)
        if value == "expired":
            return query.filter(Agreement.valid_until < today)
        window = current_settings().expiring_within_days
        return query.filter(Agreement.valid_until >= today, Agreement.valid_until <= today + timedelta(days=window))

    def operation(self):
        return _l("is")


def _validity(view, context, agreement, name):
    left = (agreement.valid_until - local_today()).days
    if left < 0:
        badge = Markup('<span class="badge badge-secondary">{}</span>').format(gettext("expired"))
    elif left <= current_settings().expiring_within_days:
        badge = Markup('<span class="badge badge-warning">{}</span>').format(
            gettext("%(days)d days left", days=left))
    else:
        badge = ""
    return Markup("{} {}").format(show_date(agreement.valid_until), badge)


def _renew_link(view, context, agreement, name):
    if not view.can_renew:
        return ""
    return Markup('<a class="btn btn-sm btn-outline-primary" href="{}">{}</a>').format(
        url_for("case.create_view", renews=agreement.id), gettext("Renew"))


class AgreementView(SecuredModelView):
    screen = "agreement"
    prefill_fields = ("case",)
    column_list = ("number", "case", "case.agreement_type", "parties", "signed_on", "valid_from", "valid_until",
                   "follows", "renew")
    column_labels = {**CASE_LABELS, "number": _l("Agreement no."), "case.agreement_type": _l("Type"),
                     "parties": _l("Parties"), "signed_on": _l("Signed"), "valid_from": _l("Valid from"),
                     "valid_until": _l("Valid until"), "follows": _l("Follows KSB"), "renew": ""}
    column_searchable_list = ("number", "parties", "case.registration_number", "case.title")
    column_filters = (ValidityFilter(), "case.agreement_type", "signed_on", "valid_until")
    column_sortable_list = ("number", "signed_on", "valid_from", "valid_until")
    column_default_sort = ("valid_until", False)
    column_formatters = {"valid_until": _validity, "renew": _renew_link}
    column_export_list = ("number", "case", "case.agreement_type", "parties", "signed_on", "valid_from",
                          "valid_until", "follows", "note")
    form_columns = ("case", "number", "signed_on", "valid_from", "valid_until", "parties", "follows", "note")
    form_args = {"number": {"description": _l("Leave empty to take the next register number."),
                            "validators": [Optional()]}}
    form_ajax_refs = {
        "case": case_loader("case", filters=[f"status = '{CaseStatus.DONE}'"]),
        "follows": SafeAjaxLoader("follows", db, Agreement, fields=["number", "parties"],
                                        order_by=Agreement.signed_on.desc(), page_size=20),
    }

    @property
    def can_renew(self) -> bool:
        return permissions.can(current_user, permissions.CREATE, "case")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        problems = agreement_problems(model)
        if problems:
            raise ValidationError(" ".join(gettext(problem) for problem in problems))
        if not (model.number or "").strip():
            model.number = agreement_number(db.session, model.case.agreement_type, model.signed_on)
