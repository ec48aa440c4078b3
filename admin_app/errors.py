"""Plain error pages: the user reads what happened, the log keeps the details."""
from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: _l("The form was not accepted (its security token is missing or no longer valid). "
            "Reload the page and try again; nothing was changed."),
    403: _l("Your role does not allow this page or action. Nothing was changed."),
    404: _l("The page was not found."),
    413: _l("The file is too large."),
    500: _l("Something went wrong on the server; the details were logged for the administrator."),
}


def init_app(app: Flask) -> None:
    def render(code: int):
        return render_template("error.html", code=code, message=MESSAGES[code]), code

    app.register_error_handler(CSRFError, lambda error: render(400))
    for code in (403, 404, 413, 500):
        app.register_error_handler(code, lambda error, code=code: render(code))
