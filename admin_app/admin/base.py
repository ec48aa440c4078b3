"""The one secured base view every screen derives from.

It enforces the permission table on every page and POST (403 for a logged-in user
without the right, login for the anonymous), refuses stale forms, and turns database
errors into plain messages while the details go to the log.
"""
import csv
import io
import json
import logging
import re
import tempfile
from datetime import date, datetime, timezone
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask_admin.base import expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import DEFAULT_PAGE_SIZE, QueryAjaxModelLoader
from flask_admin.form import BaseForm
from flask_admin.helpers import get_redirect_target
from flask_admin.model import typefmt
from flask_admin.model.template import BaseListRowAction, EditRowAction, ViewRowAction
from flask_babel import LazyString, get_locale, get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from sqlalchemy import BigInteger, and_, func, literal_column, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, aliased, joinedload
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.utils import secure_filename
from wtforms import DateField, DateTimeField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from admin_app import permissions
from admin_app.admin import search
from admin_app.auth import login_redirect
from admin_app.dates import CityDateTimeField, TypedDateField, picker_locale
from admin_app.errors import database_unreachable
from admin_app.i18n import form_translations, show_date, show_datetime, show_number
from admin_app.labels import explain
from models import db
from models.base import Refusal
from models.sla import CITY_TIME_ZONE

log = logging.getLogger(__name__)


def _plain_cell(value, translated: dict):
    """Export cells: dates stay dates, numbers numbers, everything else (labels, Markup) text.

    Choice labels are the same lazy strings on every row: each is translated once per export.
    """
    if isinstance(value, datetime):  # stored in UTC; spreadsheets get Probolinggo time, zone-less
        return city_time(value)
    if value is None or isinstance(value, (int, float, date)):
        return value
    if isinstance(value, LazyString):
        if id(value) not in translated:
            translated[id(value)] = str(value)
        return translated[id(value)]
    return str(value)


# A cell starting with one of these is a formula to Excel and LibreOffice (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
# Probolinggo keeps WIB, UTC+7, every day since 1964: an export's times are moved by it, not looked up.
_CITY_OFFSET = datetime(2000, 1, 1, tzinfo=CITY_TIME_ZONE).utcoffset()


def inert_csv_row(values) -> list:
    """A text that a spreadsheet would run as a formula gets a leading apostrophe: shown, not run.
    The cells of a row in one pass (an export writes millions of cells)."""
    return [("'" + value) if value.__class__ is str and value[:1] in _FORMULA_FIRST else value for value in values]


def city_time(value: datetime) -> datetime:
    """A stored UTC time as the zone-less Probolinggo time a spreadsheet gets (as _plain_cell does)."""
    if value.year < 1970:
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(CITY_TIME_ZONE).replace(tzinfo=None)
    if value.tzinfo is None:
        return value + _CITY_OFFSET
    return value.replace(tzinfo=None) - value.utcoffset() + _CITY_OFFSET


def inert_xlsx_cell(sheet, value):
    """Texts go in as text cells: openpyxl would store `=HYPERLINK(...)` as a live formula and
    `#N/A` as an error. Only those get a cell of their own; openpyxl stores any other text as text."""
    if not isinstance(value, str) or not (value.startswith("=") or value in ERROR_CODES):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


# The columns each model's __str__ reads, by model name. An export's column that is a to-one
# relationship (a case's subject, its OPD, who it is assigned to) is read as these columns of a join
# and written by the model's own __str__, without loading the related rows; a relationship to a
# model not named here is exported through the objects, as Flask-Admin does.
STR_COLUMNS = {"Party": ("name",), "User": ("full_name", "username"), "Case": ("registration_number", "title"),
               "Agreement": ("number",)}
def label_from_columns(model, values) -> str:
    """What `model.__str__` writes for a record, from its STR_COLUMNS values alone (no record loaded)."""
    return str(model.__str__(SimpleNamespace(**dict(zip(STR_COLUMNS[model.__name__], values)))))


# Labels of related rows remembered during one export; beyond this many the memory starts over.
LABEL_MEMO_SIZE = 10_000


def _type_cells(view, name: str, kind: type, translated: dict):
    """How a value of type `kind` in the export column `name` becomes its cell, exactly as
    get_export_value (the export's type formatter) then _plain_cell make it; None: the value is the cell."""
    formatter = next((fmt for typeobj, fmt in view.column_type_formatters_export.items()
                      if issubclass(kind, typeobj)), None)
    if formatter is None:
        if kind in (str, int, float, bool, date, type(None)):
            return None
        return lambda value: _plain_cell(value, translated)
    if kind is type(None):
        empty = _plain_cell(formatter(view, None, name), translated)
        return lambda value: empty
    return lambda value: _plain_cell(formatter(view, value, name), translated)


def export_converter(view, name: str, translated: dict):
    """The function that turns the stored values of export column `name` into cells: the choice
    labels translated once into a dict, else the work for each type of value chosen at its first value."""
    choices = view._column_choices_map.get(name)
    if choices:  # as get_export_value: the label, or the value itself when it has none
        labels = {key: _plain_cell(text, translated) for key, text in choices.items() if text}
        empty = view.column_type_formatters_export.get(type(None))  # no value: as _get_list_value writes it
        nothing = _plain_cell(empty(view, None, name) if empty is not None else None, translated)

        def choice_cell(value):
            try:
                return labels[value]
            except (KeyError, TypeError):
                return nothing if value is None else _plain_cell(value, translated)
        return choice_cell
    by_type: dict = {}

    def typed_cell(value):
        kind = value.__class__
        try:
            work = by_type[kind]
        except KeyError:
            work = by_type[kind] = _type_cells(view, name, kind, translated)
        return value if work is None else work(value)
    return typed_cell


STALE_MESSAGE = _l("This record was changed by someone else after you opened it. "
                   "Reload the page to see the current data; your changes were not saved.")
INTEGRITY_MESSAGE = _l("The change breaks a rule of the data (a required field is empty, a value "
                       "is already used, or other records still refer to this one). Nothing was changed.")
UNEXPECTED_MESSAGE = _l("The change could not be completed. Nothing was changed; the details were logged "
                        "for the administrator.")
DATABASE_MESSAGE = _l("The database could not complete the change. Nothing was changed; "
                      "the details were logged for the administrator.")

# Flask-Admin view function -> the permission letter it needs on its own screen, or (letter, screen)
# when a page of one screen does another screen's work.
VIEW_VERBS = {
    "index_view": permissions.LIST, "details_view": permissions.LIST,
    "create_view": permissions.CREATE, "edit_view": permissions.EDIT,
    "delete_view": permissions.DELETE, "export": permissions.EXPORT,
    "ajax_update": permissions.EDIT, "move_view": permissions.EDIT,
    "action_view": permissions.LIST,  # each action then needs its own letter (action_verbs)
    "sheet_view": permissions.LIST, "sheet_docx_view": permissions.LIST, "download_view": permissions.LIST,
    # The letter page (GET) only asks; confirming it (POST) takes the number.
    "letter_view": permissions.CREATE, "issue_letter_view": permissions.CREATE,
    "recompute_view": permissions.EDIT,
    "reassign_view": permissions.ASSIGN,
    # The case's records, worked from the case page: models/disposition.py decides who, among its
    # readers, may mark a disposition done; a preview is read like a download.
    "done_view": permissions.LIST, "held_view": permissions.EDIT, "preview_view": permissions.LIST,
    # The case's papers; filing the sheet also needs the document screen's CREATE (checked there).
    "file_view": permissions.LIST, "file_sheet_view": permissions.LIST,
    # A document uploaded on the case page is the document screen's creation.
    "upload_view": (permissions.CREATE, "document"),
    # The words of the date picker and the select boxes in the user's language (static/dates.js).
    "locale_script": permissions.LIST,
}

def _yes_no_icon(value: bool) -> Markup:
    """Flask-Admin's tick or dash, titled in the user's words (its own title says `active: true`)."""
    word = gettext("yes") if value else gettext("no")
    return Markup('<span class="fa {}" title="{}"></span><span class="sr-only">{}</span>').format(
        "fa-check-circle" if value else "fa-minus-circle", word, word)


FORMATTERS = {  # datetime before date: a datetime is also a date to isinstance()
    **typefmt.BASE_FORMATTERS,
    type(None): lambda view, value, name: "",  # an empty cell, never "None"
    bool: lambda view, value, name: _yes_no_icon(value),
    datetime: lambda view, value, name: show_datetime(value),
    date: lambda view, value, name: show_date(value),
    float: lambda view, value, name: show_number(value, 2),  # 1,8 in Indonesian
    Decimal: lambda view, value, name: show_number(value, 2),
}
# A detail page names every field: a missing value reads as a dash there.
DETAIL_FORMATTERS = {**FORMATTERS, type(None): lambda view, value, name: "—"}


# Ids, pages and offsets beyond these are not rows of ours: answered as "not found", never sent
# to the database (SQLite raises OverflowError past 2**63, PostgreSQL refuses 'abc' for an integer).
MAX_PAGE = 100_000


def whole_number(value, digits: int = 18) -> int | None:
    """A typed or posted whole number of at most `digits` ASCII digits; None for anything else
    ("²".isdigit() is true, but int("²") fails)."""
    text = "" if value is None else str(value).strip()
    return int(text) if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) else None


def parse_id(model, value) -> int | str | None:
    """A linked or posted id as `model`'s primary key, or None when it cannot be one of its rows."""
    column = sa_inspect(model).primary_key[0]
    text = "" if value is None else str(value).strip()
    if column.type.python_type is int:
        number = whole_number(text)
        # PostgreSQL refuses an id beyond the column's type instead of finding no row.
        limit = 2**63 - 1 if isinstance(column.type, BigInteger) else 2**31 - 1
        return number if number is not None and number <= limit else None
    return text if 0 < len(text) <= (getattr(column.type, "length", None) or 255) else None


class SafeAjaxLoader(QueryAjaxModelLoader):
    """The related-record search box: a crafted id, offset or limit finds nothing instead of failing."""

    def get_one(self, pk):
        pk = parse_id(self.model, pk)
        return None if pk is None else super().get_one(pk)

    def get_list(self, term, offset=0, limit=DEFAULT_PAGE_SIZE):
        # Written out rather than inherited: Flask-Admin's `if self.order_by:` raises for an
        # ordering like `Case.registration_number.desc()` ("Boolean value of this clause").
        # The typed text is one phrase, wildcards literal; a case box is served by the case search index.
        query = self.get_query().filter(search.text_search(self._cached_fields, term or ""))
        if self.filters:
            query = query.filter(and_(*(text(f"{self.model.__tablename__.lower()}.{value}")
                                        for value in self.filters)))
        if self.order_by is not None:
            query = query.order_by(self.order_by)
        offset = min(max(offset or 0, 0), MAX_PAGE)
        limit = min(max(limit or DEFAULT_PAGE_SIZE, 1), 100)
        return query.offset(offset).limit(limit).all()


def attempt(work, what: str):
    """Run `work()` and commit it as one change. A refusal (a models Refusal or a form's
    ValidationError), a stale row or a database error rolls all of it back and is flashed in the
    user's words; then None is returned, else what `work` returned (True for None)."""
    try:
        result = work()
        db.session.commit()
        return True if result is None else result
    except Refusal as refused:
        message = explain(refused)
    except ValidationError as refused:
        message = str(refused)
    except StaleDataError:
        message = str(STALE_MESSAGE)
    except SQLAlchemyError:
        log.exception("%s failed", what)
        message = str(DATABASE_MESSAGE)
    db.session.rollback()
    flash(message, "error")
    return None


def refuse_field(form, name: str, message: str):
    """A rule checked again on the server failed for one field: the message shows at the field
    and at the top of the form, and nothing is saved."""
    field = getattr(form, name, None)
    if field is not None:
        field.errors = [*field.errors, message]
    raise ValidationError(message)


FIRST_YEAR, LAST_YEAR = 1900, 2199


def plausible_date(form, field) -> None:
    """A date of this world's administration: year 9999 or year 1 would overflow the due-date and
    time-zone arithmetic, and no letter of the section is dated there."""
    value = field.data
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValidationError(gettext("Enter a date between the years %(first)d and %(last)d.",
                                      first=FIRST_YEAR, last=LAST_YEAR))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def select2_messages() -> dict:
    """The texts of the bundled select2 3.5 (it ships no Indonesian locale); `%(num)d` is filled in
    by static/select2_locale.js. Singular and plural come from the catalogue as they are."""
    def ungettext(singular: str, plural: str) -> dict[str, str]:
        # Named as the extractor's plural keyword so pybabel finds the two texts; gives both forms
        # translated, with `%(num)d` left for the script (the count is known only in the browser).
        translations = get_translations()
        return {"one": translations.ungettext(singular, plural, 1), "other": translations.ungettext(singular, plural, 2)}

    return {
        "noMatches": gettext("No matches found"),
        "searching": gettext("Searching…"),
        "loadMore": gettext("Loading more results…"),
        "ajaxError": gettext("Loading failed"),
        "inputTooShort": ungettext("Please enter %(num)d or more character", "Please enter %(num)d or more characters"),
        "inputTooLong": ungettext("Please delete %(num)d character", "Please delete %(num)d characters"),
        "selectionTooBig": ungettext("You can only select %(num)d item", "You can only select %(num)d items"),
        "matches": ungettext("%(num)d result is available, use up and down arrow keys to navigate.",
                             "%(num)d results are available, use up and down arrow keys to navigate."),
    }


class PanelForm(BaseForm):
    """Every text field is stripped, a required one must hold more than blanks, one declared
    Optional() in `form_args` is optional even over a NOT NULL column (the view fills it), and
    dates and date-times are typed text boxes (admin_app/dates.py), date-times in the city's time zone."""

    class Meta(BaseForm.Meta):
        def get_translations(self, form):
            return form_translations

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            # WTForms' DateField is a DateTimeField too: dates first. Flask-Admin's converter gives
            # its picker widget and ISO format; the typed fields bring their own.
            if issubclass(field_class, DateField) and not issubclass(field_class, TypedDateField):
                unbound_field.field_class = field_class = TypedDateField
            elif issubclass(field_class, DateTimeField) and \
                    not issubclass(field_class, (TypedDateField, CityDateTimeField)):
                unbound_field.field_class = field_class = CityDateTimeField
            if issubclass(field_class, (DateField, DateTimeField)) and \
                    plausible_date not in unbound_field.kwargs.get("validators", ()):
                unbound_field.kwargs["validators"] = [*unbound_field.kwargs.get("validators", ()), plausible_date]
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                # The unbound field is shared by every form of the class: change it once.
                kwargs = unbound_field.kwargs
                if _strip not in kwargs.get("filters", ()):
                    kwargs["filters"] = [*kwargs.get("filters", ()), _strip]
                validators = kwargs.get("validators", ())
                if any(isinstance(v, Optional) for v in validators):
                    # Else the browser's `required` and the label's star would refuse an empty value.
                    validators = [v for v in validators if not isinstance(v, (InputRequired, DataRequired))]
                kwargs["validators"] = [DataRequired() if isinstance(v, InputRequired) else v for v in validators]
            return unbound_field.bind(form=form, **options)


# A row id no table holds, written by url_for and by HTML escaping as it is (digits only).
ROW_MARK = "908070605040302010"


def row_url(view, endpoint: str, row_id: int) -> str:
    """view.get_url(endpoint, id=row_id) for a whole-number id, built once per request and endpoint
    and copied for each row (a list asks it on every row)."""
    made = g.setdefault("row_urls", {})
    key = (view.endpoint, endpoint)
    if key not in made:
        made[key] = view.get_url(endpoint, id=ROW_MARK)
    return made[key].replace(ROW_MARK, str(int(row_id)))


class LinkRenderedOnce(BaseListRowAction):
    """A list's view or edit button, rendered once per page for a placeholder id and copied with each
    row's own: its macro, url_for and title cost the same on every row (0.05 ms), on every page."""

    def __init__(self, action: BaseListRowAction):
        super().__init__(action.title)
        self.action, self.html = action, None

    def render(self, context, row_id, row):
        if self.html is None:
            self.html = str(self.action.render(context, ROW_MARK, row))
        return Markup(self.html.replace(ROW_MARK, str(int(row_id))))


class SecuredModelView(ModelView):
    """Configuration-only subclasses set `screen` (the permission table's row) and columns."""

    screen: str = ""
    # Custom actions name the letter they need; `delete` is Flask-Admin's bulk delete.
    action_verbs: dict[str, str] = {"delete": permissions.DELETE}

    form_base_class = PanelForm
    can_view_details = True
    can_set_page_size = True
    page_size = 25
    page_size_options = (25, 50, 100)
    list_template = "admin/panel_list.html"  # its pager knows a count that stopped at the cap
    column_display_pk = False
    column_type_formatters = FORMATTERS
    column_type_formatters_detail = DETAIL_FORMATTERS
    export_types = ["csv", "xlsx"]
    column_formatters_export: dict = {}  # exports carry values, not the badges and links of the screens
    form_excluded_columns = ("version", "created_at", "updated_at")
    column_export_exclude_list = ("version",)
    # Links name a filter (`flt0_overdue_is=1`), never its position in the list of filters.
    named_filter_urls = True

    def _get_filter_groups(self):
        """The filters as the list's script gets them, translated once per language: the groups
        are fixed once the view has made its filters (Flask-Admin translates them on every page)."""
        if not self._filter_groups:
            return None
        kept = getattr(self, "_translated_filter_groups", None)
        if kept is None or kept[0] is not self._filter_groups:
            kept = self._translated_filter_groups = (self._filter_groups, {})
        language = str(get_locale())
        if language not in kept[1]:
            kept[1][language] = super()._get_filter_groups()
        return kept[1][language]

    def get_list_row_actions(self):
        """Flask-Admin's row buttons; the view and edit links of a table with whole-number ids made
        once per page (LinkRenderedOnce). Made anew per request, so a page's copy never outlives it."""
        actions = super().get_list_row_actions()
        key = sa_inspect(self.model).primary_key
        if len(key) != 1 or key[0].type.python_type is not int:
            return actions
        return [LinkRenderedOnce(action) if type(action) in (ViewRowAction, EditRowAction) else action
                for action in actions]

    def get_filter_arg(self, index, flt) -> str:
        """The filter's English name and operation, whatever the user's language: links and bookmarks
        keep working across a language switch (Flask-Admin slugs the translated name)."""
        original = lambda text: str(getattr(text, "_args", (text,))[0])
        name = f"{original(flt.name)} {original(flt.operation())}".lower()
        return re.sub(r"\s+", "_", re.sub(r"[^\w\s]", "", name)).strip("_")

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
            return login_redirect()
        if not self.is_accessible():
            abort(403)
        if name == "ajax_lookup":  # related-record search serves forms only
            if not (self.can_create or self.can_edit):
                abort(403)
            return None
        verb = VIEW_VERBS.get(name)
        verb, screen = verb if isinstance(verb, tuple) else (verb, self.screen)
        if verb is None or not permissions.can(current_user, verb, screen):  # undeclared: refused
            abort(403)
        if name == "index_view":
            return self.remembered_list()
        return None

    @expose("/action/", methods=("POST",))
    def action_view(self):
        """Run a list action: 403 when the role may not (Flask-Admin would skip it silently), and the
        row ids typed as the primary key (PostgreSQL refuses `integer = varchar`)."""
        name = request.form.get("action", "")
        if name not in self._actions_data or not self.is_action_allowed(name):
            abort(403)
        response = self._actions_data[name][0](self.typed_ids(request.form.getlist("rowid")))
        return response or redirect(get_redirect_target() or self.get_url(".index_view"))

    def typed_ids(self, ids: list[str]) -> list:
        """Posted ids converted to the primary key's type; ids that cannot be one of ours are dropped."""
        return [pk for pk in (parse_id(self.model, value) for value in ids) if pk is not None]

    def get_one(self, id):
        """The row of a linked or posted id; None (a 404 or "not found") for one that cannot exist."""
        pk = parse_id(self.model, id)
        return None if pk is None else super().get_one(str(pk))

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        view_args.page = min(max(view_args.page or 0, 0), MAX_PAGE)
        return view_args

    # -- the list: a page and how many rows match, the same cost at any size of table ---------------
    # Flask-Admin counts every matching row on every page, exactly (and as `count('*')` with a bound
    # string, which costs SQLite its count(*) fast path): at a million step events that count was
    # 92% of the page. Of the ways to keep a page flat, a capped count is the one that still tells
    # the exact number whenever it is small enough to read, works the same for every filter and
    # search (PostgreSQL's estimate only knows the unfiltered table) and keeps numbered pages
    # (keyset paging would lose them): at most `count_cap` + 1 rows are counted, and beyond the cap
    # the list says "more than 10,000" and pages on with "next".
    count_cap = 10_000

    def get_count_query(self):
        """The rows of the list as bare `SELECT 1`s; Flask-Admin applies the search and the filters
        to it as to the page, then `count_rows` counts it up to the cap."""
        return db.session.query(literal_column("1")).select_from(self.model)

    def count_rows(self, count_query, at_least: int = 0) -> "RowCount":
        """How many rows `count_query` has: exact up to `count_cap` (or up to `at_least`, the rows
        through the page shown, so a page past the cap still knows whether a next one follows),
        else a RowCount that says "more than" and is one more than the rows counted."""
        limit = max(self.count_cap, at_least)
        counted = db.session.execute(
            select(func.count()).select_from(count_query.limit(limit + 1).subquery())).scalar_one()
        return RowCount(counted, capped=counted > limit)

    def scaffold_auto_joins(self):
        """The relations the list shows, joined into the page's statement: Flask-Admin's, and also a
        to-one relation to the view's own model (an agreement's `follows`), which it leaves out and
        would then load once per row."""
        joined = super().scaffold_auto_joins()
        if not self.column_auto_select_related:
            return joined
        shown, have = {name for name, _ in self._list_columns}, {attr.key for attr in joined}
        return joined + [getattr(self.model, prop.key) for prop in sa_inspect(self.model).relationships
                         if prop.mapper.class_ is self.model and prop.direction.name == "MANYTOONE"
                         and prop.key in shown and prop.key not in have]

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's get_list with a capped count (`count_rows`): a count and the page, whatever
        the page size. The related rows the list shows (its many-to-one columns, or
        `column_select_related_list`) come in the page's statement, joined, never one per row."""
        joins, count_joins = {}, {}
        query, count_query = self.get_query(), self.get_count_query()
        if self._search_supported and search:
            query, count_query, joins, count_joins = self._apply_search(query, count_query, joins, count_joins,
                                                                        search)
        if filters and self._filters:
            query, count_query, joins, count_joins = self._apply_filters(query, count_query, joins, count_joins,
                                                                         filters)
        size = self.page_size if page_size is None else page_size
        count = self.count_rows(count_query, ((page or 0) + 1) * (size or 0))
        for relation in self._auto_joins:
            query = query.options(joinedload(relation))
        query, joins = self._apply_sorting(query, joins, sort_column, sort_desc)
        query = self._apply_pagination(query, page, page_size)
        return count, (query.all() if execute else query)

    def _get_list_value(self, context, model, name, column_formatters, column_type_formatters):
        value = super()._get_list_value(context, model, name, column_formatters, column_type_formatters)
        # Flask-Admin returns a column with choices before the type formatters: an empty one
        # (a case that waits for nothing) would print "None".
        empty = column_type_formatters.get(type(None))
        return empty(self, None, name) if value is None and empty is not None else value

    # -- details: what the record says, not its bookkeeping -------------------------------------------
    def get_details_columns(self):
        # The row version guards against lost updates; to a reader it is a meaningless number.
        return [(name, text) for name, text in super().get_details_columns() if name != "version"]

    # -- the page's scripts in the user's language --------------------------------------------------
    @property
    def extra_js(self) -> list[str]:
        """Loaded by Flask-Admin after select2 and before form.js: the words (locale_script), then
        select2's messages and the typed-date boxes with their optional Indonesian calendar."""
        return [url_for(f"{self.endpoint}.locale_script", lang=str(get_locale())),
                url_for("static", filename="select2_locale.js"), url_for("static", filename="dates.js")]

    @expose("/locale.js")
    def locale_script(self):
        """`window.panelLocale`: the date picker's names (from Babel) and select2's messages (from the
        catalogue), in the language of the request; the `lang` argument only keeps caches apart."""
        words = {"picker": picker_locale(), "select2": select2_messages()}
        return Response(f"window.panelLocale = {json.dumps(words, ensure_ascii=False)};\n",
                        mimetype="text/javascript", headers={"Cache-Control": "no-cache"})

    # -- export: the list's own search, filters and sort, fetched in batches -----------------------
    export_batch_size = 1000

    def _export_query(self):
        """Every row of the list as the user left it (search, filters, sort), ties in id order."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        _, query = self.get_list(None, sort[0] if sort else None, view_args.sort_desc, view_args.search,
                                 view_args.filters, execute=False, page_size=0)
        return query.order_by(*sa_inspect(self.model).primary_key)

    def _export_source(self, name: str):
        """Where export column `name` is read: ("column", hops, attribute) for a column of the model
        or of a to-one relationship path (`case.agreement_type`), ("label", hops, model) for a to-one
        relationship written by its model's __str__ (STR_COLUMNS), None for the row's object
        (an export formatter, a list of records, a property)."""
        if name in (self.column_formatters_export or {}):
            return None
        mapper = sa_inspect(self.model)
        *hops, last = name.split(".")
        for hop in hops:
            prop = mapper.attrs.get(hop)
            if not isinstance(prop, RelationshipProperty) or prop.uselist:
                return None
            mapper = prop.mapper
        prop = mapper.attrs.get(last)
        if isinstance(prop, ColumnProperty) and len(prop.columns) == 1:
            return "column", tuple(hops), last
        if isinstance(prop, RelationshipProperty) and not prop.uselist and prop.mapper.class_.__name__ in STR_COLUMNS:
            target = prop.mapper.class_
            if not any(issubclass(target, kind) for kind in self.column_type_formatters_export):
                return "label", (*hops, last), target
        return None

    def _export_select(self, query):
        """The export query narrowed to the columns the export shows (joined for relationship
        columns), and one function per export column that makes its cell from a result row, its
        converter chosen once. Columns read from the object keep Flask-Admin's path, for them alone."""
        translated: dict = {}
        sources = [self._export_source(name) for name, _ in self._export_columns]
        aliases: dict = {}

        def joined(hops: tuple):  # the outer-joined alias of a to-one relationship path, joined once
            nonlocal query
            if not hops:
                return self.model
            if hops not in aliases:
                parent = joined(hops[:-1])
                relationship = getattr(parent, hops[-1])
                aliases[hops] = target = aliased(relationship.property.mapper.class_)
                query = query.outerjoin(relationship.of_type(target))
            return aliases[hops]

        # Position 0 is the row's object when a column needs it, else only the primary key.
        needs_object = any(source is None for source in sources)
        columns = [self.model if needs_object else sa_inspect(self.model).primary_key[0]]
        cells = []
        for (name, _), source in zip(self._export_columns, sources):
            if source is None:
                cells.append(lambda row, name=name: _plain_cell(self.get_export_value(row[0], name), translated))
                continue
            kind, hops, what = source
            convert = export_converter(self, name, translated)
            if kind == "column":
                column = getattr(joined(hops), what)
                cells.append(self._column_cell(len(columns), column, name, convert))
                columns.append(column)
                continue
            alias, attributes = joined(hops), STR_COLUMNS[what.__name__]
            mapper = sa_inspect(what)
            key = mapper.get_property_by_column(mapper.primary_key[0]).key
            cells.append(self._label_cell(len(columns), attributes, what, convert(None)))
            columns.extend([getattr(alias, key), *(getattr(alias, attribute) for attribute in attributes)])
        return query.with_entities(*columns), cells, needs_object

    def _column_cell(self, k: int, column, name: str, convert):
        """The cell of a plain column at row[k]. A column of text, numbers or dates that no export
        formatter touches is its own value (None as the empty cell), a time is moved to
        Probolinggo's, without asking per value what type it has; anything else goes through `convert`."""
        generic = lambda row: convert(row[k])
        try:
            kind = column.type.python_type
        except NotImplementedError:
            return generic
        formatted = any(issubclass(kind, typeobj) for typeobj in self.column_type_formatters_export
                        if typeobj is not type(None))
        if name in self._column_choices_map or formatted or kind is bool:
            return generic
        empty = convert(None)
        if kind is datetime:
            return lambda row: empty if (value := row[k]) is None else city_time(value)
        if kind in (str, int, float, date):
            return lambda row: empty if (value := row[k]) is None else value
        return generic

    @staticmethod
    def _label_cell(k: int, attributes: tuple, model, empty):
        """The cell of a to-one relationship whose key is at row[k] and __str__'s columns after it."""
        end, memo = k + 1 + len(attributes), {}

        def cell(row):
            if row[k] is None:
                return empty  # no related record: what Flask-Admin writes for None
            values = row[k + 1:end]
            try:
                return memo[values]
            except KeyError:
                if len(memo) >= LABEL_MEMO_SIZE:
                    memo.clear()
                text = memo[values] = label_from_columns(model, values)
                return text
        return cell

    def _export_rows(self):
        """The header, then one list of cells per row; rows are read in batches, never all at once."""
        query, cells, needs_object = self._export_select(self._export_query())
        yield [str(label) for _, label in self._export_columns]
        if needs_object:
            rows = query.yield_per(self.export_batch_size)
        else:  # columns only: run as a Core statement, plain rows with no ORM loading
            rows = db.session.connection().execute(query.statement,
                                                   execution_options={"yield_per": self.export_batch_size})
        for row in rows:
            yield [cell(row) for cell in cells]

    def _export_csv(self, return_url):
        def lines():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            yield "\ufeff"  # lets Excel read the UTF-8 names of Indonesian agencies correctly
            for number, values in enumerate(self._export_rows(), 1):
                writer.writerow(inert_csv_row(values))  # None is written as an empty cell
                if number % self.export_batch_size == 0:  # sent a batch at a time: memory stays flat
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        return Response(stream_with_context(lines()), mimetype="text/csv",
                        headers={"Content-Disposition": f"attachment; filename={self.get_export_name('csv')}"})

    def get_export_name(self, export_type: str = "csv") -> str:
        """`Kasus_2026-11-30_09-15-00.csv`: the screen's name and the time in Probolinggo (WIB)."""
        at = datetime.now(CITY_TIME_ZONE)
        return secure_filename(f"{self.name}_{at:%Y-%m-%d_%H-%M-%S}.{export_type}")

    def _export_tablib(self, export_type, return_url):
        if export_type != "xlsx":
            abort(404)
        workbook = Workbook(write_only=True)  # rows go to disk as they come: memory stays flat
        sheet = workbook.create_sheet(title=str(self.name)[:31])
        for values in self._export_rows():
            sheet.append([inert_xlsx_cell(sheet, value) for value in values])
        spool = tempfile.TemporaryFile()
        workbook.save(spool)
        spool.seek(0)
        return send_file(spool, as_attachment=True, download_name=self.get_export_name("xlsx"),
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # -- links that open a create form already filled in (e.g. from a case's checklist) ---------------
    prefill_fields: tuple[str, ...] = ()

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            for name in self.prefill_fields:
                value = request.args.get(name)
                if value is None or name not in form:
                    continue
                loader = self._form_ajax_refs.get(name) if self._form_ajax_refs else None
                if loader is not None:
                    value = loader.get_one(value)  # None for an id that is not a row: the box stays empty
                    if value is None:
                        continue
                elif hasattr(form[name], "choices") and value not in {str(c[0]) for c in form[name].choices or ()}:
                    continue
                form[name].data = value
        return form

    # -- stale forms (two tabs) -------------------------------------------------------------------
    def edit_form(self, obj=None):
        form = super().edit_form(obj)
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

    def _on_model_change(self, form, model, is_created: bool) -> None:
        # Flask-Admin adds a new row to the session before this hook: the checks below read
        # the database, and must not flush a half-filled row first.
        with db.session.no_autoflush:
            super()._on_model_change(form, model, is_created)

    def on_model_change(self, form, model, is_created: bool) -> None:
        if not is_created:
            sent = getattr(form, "row_version", None)
            if sent is None or sent.data != str(model.version):
                raise ValidationError(str(STALE_MESSAGE))

    # -- errors -----------------------------------------------------------------------------------
    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, SQLAlchemyError):
            # Before anything reads the database again (the message's locale reads the user).
            db.session.rollback()
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
        if database_unreachable(exc):
            raise exc  # the panel's 503 page, rendered without the database
        if isinstance(exc, SQLAlchemyError):
            log.exception("database error on %s", self.screen)
            flash(str(DATABASE_MESSAGE), "error")
            return True
        if current_app.config.get("FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION"):
            return super().handle_view_exception(exc)  # the tests see every unexpected error
        # Flask-Admin would show the exception's text ("Failed to create record. ..."): log it instead.
        log.exception("unexpected error on %s", self.screen)
        flash(str(UNEXPECTED_MESSAGE), "error")
        return True


    # -- the list as the user left it -----------------------------------------------------------------
    LIST_ARGS = re.compile(r"^(flt\d+_\w+|search|sort|desc|page_size)$")

    def remembered_list(self):
        """Filters, search and sort stay while the user works (per session): a list opened from
        another page (the menu, a case page) comes back as the user last set it. Clearing them on
        the list itself, or opening the list by its address alone, shows it plain."""
        key = f"list:{self.endpoint}"
        if request.method != "GET":
            return None
        chosen = [(k, v) for k, v in request.args.items(multi=True) if self.LIST_ARGS.match(k)]
        if chosen:
            session[key] = chosen
            return None
        came_from = urlsplit(request.referrer or "")
        if came_from.path == request.path or not came_from.path:
            session.pop(key, None)
            return None
        saved = session.get(key)
        if not saved or request.args:
            return None
        return redirect(f"{request.path}?{urlencode(saved)}")


class RowCount(int):
    """How many rows a list matches, counted up to a cap (SecuredModelView.count_rows). Below the cap
    it is the number; above it, one more than the rows counted, so that Flask-Admin's pages run one
    past them (the "next" link), and it reads "more than 10,000" in the list's tab."""

    def __new__(cls, value: int, capped: bool = False):
        count = super().__new__(cls, value)
        count.capped = capped
        return count

    def __str__(self) -> str:
        if self.capped:
            return gettext("more than %(number)s", number=show_number(self - 1, 0))
        return show_number(int(self), 0)


class ReadOnlyModelView(SecuredModelView):
    """History screens: listed, searched, exported; never created, edited or deleted here."""

    can_create = False
    can_edit = False
    can_delete = False
    action_verbs: dict[str, str] = {}
