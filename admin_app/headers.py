"""Security headers on every response, through Flask-Talisman.

A strict Content-Security-Policy: every script, style, font and image comes from the panel
itself (it runs offline; there is no third-party source to allow), and an inline script runs
only if it carries this response's nonce. Flask-Admin stamps the nonce on its own scripts
(`Admin(csp_nonce_generator=csp_nonce)`); our templates write `nonce="{{ csp_nonce() }}"`.
Inline event handlers (`onclick=`) are blocked too, and the browser reports each one as the page
is parsed: Flask-Admin's own templates are therefore compiled with `onclick=` renamed to
`data-fa-onclick=` (`FlaskAdminHandlers` below), and static/csp.js runs those few handlers.

HTTPS is the deployment's choice, made by SESSION_COOKIE_SECURE: when it is on, cookies are
Secure, plain-http requests are redirected to https and HSTS is sent on https responses; when
it is off (`make run`, the tests) none of that happens, so plain http keeps working.
"""
import os
import re

import flask_admin
from flask import Flask, request
from flask_talisman import Talisman
from jinja2.ext import Extension

SELF = "'self'"

CONTENT_SECURITY_POLICY = {
    "default-src": SELF,
    "script-src": SELF,  # plus this response's nonce (content_security_policy_nonce_in)
    "style-src": SELF,
    "img-src": [SELF, "data:"],  # Bootstrap's CSS draws its select arrows and checks as data: SVGs
    "font-src": SELF,
    "connect-src": SELF,  # the select2 look-ups
    "object-src": "'none'",
    "base-uri": SELF,
    "form-action": SELF,
    "frame-ancestors": "'none'",
}


def csp_nonce() -> str:
    """The nonce Talisman made for this request ('' outside one)."""
    return getattr(request, "csp_nonce", "")


class FlaskAdminHandlers(Extension):
    """Renames `onclick=` to `data-fa-onclick=` in Flask-Admin's own template files (layout's
    filter links, the "With selected" actions, the delete button, "Add" of inline forms), so
    the page holds no inline handler for the policy to block; static/csp.js runs them."""

    FOLDER = os.path.realpath(os.path.join(os.path.dirname(flask_admin.__file__), "templates"))
    HANDLER = re.compile(r"(?<=\s)onclick=")

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if filename and os.path.realpath(filename).startswith(self.FOLDER + os.sep):
            return self.HANDLER.sub("data-fa-onclick=", source)
        return source


def init_app(app: Flask) -> None:
    secure = bool(app.config["SESSION_COOKIE_SECURE"])
    # Flask-Login's remember cookie follows the session cookie (the panel does not offer
    # remember-me, but a cookie it ever sets must not travel over plain http either).
    app.config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    # One Talisman per app: it keeps its settings (and the app) on itself, so a shared
    # instance would carry the last test app's settings into the others.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=secure,
        strict_transport_security=secure,  # sent on https responses only (Talisman checks)
        # Hosts under the panel's name may be other services of the city, not all on https.
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=secure,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="same-origin",
        x_content_type_options=True,
    )
    app.jinja_env.add_extension(FlaskAdminHandlers)
