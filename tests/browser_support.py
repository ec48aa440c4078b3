"""What the browser tests share: Debian's Chromium driven by Playwright, a live server, the watch
on every tab for script errors, console errors and Content-Security-Policy violations, and the
crawl of every screen a role may use over the demo data (tests/test_crawl.py, tests/test_accessibility.py).

Needs /usr/bin/chromium (`apt-get install chromium`) and Playwright for Python
(`pip install -r requirements.txt`); without them the tests are skipped, except in CI
(CI=true), where a missing browser fails the run so that a skip never passes for a pass.
"""
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 15_000
ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "admin_app" / "translations"
SCREENSHOTS = ROOT / "test-output" / "screens"
SCREEN = {"width": 1366, "height": 768}  # the section's office screens
ROLES = ("admin", "kabag", "kasubbag", "staff", "viewer")


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found: install Debian's browser with `apt-get install chromium`"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright for Python cannot be imported ({error}): `pip install -r requirements.txt`"
    return None


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (starting it costs about a second)."""
    reason = browser_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Hundreds of asset requests per crawl would drown a failure's report."""


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` served over real HTTP on a free port, with CSRF protection on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.config["WTF_CSRF_ENABLED"] = False


# Every page reports a Content-Security-Policy violation as a console error named "CSP violation".
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => console.error(
    `CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline code"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber} ${event.sample}`));
"""


def new_context(browser, height: int = 900):
    """A browser context as an Indonesian user at the office has it: own cookies, id-ID, WIB, 1366 wide."""
    context = browser.new_context(locale="id-ID", timezone_id="Asia/Jakarta",
                                  viewport={"width": SCREEN["width"], "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    return context


def open_tab(context):
    """A new tab of `context`, watched (see `watch`)."""
    tab = context.new_page()
    watch(tab, [])
    return tab


def watch(tab, tabs: list) -> None:
    """Record what `tab` requests and every script error, console error and failed request it sees."""
    if tab in tabs:
        return  # already watched
    tabs.append(tab)
    tab.requests, tab.failed, tab.script_errors, tab.console_errors, tab.error_documents = [], [], [], [], set()
    tab.on("request", lambda request: tab.requests.append(request.url))
    tab.on("response", lambda response: _record_response(tab, response))
    tab.on("requestfailed", lambda request: tab.failed.append(f"failed {request.url}: {request.failure}"))
    tab.on("pageerror", lambda error: tab.script_errors.append(str(error)))
    tab.on("console", lambda message: message.type == "error" and tab.console_errors.append(message))


def _record_response(tab, response) -> None:
    if response.status >= 400:
        tab.failed.append(f"{response.status} {response.request.method} {response.url}")
        if response.request.resource_type == "document":
            tab.error_documents.add(response.url)


def problems(tab) -> list[str]:
    """What the tab reported that no working page reports. Its own error pages (a deliberate 403
    or 404) are the only console errors allowed: Chromium logs every document answered with 4xx."""
    found = [f"script error: {error}" for error in tab.script_errors]
    for message in tab.console_errors:
        if (message.text.startswith("Failed to load resource: the server responded with a status of 4")
                and message.location.get("url") in tab.error_documents):
            continue  # the error page the test asked for
        found.append(f"console error: {message.text} ({message.location.get('url')})")
    return found


def forget_problems(tab) -> None:
    """Start a new page's record: what was reported so far has been judged."""
    tab.script_errors.clear()
    tab.console_errors.clear()
    tab.error_documents.clear()


def full_page_screenshot(tab, path: Path) -> None:
    """A PNG of the whole page, as Playwright's full_page screenshot, in half its time: Chromium's
    fast PNG encoder (a crawl takes ~150 of them)."""
    import base64

    if not hasattr(tab, "cdp"):
        tab.cdp = tab.context.new_cdp_session(tab)
    width, height = tab.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    shot = tab.cdp.send("Page.captureScreenshot", {
        "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


# -- the demo site and its screens ----------------------------------------------------------------

def _empty(app) -> None:
    from models import db
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


def load_demo_site(app) -> None:
    """The demo data of `flask seed --demo` (40 cases over all 17 steps, dispositions, meetings,
    documents, complaints), plus what the demo lacks so that every list and details page has a row:
    an agreement in the register and a login lock (the audit log fills itself from the session hook)."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from models import Agreement, Case, CaseStatus, db

    _empty(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEMO_PASSWORD", PASSWORD)
        result = app.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        done = db.session.execute(select(Case).where(Case.status == CaseStatus.DONE).order_by(Case.id)).scalars().first()
        signed = date.today() - timedelta(days=30)
        db.session.add(Agreement(case=done, number="KSB/001/425.014/2026", signed_on=signed, valid_from=signed,
                                 valid_until=signed + timedelta(days=5 * 365),
                                 parties=f"Pemerintah Kota Probolinggo; {done.subject.name}"))
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "tidak-dikenal", "password": "salah-sandi"})  # a login lock row


@pytest.fixture(scope="module")
def demo_site(_migrated_app):
    """The app with the demo data, served over HTTP for the whole module; emptied again afterwards."""
    app = _migrated_app
    load_demo_site(app)
    # The browser keeps the panel's CSS and scripts instead of asking again on each of the ~300
    # pages of a crawl (Flask sends static files as no-cache by default): a third less time.
    cache_age = app.config.get("SEND_FILE_MAX_AGE_DEFAULT")
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    try:
        with serving(app) as base_url:
            yield base_url
    finally:
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = cache_age
        _empty(app)


def sign_in(tab, base_url: str, username: str) -> None:
    """Log in from the login form and land on the panel."""
    tab.goto(base_url + "/login")
    tab.fill("#username", username)
    tab.fill("#password", PASSWORD)
    tab.locator('form.card button[type="submit"]').click()
    tab.wait_for_url(re.compile(re.escape(base_url) + r"/admin/"))


# Links the crawl does not follow: downloads, exports and anything that acts rather than shows.
NOT_SCREENS = re.compile(r"/(export|download|delete|action|move|ajax|logout|language|static|_debug)\b"
                         r"|\.(docx|xlsx|csv|pdf|png|jpe?g|svg|ico)$")
MAX_SCREENS = 80  # per role: a bound, should the links ever multiply


@dataclass
class Screen:
    """One screen as the browser showed it."""
    name: str  # e.g. case-list, case-details, dashboard, error-403: the screenshot's file name
    url: str
    status: int


def screen_name(path: str) -> str:
    """case-list for /admin/case/, case-details for /admin/case/details/, dashboard for /admin/."""
    parts = [part for part in path.split("/") if part and part != "admin"]
    if not parts:
        return "dashboard"
    if len(parts) == 1:
        parts.append("list")
    return "-".join(parts)


def start_urls(role: str) -> list[str]:
    """The screens the permission table gives `role`: the dashboard, each list and create form it may use."""
    from admin_app.permissions import CREATE, LIST, PERMISSIONS
    from models import Role

    urls = ["/admin/"]
    for screen, rights in PERMISSIONS.items():
        letters = rights[Role(role)]
        if LIST in letters:
            urls.append(f"/admin/{screen}/")
        if CREATE in letters:
            urls.append(f"/admin/{screen}/new/")
    return urls


def forbidden_url(role: str) -> str:
    """A list `role` may not open: its 403 page."""
    from admin_app.permissions import LIST, PERMISSIONS
    from models import Role

    return next(f"/admin/{screen}/" for screen, rights in PERMISSIONS.items() if LIST not in rights[Role(role)])


def crawl(tab, base_url: str, role: str, visit: Callable[[Screen], None]) -> list[str]:
    """Open every screen `role` may use, once each, and call `visit` on it while it is shown.

    Starts from the permission table (dashboard, lists, create forms) and the navigation bar,
    then follows the links the pages show (the first details and edit page of each list, the
    case page's sheets and letters, "My work"), one page per path. Ends with a 403 and a 404
    page. Returns what was wrong with a followed link: a page answering other than 200 is a
    link the role should not have been shown."""
    origin = urlsplit(base_url)
    queue = start_urls(role)
    seen_paths: set[str] = set()
    wrong = []
    while queue and len(seen_paths) < MAX_SCREENS:
        url = queue.pop(0)
        path = urlsplit(url).path
        if path in seen_paths:
            continue
        seen_paths.add(path)
        forget_problems(tab)
        response = tab.goto(urljoin(base_url, url))
        if response is None or not response.headers.get("content-type", "").startswith("text/html"):
            continue  # a file shown inline (PDF, image): no screen of ours
        if response.status != 200:
            wrong.append(f"{url} answers {response.status} to {role}")
            continue
        visit(Screen(screen_name(path), url, response.status))
        for href in tab.eval_on_selector_all("a[href]", "links => links.map(link => link.href)"):
            target = urlsplit(href)
            if ((target.scheme, target.netloc) == (origin.scheme, origin.netloc)
                    and target.path.startswith("/admin/") and not NOT_SCREENS.search(target.path)
                    and target.path not in seen_paths):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    for code, url in ((403, forbidden_url(role)), (404, "/admin/no-such-screen/")):
        forget_problems(tab)
        response = tab.goto(base_url + url)
        assert response.status == code, f"{url}: {response.status}, expected {code}"
        visit(Screen(f"error-{code}", url, code))
    return wrong


def visit_login_page(tab, base_url: str, visit: Callable[[Screen], None]) -> None:
    """The screens of someone not logged in: the login form and a 404."""
    for name, url, code in (("login", "/login", 200), ("error-404", "/no-such-page", 404)):
        forget_problems(tab)
        response = tab.goto(base_url + url)
        assert response.status == code, f"{url}: {response.status}"
        visit(Screen(name, url, code))
