"""Real servers for the tests: the panel as production runs it (gunicorn.conf.py, `wsgi:app`, CSRF on,
no test configuration) over the test database, each server in a folder of its own, and a visitor
that speaks real HTTP to them with a cookie jar and fills in the forms the pages carry.

Each server gets an instance folder of its own through INSTANCE_PATH (its secret key file, its
SQLite default, its uploads by default), as a second machine would have its own `instance/`.
"""
import html
import html.parser
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOT_SECONDS = 60
REQUEST_SECONDS = 120  # a login's scrypt hash queues behind others on 2 cores


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """One running gunicorn: its address, its folder (log, instance folder)."""
    base: str
    folder: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def instance(self) -> Path:
        return self.folder / "instance"  # INSTANCE_PATH

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=30)
                return
            except OSError:  # not listening yet (URLError), or a worker still booting
                assert self.process.poll() is None and time.monotonic() < deadline, self.log()
                time.sleep(0.3)


def _stop(servers: list[Server]) -> None:
    """All at once: gunicorn's quick shutdown (nothing is left to finish), then a kill if it hangs."""
    for server in servers:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGINT)
    for server in servers:
        try:
            server.process.wait(30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(30)


@contextmanager
def running_servers(folders: list[Path], database_url: str, *, secret_key: str | None = None,
                    upload_folder: Path, workers: int | None = None, **environment: str) -> Iterator[list[Server]]:
    """Gunicorn servers, one per folder, booted side by side over `database_url`; each has its own
    instance folder, and all share `secret_key` and `upload_folder`, as the README asks
    of a cluster. `workers` overrides gunicorn.conf.py's count; `environment` adds or overrides
    variables (e.g. SESSION_COOKIE_SECURE)."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret_key or secrets.token_hex(32),
           "UPLOAD_FOLDER": str(upload_folder), "SESSION_COOKIE_SECURE": "0", **environment}
    options = ["--workers", str(workers)] if workers else []
    upload_folder.mkdir(parents=True, exist_ok=True)  # the administrator's part: the panel never makes it
    with ExitStack() as stack:
        servers: list[Server] = []
        stack.callback(_stop, servers)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            port = free_port()
            log_path = folder / "gunicorn.log"
            log = stack.enter_context(open(log_path, "w"))
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
                 "--access-logfile", "/dev/null", *options, "wsgi:app"],
                cwd=ROOT, env={**env, "INSTANCE_PATH": str(folder / "instance")}, stdout=log, stderr=subprocess.STDOUT)
            server = Server(f"http://127.0.0.1:{port}", folder, process, log_path)
            servers.append(server)
        for server in servers:
            server._wait_ready()
        yield servers


@contextmanager
def running_server(folder: Path, database_url: str, **settings) -> Iterator[Server]:
    """One gunicorn server (see running_servers)."""
    with running_servers([folder], database_url, **settings) as (server,):
        yield server


# -- the visitor ------------------------------------------------------------------------------------

@dataclass
class Page:
    """One answer as the visitor got it (after following redirects, unless asked not to)."""
    status: int
    url: str
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def location(self) -> str | None:
        return self.headers.get("Location")


@dataclass
class Form:
    """A form of a page: where it goes and what it sends as the page left it."""
    action: str
    method: str
    enctype: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of its submit buttons
    attributes: dict = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)


class _Forms(html.parser.HTMLParser):
    """Every form of a page with the values a browser would send (inputs, checked boxes, the
    selected option, textareas); file inputs are left to the caller."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list] | None = None  # name, [(value, selected)]
        self._textarea: tuple[str, list] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            action = urllib.parse.urljoin(self.page_url, attributes.get("action") or self.page_url)
            self._form = Form(action, attributes.get("method", "get").lower(),
                              attributes.get("enctype", "application/x-www-form-urlencoded"),
                              attributes=attributes)
            self.forms.append(self._form)
            return
        form, name = self._form, attributes.get("name")
        if form is None:
            return
        if tag == "input" and name and "disabled" not in attributes:
            kind = attributes.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    form.fields.append((name, attributes.get("value", "on")))
            elif kind == "submit":
                form.buttons.append((name, attributes.get("value", "")))
            elif kind not in ("file", "button", "reset", "image"):
                form.fields.append((name, attributes.get("value", "")))
        elif tag == "button" and attributes.get("type", "submit").lower() == "submit":
            form.buttons.append((name or "", attributes.get("value", "")))
        elif tag == "select" and name:
            self._select = (name, [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = next((value for value, selected in options if selected), options[0][0] if options else None)
            if chosen is not None:
                self._form.fields.append((name, chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, text = self._textarea
            self._form.fields.append((name, "".join(text).removeprefix("\n")))
            self._textarea = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the visitor follows redirects itself, so it can also stop at one


def _multipart(fields: list[tuple[str, str]], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----servers-" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Browser:
    """A person at a real server: a cookie jar, pages fetched over HTTP, forms submitted as the page
    left them (its CSRF token included). `on(other)` is the same person (the same cookies) sent to
    another server, as a load balancer would."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None):
        self.base = base
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirects())
        self._login_form: Form | None = None

    def on(self, base: str) -> "Browser":
        return Browser(base, self.jar)

    def _open(self, method: str, url: str, body: bytes | None, content_type: str | None) -> Page:
        request = urllib.request.Request(url, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self._opener.open(request, timeout=REQUEST_SECONDS) as answer:
                return Page(answer.status, answer.url, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return Page(error.code, url, dict(error.headers), error.read())

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None, *,
                follow: bool = True) -> Page:
        page = self._open(method, urllib.parse.urljoin(self.base + "/", path), body, content_type)
        for _ in range(10):
            if not (follow and page.status in (301, 302, 303, 307, 308) and page.location()):
                break
            target = urllib.parse.urljoin(page.url, page.location())
            if page.status in (307, 308):
                page = self._open(method, target, body, content_type)
            else:
                page = self._open("GET", target, None, None)
        return page

    def get(self, path: str, *, follow: bool = True) -> Page:
        return self.request("GET", path, follow=follow)

    def forms(self, page: Page) -> list[Form]:
        parser = _Forms(page.url)
        parser.feed(page.text)
        return parser.forms

    def form(self, page: Page, form_id: str | None = None, *, action: str | None = None) -> Form:
        """The form of `page` with this id, or the first whose action is this path, or its first form."""
        for form in self.forms(page):
            if form_id is not None and form.attributes.get("id") != form_id:
                continue
            if action is not None and urllib.parse.urlsplit(form.action).path != action:
                continue
            return form
        raise AssertionError(f"no form {form_id or action or ''} on {page.url} ({page.status}):\n{page.text[:3000]}")

    def submit(self, form: Form, data: dict | None = None, files: dict[str, tuple[str, bytes]] | None = None, *,
               press: str | None = None, follow: bool = True) -> Page:
        """Send `form` with `data` typed into it and `files` chosen ({name: (filename, bytes)}), by its
        button whose value is `press` (else its first button, as Enter does)."""
        data = data or {}
        fields = [(name, value) for name, value in form.fields if name not in data]
        fields += [(name, str(value)) for name, value in data.items()]
        button = next((b for b in form.buttons if press is None or b[1] == press), None)
        assert press is None or button is not None, f"no button {press!r} in {form.action}"
        if button and button[0]:
            fields.append(button)
        # The target server is this visitor's, whichever server's page the form came from.
        target = urllib.parse.urlsplit(form.action)
        path = target.path + (f"?{target.query}" if target.query else "")
        if form.method == "get":
            return self.get(path + ("&" if target.query else "?") + urllib.parse.urlencode(fields), follow=follow)
        if files or form.enctype == "multipart/form-data":
            body, content_type = _multipart(fields, files or {})
        else:
            body, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", path, body, content_type, follow=follow)

    def open_login(self) -> Form:
        """Open the login page (a fresh session and its CSRF token) and keep its form."""
        self._login_form = self.form(self.get("/login"))
        return self._login_form

    def login(self, username: str, password: str) -> int:
        """Log in through the login page's form; the status of the login answer itself (302 when let in)."""
        form = self._login_form or self.open_login()
        self._login_form = None  # a page's form is sent once; the next login opens the page again
        return self.submit(form, {"username": username, "password": password}, follow=False).status


def flash_text(page: Page) -> str:
    """The page's alerts (flashed messages and refusals next to their forms), tags and spaces folded."""
    alerts = re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', page.text, re.S)
    alerts = [re.sub(r'<button[^>]*class="close".*?</button>', " ", alert, flags=re.S) for alert in alerts]
    return " ".join(" ".join(html.unescape(re.sub(r"<[^>]+>", " ", alert)).split()) for alert in alerts)
