"""Dates and date-times as people type them, in the user's locale.

Every date field of the panel is a plain text box: "30-11-2026", "30/11/2026", "2026-11-30",
"1 Des 2026", "1 Desember 2026" or "1 Dec 2026" (the month names come from Babel's locale data),
and for a date-time a time after it ("09.00" or "09:00"). What was typed is kept: a value the
parser cannot read is a field error, and the form shows the text back untouched. Date-times are
typed in Probolinggo time (WIB) and stored in UTC. The calendar (static/dates.js) is optional.
"""
import re
from datetime import date, datetime, timezone
from functools import lru_cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import get_time_format
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import DateField, DateTimeField
from wtforms.widgets import TextInput

from models.base import as_utc
from models.sla import CITY_TIME_ZONE

# Month names are read in these languages whatever the user's own: an English screen still
# takes "Des", an Indonesian one "Dec".
MONTH_NAME_LOCALES = ("id", "en")

DATE_PATTERN = "dd-MM-yyyy"  # Babel's pattern of the text the form shows; the parser reads it back
DATE_HINT = _l("dd-mm-yyyy")
DATETIME_HINT = _l("dd-mm-yyyy hh.mm")
DATE_ERROR = _l("Enter a date such as 30-11-2026, 2026-11-30 or 30 Nov 2026.")
DATETIME_ERROR = _l("Enter a date and a time such as 30-11-2026 09.00 or 30 Nov 2026 09.00.")

_DAY_MONTH_YEAR = r"(?P<day>\d{1,2})[-/.](?P<month>\d{1,2})[-/.](?P<year>\d{4})"
_YEAR_MONTH_DAY = r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"
_DAY_NAME_YEAR = r"(?P<day>\d{1,2})\.?\s+(?P<name>[^\W\d_]+)\.?,?\s+(?P<year>\d{4})"
_NAME_DAY_YEAR = r"(?P<name>[^\W\d_]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})"
_DATES = [re.compile(pattern) for pattern in (_DAY_MONTH_YEAR, _YEAR_MONTH_DAY, _DAY_NAME_YEAR, _NAME_DAY_YEAR)]
# After the date: a space or ISO's "T", an optional "pukul"/"jam"/"at", hours and minutes (seconds
# as Flask-Admin used to write them), an optional "WIB".
_TIME = re.compile(r"(?:\s*T|\s+(?:(?:pukul|jam|at)\s+)?)(?P<hour>\d{1,2})[.:](?P<minute>\d{2})"
                   r"(?:[.:](?P<second>\d{2}))?(?:\s*WIB)?", re.IGNORECASE)


@lru_cache(maxsize=None)
def _month_numbers(locales: tuple[str, ...]) -> dict[str, int]:
    """Lower-case month name or abbreviation (without its dot) -> month number, from Babel."""
    numbers: dict[str, int] = {}
    for code in locales:
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months[context][width].items():
                    numbers.setdefault(name.lower().rstrip("."), number)
    return numbers


def _user_locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "id"


def _split(text: str) -> tuple[date, str]:
    """The date at the start of `text` and what follows it; ValueError when there is none."""
    text = " ".join(text.split())
    for pattern in _DATES:
        found = pattern.match(text)
        if not found:
            continue
        parts = found.groupdict()
        if parts.get("name") is not None:
            month = _month_numbers(tuple(dict.fromkeys((_user_locale(), *MONTH_NAME_LOCALES)))).get(
                parts["name"].lower())
            if month is None:
                continue
        else:
            month = int(parts["month"])
        return date(int(parts["year"]), month, int(parts["day"])), text[found.end():]  # date() refuses 31-02
    raise ValueError(text)


def parse_date(text: str) -> date:
    """The date typed in `text` (see the module's docstring); ValueError for anything else."""
    day, rest = _split(text)
    if rest.strip():
        raise ValueError(text)
    return day


def parse_datetime(text: str) -> tuple[datetime, bool]:
    """The local (WIB), zone-less date and time typed in `text`, and whether seconds were typed;
    ValueError without a time or for anything else."""
    day, rest = _split(text)
    found = _TIME.fullmatch(rest)
    if not found:
        raise ValueError(text)
    second = found.group("second")
    moment = datetime(day.year, day.month, day.day, int(found.group("hour")), int(found.group("minute")),
                      int(second or 0))
    return moment, second is not None


def _time_separator(locale: str) -> str:
    """"." in Indonesian (09.00), ":" elsewhere: as Babel's short time format of the locale writes it."""
    return "." if "." in get_time_format("short", locale=locale).pattern else ":"


def date_text(value: date | None) -> str:
    """A date as the form shows it and reads it back: `30-11-2026`."""
    return babel_format_date(value, DATE_PATTERN, locale=_user_locale()) if value else ""


def datetime_text(value: datetime | None) -> str:
    """A local (WIB) zone-less date-time as the form shows it: `30-11-2026 09.00`."""
    if value is None:
        return ""
    return f"{date_text(value.date())} {value:%H}{_time_separator(_user_locale())}{value:%M}"


def picker_locale() -> dict:
    """What static/dates.js gives the bundled daterangepicker: day and month names from Babel,
    the first day of the week, the buttons' words, and the format the server reads back."""
    locale = Locale.parse(_user_locale())
    days = locale.days["stand-alone"]["short"]  # Babel: 0 is Monday; the picker starts at Sunday
    months = locale.months["stand-alone"]["abbreviated"]
    separator = _time_separator(str(locale))
    return {
        "daysOfWeek": [days[6], *(days[number] for number in range(6))],
        "monthNames": [months[number] for number in range(1, 13)],
        "firstDay": (locale.first_week_day + 1) % 7,
        "applyLabel": gettext("Apply"), "cancelLabel": gettext("Cancel"),
        "fromLabel": gettext("From"), "toLabel": gettext("Until"), "weekLabel": gettext("Wk"),
        "customRangeLabel": gettext("Custom range"),
        "dateFormat": "DD-MM-YYYY", "timeFormat": f"HH{separator}mm",
    }


class TypedDateInput(TextInput):
    """A text box for a date: our own data-role, so Flask-Admin's form.js leaves it to static/dates.js."""

    def __init__(self, role: str, hint):
        super().__init__()
        self.role, self.hint = role, hint

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("data-role", self.role)
        kwargs.setdefault("placeholder", str(self.hint))
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(field, **kwargs)


class TypedDateField(DateField):
    """A date typed in any of the forms `parse_date` reads; shown back as `30-11-2026`."""

    widget = TypedDateInput("typed-date", DATE_HINT)

    def __init__(self, label=None, validators=None, format=None, **kwargs):  # noqa: A002 (WTForms' name)
        kwargs.pop("widget", None)  # Flask-Admin's converter passes its date picker
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)  # a refused value is shown back as it was typed
        return date_text(self.data)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = None
        if text:
            try:
                self.data = parse_date(text)
            except ValueError:
                raise ValueError(str(DATE_ERROR)) from None


class CityDateTimeField(DateTimeField):
    """A date-time typed and shown in Probolinggo time (WIB), stored in UTC."""

    widget = TypedDateInput("typed-datetime", DATETIME_HINT)

    def __init__(self, label=None, validators=None, format=None, **kwargs):  # noqa: A002 (WTForms' name)
        kwargs.pop("widget", None)
        super().__init__(label, validators, **kwargs)
        self.typed_seconds = False

    def process_data(self, value) -> None:
        if isinstance(value, datetime):
            value = as_utc(value).astimezone(CITY_TIME_ZONE).replace(tzinfo=None)
        super().process_data(value)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return datetime_text(self.data)

    def process_formdata(self, valuelist) -> None:
        if not valuelist:
            return
        text = " ".join(valuelist).strip()
        self.data = None
        if text:
            try:
                self.data, self.typed_seconds = parse_datetime(text)
            except ValueError:
                raise ValueError(str(DATETIME_ERROR)) from None

    def populate_obj(self, obj, name) -> None:
        value = self.data
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=CITY_TIME_ZONE).astimezone(timezone.utc)
        stored = getattr(obj, name, None)
        if isinstance(value, datetime) and isinstance(stored, datetime):
            # The form shows minutes (seconds only when typed): a stored 09:00:17.123 posted back
            # unchanged as "09.00" is the same moment to the user, not a change of the record.
            shown = as_utc(stored).replace(microsecond=0, **({} if self.typed_seconds else {"second": 0}))
            if shown == value:
                return
        setattr(obj, name, value)
