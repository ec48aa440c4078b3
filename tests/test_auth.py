"""Logging in and out as a user sees it: the login page, throttling, sessions that end, next=,
CSRF protection of every form, and the health check."""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select
from wtforms.validators import ValidationError

from models import Case, LoginAttempt, Party, User, db, login_throttle
from tests.factories import PASSWORD, make_case, make_document, make_party, make_user
from tests.helpers import row_version


def _location(response) -> str:
    """Where a redirect goes, as a path with its query (it must stay on this host)."""
    parts = urlsplit(response.headers["Location"])
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _logged_in(client) -> bool:
    """Whether the client's session opens the panel (a logged-out one is sent to /login)."""
    response = client.get("/admin/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    return False


def _attempts(app, username: str, succeeded: bool | None = None) -> int:
    with app.app_context():
        query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == username)
        if succeeded is not None:
            query = query.where(LoginAttempt.succeeded.is_(succeeded))
        return db.session.execute(query).scalar_one()


def _form_token(page: str, action: str) -> str:
    """The csrf_token carried by the page's form that posts to `action` ("" is the page's own form)."""
    for form in re.finditer(r"<form\b[^>]*>.*?</form>", page, re.S):
        tag = form.group(0)[:form.group(0).index(">") + 1]
        posts_to_itself = 'action=""' in tag or "action=" not in tag
        if (posts_to_itself if action == "" else f'action="{action}"' in tag):
            match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', form.group(0)) or \
                re.search(r'<input[^>]*value="([^"]+)"[^>]*name="csrf_token"', form.group(0))
            assert match, f"the form posting to {action!r} carries no csrf_token"
            return match.group(1)
    raise AssertionError(f"no form posts to {action!r}")


# -- the login page -----------------------------------------------------------------------------

def test_the_login_page_renders_in_indonesian(client):
    response = client.get("/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="id">' in page
    assert "Masuk" in page and "Nama pengguna" in page and "Kata sandi" in page
    assert 'name="username"' in page and 'name="password"' in page and 'type="password"' in page


def test_a_good_login_opens_the_dashboard(app, client, users, auth):
    response = auth.login("staff")
    assert response.status_code == 302
    assert _location(response) == "/admin/"
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert "Pengguna staff" in dashboard.get_data(as_text=True)  # the user menu names who is logged in
    assert _attempts(app, "staff", succeeded=True) == 1
    with app.app_context():
        assert db.session.get(User, users["staff"]).last_login_at is not None


@pytest.mark.parametrize(("username", "password"), [("staff", "salah-sekali-123"), ("tidak-ada", PASSWORD)],
                         ids=["wrong-password", "unknown-user"])
def test_a_bad_login_is_refused_with_a_message_and_no_session(app, client, users, username, password):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "Nama pengguna atau kata sandi salah" in page  # the same words whether or not the user exists
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert not _logged_in(client)
    assert _attempts(app, username, succeeded=False) == 1


def test_an_inactive_user_cannot_log_in(app, client):
    with app.app_context():
        make_user("staff", active=False)
        db.session.commit()
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 401
    assert "akun tidak aktif" in response.get_data(as_text=True)
    assert not _logged_in(client)


@pytest.mark.parametrize("typed", ["KABAG", "Kabag", "  kabag  "])
def test_the_username_is_not_case_sensitive(app, client, users, typed):
    response = client.post("/login", data={"username": typed, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "Pengguna kabag" in page


def test_the_password_is_case_sensitive(client, users):
    assert client.post("/login", data={"username": "staff", "password": PASSWORD.upper()}).status_code == 401
    assert not _logged_in(client)


# -- throttling -----------------------------------------------------------------------------------

def test_too_many_failures_lock_the_username_even_for_the_right_password(app, client, users):
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert limit == 5
    client.post("/language/en")
    for attempt in range(limit):
        typed = "STAFF" if attempt % 2 else "staff"  # the count follows the account, not the spelling
        response = client.post("/login", data={"username": typed, "password": f"tebakan-{attempt}"})
        assert response.status_code == 401, attempt
    assert _attempts(app, "staff", succeeded=False) == limit

    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "900"
    # The words of any refusal (nothing says whether the account exists), and when to come back.
    assert "Wrong username or password, or the account is inactive. Try again in 15 minutes." \
        in response.get_data(as_text=True)
    assert not _logged_in(client)
    assert _attempts(app, "staff", succeeded=True) == 0

    # Another account is not locked by someone guessing this one.
    other = app.test_client()
    assert other.post("/login", data={"username": "kabag", "password": PASSWORD}).status_code == 302


def test_one_failure_less_than_the_limit_still_lets_the_right_password_in(app, client, users):
    for attempt in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert client.post("/login", data={"username": "staff", "password": "keliru"}).status_code == 401
    assert client.post("/login", data={"username": "staff", "password": PASSWORD}).status_code == 302
    assert _logged_in(client)


def test_the_lock_ends_when_the_failures_leave_the_window(app, client, users, monkeypatch):
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": "staff", "password": "keliru"})
    assert client.post("/login", data={"username": "staff", "password": PASSWORD}).status_code == 429
    later = datetime.now(timezone.utc) + app.config["LOGIN_FAILURE_WINDOW"] + timedelta(minutes=1)
    monkeypatch.setattr(login_throttle, "utcnow", lambda: later)  # 16 minutes on
    assert client.post("/login", data={"username": "staff", "password": PASSWORD}).status_code == 302
    assert _logged_in(client)


# -- logout and sessions that end -----------------------------------------------------------------

def test_logout_is_post_only(client, users, auth):
    auth.login("staff")
    assert client.get("/logout").status_code == 405
    assert _logged_in(client)  # a link or an <img src="/logout"> cannot log anyone out
    response = client.post("/logout")
    assert response.status_code == 302
    assert _location(response) == "/login"
    assert not _logged_in(client)


def _copy_of_session(app, client):
    """A second browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def test_a_copied_cookie_dies_with_logout(app, client, users, auth):
    auth.login("staff")
    copy = _copy_of_session(app, client)
    assert _logged_in(copy)  # the copy works while the session lives
    assert auth.logout().status_code == 302
    assert not _logged_in(copy)
    response = copy.get("/admin/case/")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def _admin_edits_staff(app, users, **changes):
    """The admin opens the staff account on the user screen and saves it with `changes`."""
    admin = app.test_client()
    assert admin.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    page = admin.get(f"/admin/user/edit/?id={users['staff']}").get_data(as_text=True)
    form = {"username": "staff", "full_name": "Pengguna staff", "email": "", "role": "staff", "active": "y",
            "language": "en", "new_password": "", "row_version": row_version(page)}
    form.update(changes)
    form = {key: value for key, value in form.items() if value is not None}  # None: box left unticked
    response = admin.post(f"/admin/user/edit/?id={users['staff']}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_password_change_by_the_admin_ends_the_users_sessions(app, client, users, auth):
    auth.login("staff")
    _admin_edits_staff(app, users, full_name="Pengguna staff (nama baru)")
    assert _logged_in(client)  # editing the name alone leaves the session alone
    _admin_edits_staff(app, users, new_password="kata-sandi-baru-99")
    assert not _logged_in(client)
    assert auth.login("staff").status_code == 401
    assert auth.login("staff", "kata-sandi-baru-99").status_code == 302


def test_deactivation_by_the_admin_ends_the_users_sessions(app, client, users, auth):
    auth.login("staff")
    copy = _copy_of_session(app, client)
    _admin_edits_staff(app, users, active=None)
    with app.app_context():
        assert db.session.get(User, users["staff"]).active is False
    assert not _logged_in(client)
    assert not _logged_in(copy)
    assert auth.login("staff").status_code == 401


# -- next= ----------------------------------------------------------------------------------------

def test_next_brings_the_user_back_to_a_local_page(client, users):
    response = client.post("/login", query_string={"next": "/admin/party/?search=PT"},
                           data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 302
    assert _location(response) == "/admin/party/?search=PT"


def test_a_screen_sends_the_anonymous_user_to_login_and_back(client, users):
    response = client.get("/admin/meeting/?page_size=50")
    login_url = _location(response)
    assert urlsplit(login_url).path == "/login"
    response = client.post(login_url, data={"username": "kasubbag", "password": PASSWORD})
    assert _location(response) == "/admin/meeting/?page_size=50"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil", "http:/evil.example",
                                    "javascript:alert(1)"])
def test_next_never_leaves_the_site(client, users, target):
    response = client.post("/login", query_string={"next": target}, data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    # And a logged-in user opening such a login link is not sent away either.
    again = client.get("/login", query_string={"next": target})
    assert again.status_code == 302 and again.headers["Location"] == "/admin/"


# -- CSRF -----------------------------------------------------------------------------------------

@pytest.fixture()
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True  # the app fixture turns it off again for the next test
    return app


def _login_with_token(client, role: str):
    token = _form_token(client.get("/login").get_data(as_text=True), "")
    response = client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return client


def test_login_needs_the_csrf_token(csrf_app, client, users):
    response = client.post("/login", data={"username": "staff", "password": PASSWORD})
    assert response.status_code == 400
    assert not _logged_in(client)
    assert _attempts(csrf_app, "staff") == 0
    token = _form_token(client.get("/login").get_data(as_text=True), "")
    response = client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert _logged_in(client)


def _party_count(app, name: str) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Party).where(Party.name == name)).scalar_one()


NEW_PARTY = {"kind": "company", "name": "PT Dengan Token", "address": "", "contact_person": "", "phone": "",
             "email": ""}


def test_creating_a_record_needs_the_csrf_token(csrf_app, client, users):
    _login_with_token(client, "kabag")
    response = client.post("/admin/party/new/", data=NEW_PARTY)
    assert response.status_code == 400
    assert _party_count(csrf_app, "PT Dengan Token") == 0
    token = _form_token(client.get("/admin/party/new/").get_data(as_text=True), "")
    response = client.post("/admin/party/new/", data={**NEW_PARTY, "csrf_token": token})
    assert response.status_code == 302
    assert _party_count(csrf_app, "PT Dengan Token") == 1


def test_deleting_a_record_needs_the_csrf_token(csrf_app, client, users):
    with csrf_app.app_context():
        party_id = make_party("company", "PT Akan Dihapus").id
        db.session.commit()
    _login_with_token(client, "admin")
    response = client.post("/admin/party/delete/", data={"id": str(party_id)})
    assert response.status_code == 400
    assert _party_count(csrf_app, "PT Akan Dihapus") == 1
    token = _form_token(client.get("/admin/party/").get_data(as_text=True), "/admin/party/delete/")
    response = client.post("/admin/party/delete/", data={"id": str(party_id), "csrf_token": token})
    assert response.status_code == 302
    assert _party_count(csrf_app, "PT Akan Dihapus") == 0


def test_a_bulk_action_needs_the_csrf_token(csrf_app, client, users):
    with csrf_app.app_context():
        case = make_case()
        make_document(case, "regulation_notes", "Telaah peraturan")
        db.session.commit()
        case_id, rowid = case.id, f"{case.id}:1:{case.version}"
    _login_with_token(client, "staff")
    response = client.post("/admin/case/action/", data={"action": "advance", "rowid": rowid})
    assert response.status_code == 400
    with csrf_app.app_context():
        assert db.session.get(Case, case_id).current_step == 1
    token = _form_token(client.get("/admin/case/").get_data(as_text=True), "/admin/case/action/")
    response = client.post("/admin/case/action/", data={"action": "advance", "rowid": rowid,
                                                        "csrf_token": token})
    assert response.status_code == 302
    with csrf_app.app_context():
        assert db.session.get(Case, case_id).current_step == 2


def test_a_token_from_another_session_is_refused(csrf_app, client, users):
    other = csrf_app.test_client()
    foreign = _form_token(other.get("/login").get_data(as_text=True), "")
    response = client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": foreign})
    assert response.status_code == 400
    assert not _logged_in(client)


def _clock_ahead(monkeypatch, seconds: int) -> None:
    """Every signed timestamp (CSRF tokens, the session cookie) is now read `seconds` later."""
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + seconds)


def test_the_csrf_token_lives_as_long_as_the_session(csrf_app):
    limit = csrf_app.config["WTF_CSRF_TIME_LIMIT"]
    assert limit >= 8 * 3600
    assert limit >= csrf_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()


def test_a_form_opened_31_minutes_ago_still_saves(csrf_app, client, users, monkeypatch):
    _login_with_token(client, "kabag")
    token = _form_token(client.get("/admin/party/new/").get_data(as_text=True), "")
    _clock_ahead(monkeypatch, 31 * 60)  # the user went to a meeting before pressing Save
    response = client.post("/admin/party/new/", data={**NEW_PARTY, "csrf_token": token})
    assert response.status_code == 302
    assert _party_count(csrf_app, "PT Dengan Token") == 1


def test_the_patched_clock_really_ages_tokens(csrf_app, monkeypatch):
    """The check above is honest: the same clock makes a token expire after the configured limit."""
    limit = csrf_app.config["WTF_CSRF_TIME_LIMIT"]
    with csrf_app.test_request_context("/"):
        token = generate_csrf()
        _clock_ahead(monkeypatch, 31 * 60)
        validate_csrf(token, time_limit=limit)  # still valid at 31 minutes
        with pytest.raises(ValidationError):
            validate_csrf(token, time_limit=30 * 60)  # a 30-minute limit would have refused it
        monkeypatch.undo()
        _clock_ahead(monkeypatch, limit + 60)
        with pytest.raises(ValidationError):
            validate_csrf(token, time_limit=limit)  # and the session-long limit does end


# -- health ---------------------------------------------------------------------------------------

def test_healthz_reports_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "ok", "storage": "ok"}
