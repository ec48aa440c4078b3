"""Login throttling as an attacker meets it: a burst of simultaneous guesses checks at most the
limit of passwords (threads here, and real gunicorn workers), an unknown username costs the same
hash as a known one, a lock holds one account at one address only, and the administrator sees
the locks and lifts them."""
import re
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from flask import request_started
from sqlalchemy import func, select

import models.user
from admin_app import create_app
from models import AuditLog, LoginAttempt, LoginThrottle, User, db, login_throttle
from models.user import hash_password, unknown_account_hash
from tests.factories import PASSWORD
from tests.servers import Browser, running_server

REFUSAL = "Wrong username or password, or the account is inactive."


class PasswordChecks:
    """Counts every real password check (werkzeug's check_password_hash, still run in full)."""

    def __init__(self, monkeypatch):
        self.count = 0
        self._lock = threading.Lock()
        real = models.user.check_password_hash

        def counted(pwhash, password):
            with self._lock:
                self.count += 1
            return real(pwhash, password)

        monkeypatch.setattr(models.user, "check_password_hash", counted)


@pytest.fixture()
def checks(monkeypatch) -> PasswordChecks:
    return PasswordChecks(monkeypatch)


def _from(app, address: str):
    """A browser at `address`, reading the English UI (the refusals are compared word for word)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.post("/language/en")
    return client


def _login(client, username: str, password: str, **headers):
    return client.post("/login", data={"username": username, "password": password}, headers=headers)


def _alert(response) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    assert match, response.get_data(as_text=True)[:2000]
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def _throttle_rows(app) -> list[tuple]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(LoginThrottle.username, LoginThrottle.remote_addr, LoginThrottle.failures)
            .order_by(LoginThrottle.username, LoginThrottle.remote_addr))]


def _attempts(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(LoginAttempt)
                                  .where(LoginAttempt.username == username)).scalar_one()


# -- a burst --------------------------------------------------------------------------------------

class SameMoment:
    """Holds every request at its start until `parties` have arrived, then lets them all in."""

    def __init__(self, app, parties: int):
        self.app = app
        self.barrier = threading.Barrier(parties, timeout=30)

    def __enter__(self):
        request_started.connect(self._wait, self.app)
        return self

    def __exit__(self, *exc):
        request_started.disconnect(self._wait, self.app)

    def _wait(self, sender, **extra):
        self.barrier.wait()


@pytest.mark.parametrize("username", ["staff", "tidak-ada"], ids=["known-user", "unknown-user"])
def test_thirty_simultaneous_wrong_passwords_check_at_most_the_limit(app, users, checks, username):
    limit, parties = app.config["LOGIN_MAX_FAILURES"], 30
    clients = [_from(app, "192.0.2.7") for _ in range(parties)]
    statuses = [None] * parties

    def guess(index):
        statuses[index] = _login(clients[index], username, f"tebakan-{index}").status_code

    with SameMoment(app, parties):
        threads = [threading.Thread(target=guess, args=(i,)) for i in range(parties)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert sorted(statuses) == [401] * limit + [429] * (parties - limit)
    assert checks.count == limit
    assert _attempts(app, username) == limit  # only the checked attempts are in the login record
    assert _throttle_rows(app) == [(username, "192.0.2.7", parties)]


def test_a_locked_attempt_checks_no_password(app, users, checks):
    client = _from(app, "192.0.2.7")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(client, "staff", "keliru").status_code == 401
    assert checks.count == app.config["LOGIN_MAX_FAILURES"]
    assert _login(client, "staff", PASSWORD).status_code == 429
    assert checks.count == app.config["LOGIN_MAX_FAILURES"]


def test_a_good_password_forgets_the_failures_of_its_address(app, users):
    client = _from(app, "192.0.2.7")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert _login(client, "staff", "keliru").status_code == 401
    assert _login(client, "staff", PASSWORD).status_code == 302
    assert _throttle_rows(app) == []
    client.post("/logout")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):  # a whole new allowance
        assert _login(client, "staff", "keliru").status_code == 401, attempt
    assert _login(client, "staff", PASSWORD).status_code == 429


# -- timing ---------------------------------------------------------------------------------------

def test_the_dummy_hash_is_made_like_a_real_one():
    method = hash_password("x").split("$")[0]  # e.g. scrypt:32768:8:1
    assert unknown_account_hash().split("$")[0] == method
    assert unknown_account_hash() is unknown_account_hash()  # made once per process


def test_an_unknown_username_costs_a_password_check(app, users, checks):
    response = _login(_from(app, "192.0.2.7"), "tidak-ada", PASSWORD)
    assert response.status_code == 401
    assert checks.count == 1


def test_an_unknown_username_is_refused_as_slowly_as_a_wrong_password(app, users):
    """Medians of interleaved attempts, each from its own address (no lock), within a loose factor:
    skipping the hash made unknown users about 15 times faster."""
    timings = {"staff": [], "tidak-ada": []}
    for round_ in range(7):
        for username, taken in timings.items():
            client = _from(app, f"198.51.100.{round_}")
            started = time.perf_counter()
            assert _login(client, username, "salah-sekali-123").status_code == 401
            taken.append(time.perf_counter() - started)
    known, unknown = statistics.median(timings["staff"]), statistics.median(timings["tidak-ada"])
    assert 1 / 2.5 < unknown / known < 2.5, (known, unknown)


# -- by account and address -----------------------------------------------------------------------

def test_a_stranger_elsewhere_cannot_lock_the_administrator_out(app, users):
    stranger, office = _from(app, "203.0.113.50"), _from(app, "10.20.0.15")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(stranger, "admin", f"tebakan-{attempt}").status_code == 401
    assert _login(stranger, "admin", PASSWORD).status_code == 429  # the stranger's address is locked
    assert _login(office, "admin", PASSWORD).status_code == 302  # the administrator's is not
    assert _throttle_rows(app) == [("admin", "203.0.113.50", 6)]


def test_a_forged_forwarded_for_header_does_not_reset_the_count(app, users):
    """Without a proxy configured the peer's address counts, whatever the request says it came from."""
    client = _from(app, "203.0.113.50")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(client, "admin", "keliru", **{"X-Forwarded-For": f"10.0.0.{attempt}"}).status_code == 401
    assert _login(client, "admin", PASSWORD, **{"X-Forwarded-For": "10.0.0.99"}).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(app, users, database_url, tmp_path):
    proxied = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
                          "WTF_CSRF_ENABLED": False, "TRUSTED_PROXY_HOPS": 1, "UPLOAD_FOLDER": str(tmp_path)})
    proxy = _from(proxied, "127.0.0.1")  # every request reaches the app from the proxy
    for attempt in range(proxied.config["LOGIN_MAX_FAILURES"]):
        assert _login(proxy, "admin", "keliru", **{"X-Forwarded-For": "203.0.113.50"}).status_code == 401
    assert _login(proxy, "admin", PASSWORD, **{"X-Forwarded-For": "203.0.113.50"}).status_code == 429
    assert _login(proxy, "admin", PASSWORD, **{"X-Forwarded-For": "10.20.0.15"}).status_code == 302
    assert _throttle_rows(app) == [("admin", "203.0.113.50", 6)]


def test_a_lock_says_nothing_about_whether_the_account_exists(app, users):
    client = _from(app, "192.0.2.7")
    refusals = {}
    for username in ("staff", "tidak-ada"):
        for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
            assert _alert(_login(client, username, "keliru")) == REFUSAL
        locked = _login(client, username, PASSWORD)
        assert locked.status_code == 429 and locked.headers["Retry-After"] == "900"
        refusals[username] = _alert(locked)
    assert refusals["staff"] == refusals["tidak-ada"] == f"{REFUSAL} Try again in 15 minutes."


def test_the_minutes_left_count_down(app, users, monkeypatch):
    client = _from(app, "192.0.2.7")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "staff", "keliru")
    later = datetime.now(timezone.utc) + timedelta(minutes=14, seconds=10)
    monkeypatch.setattr(login_throttle, "utcnow", lambda: later)
    response = _login(client, "staff", PASSWORD)
    assert response.status_code == 429
    assert _alert(response) == f"{REFUSAL} Try again in 1 minute."


# -- the administrator's screen -------------------------------------------------------------------

def _lock(app, username: str, address: str, locked: bool = True) -> int:
    with app.app_context():
        now = datetime.now(timezone.utc)
        row = LoginThrottle(username=username, remote_addr=address, failures=5 if locked else 2,
                            window_ends_at=now + timedelta(minutes=10), locked_until=now + timedelta(minutes=10)
                            if locked else None, last_attempt_at=now)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_the_administrator_sees_the_locks_and_lifts_one(app, users, login_as):
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(_from(app, "203.0.113.50"), "kabag", "keliru")
    counting = _lock(app, "staff", "192.0.2.7", locked=False)
    admin = login_as("admin")
    page = admin.get("/admin/loginlock/").get_data(as_text=True)
    assert "kabag" in page and "203.0.113.50" in page and "192.0.2.7" in page
    locked_only = admin.get("/admin/loginlock/?flt0_locked_now_is=1").get_data(as_text=True)
    assert "203.0.113.50" in locked_only and "192.0.2.7" not in locked_only

    with app.app_context():
        lock_id = db.session.execute(select(LoginThrottle.id).where(LoginThrottle.username == "kabag")).scalar_one()
    response = admin.post("/admin/loginlock/action/", data={"action": "delete", "rowid": str(lock_id)},
                          follow_redirects=True)
    assert response.status_code == 200
    assert "1 lock was lifted." in response.get_data(as_text=True)
    assert _throttle_rows(app) == [("staff", "192.0.2.7", 2)]
    with app.app_context():
        audit = db.session.execute(select(AuditLog).where(AuditLog.table_name == "login_throttle",
                                                          AuditLog.action == "delete")).scalar_one()
        assert (audit.record_id, audit.record_label) == (str(lock_id), "kabag @ 203.0.113.50")
        assert audit.changes["failures"] == [5, None]
        assert audit.actor_id == users["admin"]
        assert db.session.get(LoginThrottle, counting) is not None
    assert _login(_from(app, "203.0.113.50"), "kabag", PASSWORD).status_code == 302


def test_the_lift_lock_action_is_offered_by_its_name(app, users, login_as):
    _lock(app, "kabag", "203.0.113.50")
    page = login_as("admin").get("/admin/loginlock/").get_data(as_text=True)
    assert "Lift lock" in page


@pytest.mark.parametrize("role", ["kabag", "kasubbag", "staff", "viewer"])
def test_only_the_administrator_sees_or_lifts_locks(app, users, login_as, role):
    lock_id = _lock(app, "admin", "203.0.113.50")
    client = login_as(role)
    assert client.get("/admin/loginlock/").status_code == 403
    assert client.post("/admin/loginlock/action/", data={"action": "delete", "rowid": str(lock_id)}).status_code == 403
    assert client.post("/admin/loginlock/delete/", data={"id": str(lock_id)}).status_code == 403
    assert _throttle_rows(app) == [("admin", "203.0.113.50", 5)]


# -- real gunicorn workers ----------------------------------------------------------------------

@pytest.fixture()
def gunicorn(app, database_url, tmp_path):
    """The panel served by gunicorn.conf.py (two worker processes) over the test database."""
    with running_server(tmp_path / "server", database_url, upload_folder=tmp_path / "uploads") as server:
        yield server.base


def test_a_burst_across_gunicorn_workers_checks_at_most_the_limit(app, users, gunicorn):
    """Each worker process has its own memory: only the database can hold the count."""
    limit, parties = app.config["LOGIN_MAX_FAILURES"], 30
    with app.app_context():  # the server's users hash with the real default method, as in production
        db.session.get(User, users["staff"]).password_hash = hash_password(PASSWORD)
        db.session.commit()
    browsers = [Browser(gunicorn) for _ in range(parties)]
    for browser in browsers:  # each has its login page open: the burst is the posts alone
        browser.open_login()
    start = threading.Barrier(parties, timeout=30)
    statuses = [None] * parties

    def guess(index):
        start.wait()
        statuses[index] = browsers[index].login("staff", f"tebakan-{index}")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert sorted(statuses) == [401] * limit + [429] * (parties - limit)
    assert _attempts(app, "staff") == limit  # one login record per password checked, in any worker
    assert _throttle_rows(app) == [("staff", "127.0.0.1", parties)]
    assert browsers[0].login("staff", PASSWORD) == 429
