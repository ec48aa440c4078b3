"""Every list page costs the same few statements whatever the page size and the number of rows; the
count stops at a cap; the deadline lists are read in their order from an index (issue 11)."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text

from admin_app.admin.base import SecuredModelView
from models import (
    Agreement,
    Case,
    CaseStatus,
    Complaint,
    Disposition,
    Meeting,
    User,
    db,
)
from models.case import overdue_clause
from models.login_throttle import LoginThrottle
from models.sla import local_today
from tests.factories import make_case, make_document, make_party, make_user
from tests.helpers import row_version

ROWS = 30  # more than the smallest page (25), fewer than the largest (100)
# Statements a list may run for itself: the capped count and the page, with room for a
# collection loaded in one more statement. Never one per row.
LIST_STATEMENTS = 4


def _statements(app, client, url: str) -> tuple[list[str], str]:
    """The SQL statements one GET of `url` runs, and the page it shows."""
    seen: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    assert response.status_code == 200, (url, response.status_code)
    return seen, response.get_data(as_text=True)


def _list_views(app) -> list[SecuredModelView]:
    return [view for view in app.extensions["admin"][0]._views if isinstance(view, SecuredModelView)]


def _rows_shown(view, page: str) -> int:
    first = view._list_columns[0][0]
    return len(re.findall(rf'<td class="col-{re.escape(first)}"', page))


@pytest.fixture()
def thirty_of_everything(app, users):
    """ROWS rows on every screen, each pointing to different related rows (different parties, users,
    cases), so that a relation loaded per row shows as statements."""
    today = local_today()
    with app.app_context():
        workers = [make_user("staff", username=f"staff{n}", full_name=f"Staf {n}") for n in range(ROWS)]
        opd = make_party("opd", "Dinas Lingkungan Hidup")
        cases = []
        for n in range(ROWS):
            case = make_case(subject=make_party("company", f"PT Mitra {n}"), opd=opd, assigned_to=workers[n],
                             title=f"Kerja sama {n}", received_date=today - timedelta(days=40 + n))
            cases.append(case)
        db.session.flush()
        for n, case in enumerate(cases):
            db.session.add(Disposition(case=case, step=case.current_step, author_id=workers[n].id,
                                       to_user_id=workers[(n + 1) % ROWS].id, instruction="study"))
            db.session.add(Meeting(case=case, scheduled_at=datetime(2026, 11, 3, 2, tzinfo=timezone.utc) + timedelta(days=n),
                                   place=f"Ruang {n}"))
            make_document(case, "proposal_letter", title=f"Surat {n}", created_by_id=workers[n].id)
            db.session.add(Complaint(received_at=datetime.now(timezone.utc) - timedelta(hours=n), channel="email",
                                     complainant=f"Warga {n}", description="Pertanyaan", case=case))
            # Each agreement follows one that is valid longer, shown on a later page (the list reads
            # the soonest to end first): its number comes from a row the page did not load.
            followed = Agreement(case=make_case(title=f"Kerja sama lama {n}", received_date=today - timedelta(days=90)),
                                 number=f"KSB/{n:03d}/2025", signed_on=today, valid_from=today,
                                 valid_until=today + timedelta(days=900 + n), parties=f"Pemkot dan PT Mitra {n}")
            db.session.add(Agreement(case=case, number=f"KSB/{n:03d}/2026", signed_on=today, valid_from=today,
                                     valid_until=today + timedelta(days=365 + n), parties=f"Pemkot dan PT Mitra {n}",
                                     follows=followed))
            now = datetime.now(timezone.utc)
            db.session.add(LoginThrottle(username=f"tamu{n}", remote_addr=f"10.0.0.{n}", failures=1,
                                         window_ends_at=now, last_attempt_at=now))
        db.session.commit()
    return cases


# The audit log names the records its changes point to (a case, a party, a user, a meeting): the
# names made of a record's own columns in one statement for the page, a meeting's (made with its
# case) in one more (admin_app/admin/records.py _load_references), never one per row.
OVER_BUDGET = {"auditlog"}
REFERENCE_STATEMENTS = 2


def _list_costs(app, login_as, views):
    """Per view: the statements of an empty page (past the end) and of pages of 25 and 100 rows."""
    client, role_now, costs = None, None, {}
    for view in views:
        role = next(r for r in ("kabag", "admin") if _may_list(app, r, view.screen))
        if role != role_now:
            client, role_now = login_as(role), role
        url = view.url + "/"
        # A page past the end runs the count and the page query and shows no row: what remains is
        # the request's own cost (the user, the settings, the menu's figures).
        client.get(url)  # the badge is counted (and kept in the session) by the first page after the login
        empty, page = _statements(app, client, url + "?page=50")
        assert _rows_shown(view, page) == 0, view.endpoint
        full = {}
        for size in (25, 100):
            statements, page = _statements(app, client, f"{url}?page_size={size}")
            assert _rows_shown(view, page) == min(size, _table_rows(app, view)), (view.endpoint, size)
            full[size] = statements
        costs[view.endpoint] = (empty, full)
    return costs


def test_every_list_costs_the_same_few_statements_at_any_page_size(app, users, login_as, thirty_of_everything):
    views = [view for view in _list_views(app) if view.endpoint not in OVER_BUDGET]
    assert len(views) >= 10
    for endpoint, (empty, full) in _list_costs(app, login_as, views).items():
        for size, statements in full.items():
            assert len(statements) - (len(empty) - 2) <= LIST_STATEMENTS, (endpoint, size, statements)
        assert len(full[25]) == len(full[100]), (endpoint, len(full[25]), len(full[100]))


def test_the_audit_log_names_the_records_it_points_to_in_two_statements(app, users, login_as, thirty_of_everything):
    views = [view for view in _list_views(app) if view.endpoint in OVER_BUDGET]
    for endpoint, (empty, full) in _list_costs(app, login_as, views).items():
        assert len(full[25]) == len(full[100]), (len(full[25]), len(full[100]))
        assert len(full[100]) - (len(empty) - 2) <= LIST_STATEMENTS + REFERENCE_STATEMENTS, full[100]


def _may_list(app, role: str, screen: str) -> bool:
    from admin_app.permissions import LIST, PERMISSIONS
    return LIST in PERMISSIONS[screen][role]


def _table_rows(app, view) -> int:
    with app.app_context():
        return db.session.query(view.model).count()


def test_the_case_list_counts_once_and_joins_what_it_shows(app, users, login_as, thirty_of_everything):
    client = login_as("kabag")
    client.get("/admin/case/")  # the badge is counted (and kept) by the first page after the login
    empty, _ = _statements(app, client, "/admin/case/?page=50")
    statements, page = _statements(app, client, "/admin/case/?page_size=100")
    assert len(statements) == len(empty)  # a full page costs what an empty one does
    counts = [s for s in statements if s.startswith("SELECT count(*)") and "FROM cooperation_case" in s]
    rows = [s for s in statements if s.startswith("SELECT cooperation_case.id AS")]
    assert len(counts) == 1 and len(rows) == 1, statements
    assert re.search(r"FROM \(SELECT 1\s+FROM cooperation_case\s+LIMIT", counts[0]), counts[0]
    assert "JOIN party" in rows[0] and "JOIN app_user" in rows[0]  # the parties and users joined in
    assert "PT Mitra 0" in page and "PT Mitra 29" in page and "Staf 29" in page
    assert "List (60)" in page  # the thirty, and the thirty whose agreements the others follow


def _case_view(app):
    return next(view for view in _list_views(app) if view.endpoint == "case")


def test_beyond_the_cap_the_list_says_more_than_and_pages_on(app, users, login_as, thirty_of_everything,
                                                             monkeypatch):
    monkeypatch.setattr(_case_view(app), "count_cap", 10)
    client = login_as("kabag")
    first = client.get("/admin/case/").get_data(as_text=True)
    # The first page (25 rows) is within what was counted: there are more than 25, a second page.
    assert "List (more than 25)" in first
    assert 'rel="next"' in first and "page=1" in first
    assert "&raquo;" not in first and "page=2" not in first  # no link to a last page nobody counted
    second = client.get("/admin/case/?page=1").get_data(as_text=True)
    assert "List (more than 50)" in second and "page=2" in second
    third = client.get("/admin/case/?page=2").get_data(as_text=True)
    assert "List (60)" in third and 'rel="next"' not in third
    assert _rows_shown(_case_view(app), third) == 10


def test_the_count_is_exact_up_to_the_cap(app, users, login_as, thirty_of_everything, monkeypatch):
    monkeypatch.setattr(_case_view(app), "count_cap", 60)
    client = login_as("kabag")
    assert "List (60)" in client.get("/admin/case/").get_data(as_text=True)
    monkeypatch.setattr(_case_view(app), "count_cap", 59)
    assert "List (more than 59)" in client.get("/admin/case/").get_data(as_text=True)


def test_more_than_reads_in_indonesian(app, users, login_as, thirty_of_everything, monkeypatch):
    with app.app_context():
        db.session.get(User, users["kabag"]).language = "id"
        db.session.commit()
    monkeypatch.setattr(_case_view(app), "count_cap", 10)
    page = login_as("kabag").get("/admin/case/").get_data(as_text=True)
    assert "(lebih dari 25)" in page


# -- the deadline lists: an index, in their order ----------------------------------------------------------
def _late_and_soon(app):
    """Cases late by different amounts, one on hold since before its due date (not late), one due
    soon, one closed though past its date."""
    today = local_today()
    with app.app_context():
        made = {}
        for name, received in (("late_10", 31), ("late_3", 24), ("late_20", 41), ("soon", 18), ("far", 2),
                               ("closed", 50), ("held", 35)):
            made[name] = make_case(title=f"Kasus {name}", received_date=today - timedelta(days=received))
        made["closed"].status = CaseStatus.DONE
        made["held"].status, made["held"].held_since = CaseStatus.ON_HOLD, made["held"].due_date - timedelta(days=2)
        db.session.commit()
        return {name: (case.registration_number, case.due_date) for name, case in made.items()}


def _titles(page: str) -> list[str]:
    return re.findall(r"Kasus (\w+)", page)


def test_the_overdue_list_reads_the_most_days_late_first(app, users, login_as):
    made = _late_and_soon(app)
    page = login_as("kabag").get("/admin/case/?flt0_overdue_is=1").get_data(as_text=True)
    late = sorted((n for n in made if n.startswith("late")), key=lambda n: made[n][1])
    assert _titles(page) == late == ["late_20", "late_10", "late_3"]


def test_the_due_soon_list_reads_the_soonest_first(app, users, login_as):
    made = _late_and_soon(app)
    page = login_as("kabag").get("/admin/case/?flt0_due_within_days_days=30").get_data(as_text=True)
    assert _titles(page) == ["soon", "far"]
    assert made["soon"][1] < made["far"][1]
    # The user's own sort still wins.
    page = login_as("kabag").get("/admin/case/?flt0_due_within_days_days=30&sort=8&desc=1").get_data(as_text=True)
    assert _titles(page) == ["far", "soon"]


def _list_statement(app, client, url: str) -> tuple[str, dict]:
    """The page's statement on cases (the one with an ORDER BY), with its parameters."""
    captured = []

    def _record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT cooperation_case.id AS"):
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    assert len(captured) == 1, captured
    return captured[0]


def _plan(app, statement: str, parameters) -> str:
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            # A test table is tiny: the planner would read it whole. Forbid that, and the plan shows
            # what the index can do (the benchmark checks the planner picks it at 1M rows too).
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).fetchall()
        else:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
        db.session.rollback()
    return "\n".join(str(row[-1]) for row in plan)


@pytest.mark.parametrize("url", ["/admin/case/?flt0_overdue_is=1", "/admin/case/?flt0_due_within_days_days=7"])
def test_the_deadline_lists_are_read_from_an_index_in_their_order(app, users, login_as, url):
    _late_and_soon(app)
    statement, parameters = _list_statement(app, login_as("kabag"), url)
    plan = _plan(app, statement, parameters)
    assert re.search(r"ix_case_(open|status)_due_date", plan), plan
    # No sort of the matching rows: the index gives them in the list's order.
    assert "TEMP B-TREE" not in plan.upper() and not re.search(r"^\s*(->\s*)?Sort\b", plan, re.M), plan


def test_the_overdue_list_uses_the_partial_index(app, users, login_as):
    _late_and_soon(app)
    statement, parameters = _list_statement(app, login_as("kabag"), "/admin/case/?flt0_overdue_is=1")
    assert "ix_case_open_due_date" in _plan(app, statement, parameters)


def test_the_overdue_count_of_the_dashboard_matches_the_list(app, users, login_as):
    """The open-status term added to the clause changes no answer."""
    _late_and_soon(app)
    with app.app_context():
        late = db.session.query(Case).filter(overdue_clause(local_today())).count()
    assert late == 3
    page = login_as("kabag").get("/admin/case/?flt0_overdue_is=1").get_data(as_text=True)
    assert "List (3)" in page


def test_the_indexes_are_those_the_models_declare(app):
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes "
                                           "WHERE tablename = 'cooperation_case' AND indexname LIKE 'ix_case_%'"))
        else:
            rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                           "AND tbl_name = 'cooperation_case' AND name LIKE 'ix_case_%'"))
        found = {name: sql for name, sql in rows}
    assert "ix_case_open_due_date" in found and "ix_case_status_due_date" in found
    assert re.search(r"WHERE.*status.*open.*on_hold", found["ix_case_open_due_date"], re.S), found


WHOLE_REQUEST = 4  # issue 11: a list request in all, the user and the My work badge included
BUSY_LISTS = ("/admin/case/", "/admin/case/?flt0_overdue_is=1", "/admin/case/?flt0_due_within_days_days=7",
              "/admin/case/?flt0_proposing_opd_equals=Dinas+Lingkungan+Hidup", "/admin/case/?search=Kerja",
              "/admin/stepevent/")


@pytest.mark.parametrize("role", ["staff", "kasubbag", "kabag"])
def test_a_busy_list_costs_four_statements_in_all_whoever_asks(app, users, login_as, thirty_of_everything, role):
    """The user, the badge, the count and the page: the settings are the worker's for a while."""
    client = login_as(role)
    for url in BUSY_LISTS:
        client.get(url)  # the worker has read the settings once
        for size in (25, 100):
            statements, page = _statements(app, client, f"{url}{'&' if '?' in url else '?'}page_size={size}")
            assert len(statements) <= WHOLE_REQUEST, (role, url, size, statements)
            if "due_within" not in url:  # the thirty are all late
                assert "Kerja sama" in page or "Staf " in page, (role, url)


def test_a_changed_setting_shows_on_the_next_page_and_is_read_once_meanwhile(app, users, login_as, runner):
    runner.invoke(args=["seed"])
    with app.app_context():
        case = make_case(title="Kerja sama jatuh tempo")
        case.due_date = local_today() + timedelta(days=5)
        db.session.commit()
    kabag = login_as("kabag")
    first, page = _statements(app, kabag, "/admin/case/")
    assert 'badge badge-warning">5 ' in page  # due soon: within the 7 days of the seeded setting
    again, _ = _statements(app, kabag, "/admin/case/")
    assert not any("FROM setting" in s for s in again), again  # kept from the request before
    admin = login_as("admin")
    form = admin.get("/admin/setting/edit/?id=due_soon_days").get_data(as_text=True)
    response = admin.post("/admin/setting/edit/?id=due_soon_days", data={"value": "3", "row_version": row_version(form)})
    assert response.status_code == 302
    _, page = _statements(app, login_as("kabag"), "/admin/case/")
    assert 'badge badge-light">5 ' in page  # no longer within the window: seen by the next page at once
