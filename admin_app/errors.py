"""Plain error pages: the user reads what happened, the log keeps the details.

No error page reads the database: the one for "the database is not reachable" must render
while it is down, and every page's language comes from the session, not from the user's row.
"""
import logging

from flask import Flask, abort, g, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from admin_app.settings import current_settings
from models import db
from models.base import N_

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("The request was not understood (a field or an address holds something it cannot hold). "
            "Nothing was changed."),
    403: _l("Your role does not allow this page or action. Nothing was changed."),
    404: _l("The page was not found."),
    405: _l("This address does not take that kind of request. Nothing was changed."),
    500: _l("Something went wrong on the server; the details were logged for the administrator."),
    503: _l("The database is not reachable at the moment. Nothing was changed; try again in a moment."),
}
TOO_LARGE = N_("What was sent (%(size)s MB) is larger than the panel takes: a document up to %(limit)s MB, "
               "the text of a form up to %(text)s KB. Nothing was changed.")
CSRF_MESSAGE = _l("The form was not accepted (its security token is missing or no longer valid). "
                  "Reload the page and try again; nothing was changed.")


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database server cannot be reached (down, restarting, connection cut)."""
    if isinstance(error, (OperationalError, InterfaceError, DisconnectionError)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _anonymous_now() -> None:
    """Let the page render without loading the user: current_user is anonymous from here on."""
    from admin_app.extensions import login_manager
    g._login_user = login_manager.anonymous_user()


def init_app(app: Flask) -> None:
    def render(code: int, message=None):
        return render_template("error.html", code=code, message=message or MESSAGES[code]), code

    def too_large(error):
        settings = current_settings()
        return render(413, gettext(TOO_LARGE, size=f"{(request.content_length or 0) / 1048576:.1f}",
                                   limit=settings.upload_max_mb, text=settings.form_text_max_kb))

    def unreachable(error):
        log.error("database unreachable: %s", error)
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the pool drops it
            log.warning("rollback after a lost connection failed", exc_info=True)
        _anonymous_now()
        return render(503)

    app.register_error_handler(CSRFError, lambda error: render(400, CSRF_MESSAGE))
    for code in (400, 403, 404, 405, 500):
        app.register_error_handler(code, lambda error, code=code: render(code))
    app.register_error_handler(413, too_large)
    for error_class in (OperationalError, InterfaceError, DisconnectionError):
        app.register_error_handler(error_class, unreachable)

    @app.before_request
    def _limit_and_check_input():
        """Every body has a cap from the settings (a file up to the document limit, a form's text up
        to its own), checked by Werkzeug before it is read; and a NUL character, which no person
        types and PostgreSQL refuses deep inside a query, is refused at the door."""
        if request.endpoint in ("static", "admin.static", "favicon", "healthz"):
            return
        settings = current_settings()
        text_limit = settings.form_text_max_kb * 1024
        if request.mimetype == "multipart/form-data":  # a file and the form around it
            # A quarter over the document limit still reaches the form, which names the file's size;
            # beyond that Werkzeug stops reading and the 413 page names it.
            upload_limit = settings.upload_max_mb * 1024 * 1024
            request.max_content_length = upload_limit + max(upload_limit // 4, text_limit)
            request.max_form_memory_size = text_limit
        else:  # Werkzeug reads an urlencoded body at once: its whole length is the cap
            request.max_content_length = text_limit
        values = [*request.args.keys(), *request.args.values()]
        if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                             "multipart/form-data"):
            values += [*request.form.keys(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400)

    @app.teardown_appcontext
    def _end_session(error):
        """Runs before Flask-SQLAlchemy's own teardown: a request whose work committed is answered as
        done even if closing its connection fails afterwards (the server went away)."""
        try:
            db.session.remove()
        except Exception:
            log.warning("closing the database session failed after the response", exc_info=True)
