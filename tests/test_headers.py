"""Security headers on every kind of response: the Content-Security-Policy with its per-response
nonce, frame, referrer and sniffing protection; Secure cookies, HSTS and the https redirect only
when the panel is served over HTTPS (SESSION_COOKIE_SECURE)."""
import re

import pytest

from admin_app import create_app
from models import db
from tests.factories import PASSWORD, make_case, make_document
from tests.helpers import upload_folder

HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
POLICY = {
    "default-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{32})'")


def policy_of(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as directive -> sources."""
    directives = [part.split() for part in response.headers["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


def nonce_of(response) -> str:
    (nonce,) = NONCE.findall(response.headers["Content-Security-Policy"])
    return nonce


def assert_protected(response) -> None:
    """Every header, and a policy that allows nothing from another host and no inline code."""
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    policy = policy_of(response)
    script_sources = policy.pop("script-src")
    assert script_sources[0] == "'self'" and NONCE.fullmatch(script_sources[1]) and len(script_sources) == 2
    assert policy == POLICY
    assert "unsafe" not in response.headers["Content-Security-Policy"]


@pytest.fixture()
def case_records(app, users, tmp_path):
    """A case with a stored document, for the details page and the download."""
    app.config["UPLOAD_FOLDER"] = upload_folder(tmp_path)
    with app.app_context():
        case = make_case()
        document = make_document(case, "opd_draft", "Draf dari OPD")
        db.session.commit()
        return {"case": case.id, "document": document.id}


def test_every_kind_of_page_carries_every_header(app, client, login_as, case_records):
    pages = {"login page": client.get("/login"), "health": client.get("/healthz"),
             "static file": client.get("/static/panel.css"),
             "Flask-Admin's static file": client.get("/admin/static/vendor/jquery.min.js"),
             "redirect to the login": client.get("/admin/case/"), "404": client.get("/no-such-page")}
    kabag = login_as("kabag")
    pages |= {"dashboard": kabag.get("/admin/"), "list": kabag.get("/admin/case/"),
              "details page": kabag.get(f"/admin/case/details/?id={case_records['case']}"),
              "create form": kabag.get("/admin/meeting/new/"),
              "file download": kabag.get(f"/admin/document/download/?id={case_records['document']}"),
              "select2 look-up": kabag.get("/admin/case/ajax/lookup/?name=opd&query=Dinas"),
              "admin 404": kabag.get("/admin/case/details/?id=99999")}
    pages["403"] = login_as("staff").get("/admin/user/")
    app.config["WTF_CSRF_ENABLED"] = True
    pages["400 (no CSRF token)"] = client.post("/admin/case/new/", data={"title": "x"})

    expected = {"login page": 200, "health": 200, "static file": 200, "Flask-Admin's static file": 200,
                "redirect to the login": 302, "404": 404, "dashboard": 200, "list": 200, "details page": 200,
                "create form": 200, "file download": 200, "select2 look-up": 200, "403": 403,
                "400 (no CSRF token)": 400}
    for kind, response in pages.items():
        assert response.status_code == expected.get(kind, response.status_code), (kind, response.status_code)
        assert_protected(response)
    assert pages["admin 404"].status_code in (302, 404)
    assert pages["file download"].headers["Content-Disposition"].startswith("attachment")


def test_the_nonce_is_new_for_every_response_and_is_the_one_on_the_inline_scripts(login_as):
    kabag = login_as("kabag")
    responses = [kabag.get("/admin/case/"), kabag.get("/admin/case/"), kabag.get("/admin/meeting/new/"),
                 kabag.get("/admin/")]
    nonces = [nonce_of(response) for response in responses]
    assert len(set(nonces)) == len(nonces)
    for response, nonce in zip(responses, nonces):
        page = response.get_data(as_text=True)
        scripts = re.findall(r"<script\b[^>]*>", page)
        inline = [tag for tag in scripts if " src=" not in tag]
        assert all(f'nonce="{nonce}"' in tag for tag in inline), inline
        assert set(re.findall(r'\bnonce="([^"]*)"', page)) == {nonce}  # no stale or empty nonce anywhere
        # Inline handlers cannot carry a nonce: none may reach the page (static/csp.js runs Flask-Admin's).
        assert not re.search(r"\son[a-z]+\s*=", page, re.I), re.search(r".{80}\son[a-z]+\s*=.{80}", page, re.I)


def test_the_login_page_has_no_inline_script_or_style(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<script" not in page and "style=" not in page and "<style" not in page


# -- HTTPS: only when SESSION_COOKIE_SECURE says the panel is served over it ----------------------

@pytest.fixture()
def secure_app(app, database_url, tmp_path):
    """The panel configured as served over HTTPS, on the test database, with a page that sets the
    remember-me cookie (the panel offers none) and one that fails, to see their headers too."""
    from flask_login import login_user
    from sqlalchemy import select

    from models import User

    secure = create_app({
        "TESTING": True, "PROPAGATE_EXCEPTIONS": False, "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": True,
        "UPLOAD_FOLDER": upload_folder(tmp_path),
    })

    @secure.get("/_test/remember")
    def remember():
        login_user(db.session.execute(select(User).where(User.username == "kabag")).scalar_one(), remember=True)
        return "remembered"

    @secure.get("/_test/fail")
    def fail():
        raise RuntimeError("a bug")

    yield secure
    with secure.app_context():
        db.session.remove()
        db.engine.dispose()


def _cookie_flags(response, name: str) -> set[str]:
    (header,) = [value for value in response.headers.getlist("Set-Cookie") if value.startswith(name + "=")]
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_over_https_cookies_are_secure_and_hsts_is_sent(secure_app, users):
    client = secure_app.test_client()
    https = {"base_url": "https://localhost"}
    login = client.post("/login", data={"username": "kabag", "password": PASSWORD}, **https)
    assert login.status_code == 302
    assert {"secure", "httponly", "samesite"} <= _cookie_flags(login, "session")
    assert login.headers["Strict-Transport-Security"] == "max-age=31556926"
    remembered = client.get("/_test/remember", **https)
    assert {"secure", "httponly"} <= _cookie_flags(remembered, "remember_token")

    for path in ("/admin/", "/admin/case/", "/healthz", "/static/panel.css", "/no-such-page", "/_test/fail"):
        response = client.get(path, **https)
        assert response.status_code in (200, 404, 500), (path, response.status_code)
        assert response.headers["Strict-Transport-Security"] == "max-age=31556926", path
        assert_protected(response)
    # Behind a proxy that ends TLS and says so.
    behind_proxy = secure_app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert behind_proxy.status_code == 200 and "Strict-Transport-Security" in behind_proxy.headers


def test_with_secure_cookies_plain_http_is_sent_to_https(secure_app):
    response = secure_app.test_client().get("/login?next=/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/login?next=/admin/"
    assert "Strict-Transport-Security" not in response.headers  # HSTS only ever comes over https


def test_without_secure_cookies_plain_http_works_and_no_hsts_is_sent(app, client, users):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    login = client.post("/login", data={"username": "kabag", "password": PASSWORD})
    assert login.status_code == 302 and login.headers["Location"].startswith("/")  # no https redirect
    assert "secure" not in _cookie_flags(login, "session")
    for response in (client.get("/admin/"), client.get("/login", base_url="https://localhost")):
        assert response.status_code in (200, 302)
        assert "Strict-Transport-Security" not in response.headers
        assert_protected(response)
