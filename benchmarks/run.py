"""Speed and memory figures, kept out of the unit tests (`make benchmark`).

Builds a throw-away SQLite database (or TEST_DATABASE_URL's) with N cases, then measures
through the real app: the case list, the overdue filter, the dashboard, and CSV/XLSX
exports of every row, with the worker's peak memory (RSS).
"""
import os
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from admin_app import create_app  # noqa: E402
from models import Case, Party, User, db  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(app) -> None:
    with app.app_context():
        upgrade()
        db.session.execute(insert(User), [{"username": "kabag", "full_name": "Kabag", "role": "kabag", "active": True,
                                            "language": "en", "session_generation": 0, "version": 1,
                                            "password_hash": generate_password_hash("bench-password")}])
        db.session.execute(insert(Party), [{"kind": "opd", "name": "Dinas A", "version": 1},
                                           {"kind": "company", "name": "PT B", "version": 1}])
        today = date.today()
        rows, now = [], datetime.now(timezone.utc)
        for number in range(1, ROWS + 1):
            received = today - timedelta(days=number % 60)
            rows.append({"registration_number": f"KS/BENCH/{number:07d}", "agreement_type": "KSB" if number % 3 else "PKS",
                         "title": f"Kerja sama {number}", "subject_id": 2, "object": "Obyek", "opd_id": 1,
                         "proposal_number": f"P/{number}", "proposal_date": received, "received_date": received,
                         "due_date": received + timedelta(days=21), "current_step": number % 17 + 1,
                         "status": "open" if number % 5 else "done", "days_on_hold": 0, "version": 1,
                         "created_at": now, "updated_at": now})
            if len(rows) == 5000:
                db.session.execute(insert(Case.__table__), rows)
                rows = []
        if rows:
            db.session.execute(insert(Case.__table__), rows)
        db.session.commit()


def timed(client, url: str, label: str, consume_stream: bool = False) -> None:
    queries = [0]

    def count(*args):
        queries[0] += 1

    with client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    size = 0
    for chunk in response.response:
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - started
    event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (url, response.status_code)
    print(f"{label:<38} {elapsed * 1000:9.0f} ms  {queries[0]:4d} queries  {size / 1e6:8.2f} MB  "
          f"peak RSS {peak_rss_mb():6.0f} MB")


def main() -> None:
    folder = tempfile.mkdtemp(prefix="kerjasama-bench-")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    started = time.perf_counter()
    build(app)
    print(f"{ROWS} cases built in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
    client = app.test_client()
    client.post("/login", data={"username": "kabag", "password": "bench-password"})
    print(f"{'baseline after login':<38} {'':>9}     {'':>4}           {'':>8}     peak RSS {peak_rss_mb():6.0f} MB")
    for _ in range(2):  # the second round runs with templates compiled and caches warm
        timed(client, "/admin/case/", "case list, page 1")
        timed(client, "/admin/case/?flt0_overdue_is=1", "case list, overdue filter")
        timed(client, "/admin/", "dashboard")
    timed(client, "/admin/case/export/csv/", f"CSV export, {ROWS} rows")
    timed(client, "/admin/case/export/xlsx/", f"XLSX export, {ROWS} rows")


if __name__ == "__main__":
    main()
