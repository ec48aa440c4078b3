"""Language switch and the date formats Indonesians write."""
import os
from datetime import date, datetime

from flask import Flask, abort, redirect, request, session
from flask_babel import Domain, format_date, format_datetime, format_decimal
from flask_login import current_user

from models import User, db

TRANSLATIONS_DIR = os.path.join(os.path.dirname(__file__), "translations")


class FormTranslations:
    """WTForms' own messages ("This field is required.") from our catalogue: WTForms has no Indonesian."""

    _domain = Domain(translation_directories=[TRANSLATIONS_DIR], domain="wtforms")

    # WTForms fills the placeholders itself (`%(max)d`): translate only, never format here
    # (flask_babel's ngettext always formats with `num` and raised KeyError: 'max').
    def gettext(self, string: str) -> str:
        return self._domain.get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._domain.get_translations().ungettext(singular, plural, n)


form_translations = FormTranslations()


def show_date(value: date | None) -> str:
    """`24 Nov 2026` in Indonesian, `Nov 24, 2026` in English."""
    return format_date(value, "medium") if value else ""


def show_datetime(value: datetime | None) -> str:
    """Local (WIB) date and time: `24 Nov 2026 14.30`."""
    if not value:
        return ""
    return format_datetime(value, "d MMM yyyy HH.mm")


def show_number(value, digits: int = 1) -> str:
    """`1,8` in Indonesian, `1.8` in English; whole numbers without decimals (`1.250`)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0" + ("." + "#" * digits if digits else ""))


def init_app(app: Flask) -> None:
    app.jinja_env.filters["show_number"] = show_number
    app.jinja_env.filters["show_date"] = show_date
    app.jinja_env.filters["show_datetime"] = show_datetime

    @app.post("/language/<code>")
    def set_language(code: str):
        if code not in app.config["LANGUAGES"]:
            abort(404)
        session["language"] = code
        if current_user.is_authenticated:
            user = db.session.get(User, current_user.id)
            user.language = code
            db.session.commit()
        from admin_app.auth import (
            safe_next,  # auth's forms use this module's translations
        )
        return redirect(safe_next(request.form.get("next")))
