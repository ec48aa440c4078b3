"""Login, logout and the session rules of PITFALLS.md (copied cookies, throttling, timing, next=)."""
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin_app.extensions import login_manager
from admin_app.i18n import form_translations
from models import LoginAttempt, User, db
from models.login_throttle import clear_failures, reserve_attempt
from models.user import password_matches, unknown_account_hash

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return form_translations

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
    unknown_account_hash()  # made now, so the first unknown username costs no more than later ones
    if app.config.get("TRUSTED_PROXY_HOPS"):
        # Behind a reverse proxy the throttle must key on the client's address, not the proxy's;
        # without one, X-Forwarded-For is whatever the client typed, so it is trusted only when set.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXY_HOPS"])

    @app.before_request
    def _remember_actor():
        # The audit trail and the step history read the acting user from the session info.
        # The health check and static files write nothing: they must answer without the database.
        if request.endpoint in ("healthz", "static", "admin.static", "favicon"):
            return
        db.session.info["actor_id"] = current_user.id if current_user.is_authenticated else None


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """Session cookies carry `id:generation`; a bumped generation ends every older session."""
    user_id, _, generation = token.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only a path on this host; anything else (other hosts, `//evil`, schemes) goes home."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("admin.index")


def login_redirect():
    """Send an anonymous visitor to the login form, coming back here afterwards."""
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


REFUSAL = _l("Wrong username or password, or the account is inactive.")


def _source_address() -> str:
    """The client's address (the proxy's X-Forwarded-For only when TRUSTED_PROXY_HOPS says so)."""
    return (request.remote_addr or "")[:64]


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username, address = form.username.data.strip().lower(), _source_address()
        # Counted before the password is checked, and committed at once: of a burst of
        # simultaneous attempts only the first LOGIN_MAX_FAILURES get a password check.
        attempt = reserve_attempt(db.session, username, address, current_app.config["LOGIN_MAX_FAILURES"],
                                  current_app.config["LOGIN_FAILURE_WINDOW"])
        db.session.commit()
        if not attempt.allowed:
            # The same words as a wrong password, known account or not, and when to come back.
            minutes = attempt.minutes_left()
            flash(f'{REFUSAL} {ngettext("Try again in %(num)d minute.", "Try again in %(num)d minutes.", minutes)}',
                  "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(minutes * 60)}
        user = db.session.execute(select(User).where(func.lower(User.username) == username)).scalar_one_or_none()
        # An unknown username costs the same hash as a known one: no telling them apart by time.
        ok = password_matches(user, form.password.data) and user.active
        db.session.add(LoginAttempt(username=username, remote_addr=address, succeeded=ok))
        if ok:
            clear_failures(db.session, username, address)
            user.last_login_at = datetime.now(timezone.utc)
            db.session.commit()
            session.clear()  # a fresh session: no fixation of a pre-login session
            session.permanent = True
            session["language"] = user.language  # what pages read when the database cannot be asked
            login_user(user, remember=False)
            return redirect(safe_next(request.args.get("next")))
        db.session.commit()
        flash(REFUSAL, "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Ends this session and every copy of its cookie (the generation is bumped)."""
    user = db.session.get(User, current_user.id)
    user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash(_l("You have logged out."), "info")
    return redirect(url_for("auth.login"))
