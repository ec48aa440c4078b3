"""The one secured base view every screen derives from.

It enforces the permission table on every page and POST (403 for a logged-in user
without the right, login for the anonymous), refuses stale forms, and turns database
errors into plain messages while the details go to the log.
"""
import logging

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin.babel import gettext as admin_gettext
from flask_admin.base import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import typefmt
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from datetime import date, datetime
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField
from wtforms.validators import ValidationError

from admin_app import permissions
from admin_app.i18n import show_date, show_datetime

log = logging.getLogger(__name__)

STALE_MESSAGE = _l("This record was changed by someone else after you opened it. "
                   "Reload the page to see the current data; your changes were not saved.")
INTEGRITY_MESSAGE = _l("The change breaks a rule of the data (a required field is empty, a value "
                       "is already used, or other records still refer to this one). Nothing was changed.")
DATABASE_MESSAGE = _l("The database could not complete the change. Nothing was changed; "
                      "the details were logged for the administrator.")

# Flask-Admin view function -> the permission letter it needs.
VIEW_VERBS = {
    "index_view": permissions.LIST, "details_view": permissions.LIST,
    "create_view": permissions.CREATE, "edit_view": permissions.EDIT,
    "delete_view": permissions.DELETE, "export": permissions.EXPORT,
    "ajax_update": permissions.EDIT,
}

FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    date: lambda view, value, name: show_date(value),
    datetime: lambda view, value, name: show_datetime(value),
}


class SecuredModelView(ModelView):
    """Configuration-only subclasses set `screen` (the permission table's row) and columns."""

    screen: str = ""
    # Custom actions name the letter they need; `delete` is Flask-Admin's bulk delete.
    action_verbs: dict[str, str] = {"delete": permissions.DELETE}

    can_view_details = True
    can_set_page_size = True
    page_size = 25
    page_size_options = (25, 50, 100)
    column_display_pk = False
    column_type_formatters = FORMATTERS
    column_type_formatters_detail = FORMATTERS
    export_types = ["csv", "xlsx"]
    form_excluded_columns = ("version", "created_at", "updated_at")
    column_export_exclude_list = ("version",)

    # -- permissions --------------------------------------------------------------------------
    def _allowed(self, verb: str) -> bool:
        return permissions.can(current_user, verb, self.screen)

    @property
    def can_create(self) -> bool:
        return self._allowed(permissions.CREATE)

    @property
    def can_edit(self) -> bool:
        return self._allowed(permissions.EDIT)

    @property
    def can_delete(self) -> bool:
        return self._allowed(permissions.DELETE)

    @property
    def can_export(self) -> bool:
        return self._allowed(permissions.EXPORT)

    def is_accessible(self) -> bool:
        return self._allowed(permissions.LIST)

    def is_visible(self) -> bool:
        return self.is_accessible()

    def is_action_allowed(self, name: str) -> bool:
        verb = self.action_verbs.get(name)
        return verb is not None and self._allowed(verb) and super().is_action_allowed(name)

    def _handle_view(self, name: str, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not self.is_accessible():
            abort(403)
        verb = VIEW_VERBS.get(name)
        if name == "ajax_lookup":  # related-record search serves forms only
            if not (self.can_create or self.can_edit):
                abort(403)
        elif verb is not None and not self._allowed(verb):
            abort(403)
        return None

    @expose("/action/", methods=("POST",))
    def action_view(self):
        """Refuse, with 403, an action the user's role may not run (Flask-Admin just skips it)."""
        name = request.form.get("action", "")
        if name not in self._actions_data or not self.is_action_allowed(name):
            abort(403)
        return self.handle_action()

    # -- stale forms (two tabs) -------------------------------------------------------------------
    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form_class = type(form)
        if not hasattr(form_class, "row_version"):
            raise RuntimeError("edit forms carry row_version")
        if request.method == "GET" and obj is not None:
            form.row_version.data = str(obj.version)
        return form

    def get_edit_form(self):
        form_class = super().get_edit_form()

        class VersionedEditForm(form_class):
            row_version = HiddenField()

            def populate_obj(self, obj):
                # The version is checked, never copied onto the record.
                for name, field in self._fields.items():
                    if name != "row_version":
                        field.populate_obj(obj, name)

        return VersionedEditForm

    def on_model_change(self, form, model, is_created: bool) -> None:
        if not is_created:
            sent = getattr(form, "row_version", None)
            if sent is None or sent.data != str(model.version):
                raise ValidationError(str(STALE_MESSAGE))

    # -- errors -----------------------------------------------------------------------------------
    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, ValidationError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, StaleDataError):
            log.warning("stale write refused on %s: %s", self.screen, exc)
            flash(str(STALE_MESSAGE), "error")
            return True
        if isinstance(exc, IntegrityError):
            log.warning("integrity error on %s: %s", self.screen, exc)
            flash(str(INTEGRITY_MESSAGE), "error")
            return True
        if isinstance(exc, SQLAlchemyError):
            log.exception("database error on %s", self.screen)
            flash(str(DATABASE_MESSAGE), "error")
            return True
        return super().handle_view_exception(exc)


class ReadOnlyModelView(SecuredModelView):
    """History screens: listed, searched, exported; never created, edited or deleted here."""

    can_create = False
    can_edit = False
    can_delete = False
    action_verbs: dict[str, str] = {}
