"""Language switch and the date formats Indonesians write."""
from datetime import date, datetime

from flask import Flask, abort, redirect, request, session
from flask_babel import format_date, format_datetime
from flask_login import current_user

from admin_app.auth import _safe_next
from models import User, db


def show_date(value: date | None) -> str:
    """`24 Nov 2026` in Indonesian, `Nov 24, 2026` in English."""
    return format_date(value, "medium") if value else ""


def show_datetime(value: datetime | None) -> str:
    """Local (WIB) date and time: `24 Nov 2026 14.30`."""
    if not value:
        return ""
    return format_datetime(value, "d MMM yyyy HH.mm")


def init_app(app: Flask) -> None:
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
        return redirect(_safe_next(request.form.get("next")))
