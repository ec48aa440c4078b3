"""First steps of the workplace: the number opens the case, the overdue list by days late, new
accounts start with the least rights, readers are offered no addressee's action."""
import re
from datetime import timedelta

from sqlalchemy import select

from models import AuditLog, Meeting, db
from models.sla import local_today
from tests.factories import make_case


def test_the_registration_number_opens_the_case(app, login_as, users):
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
    page = login_as("staff").get("/admin/case/").get_data(as_text=True)
    assert re.search(rf'<a href="/admin/case/details/\?id={case_id}[^"]*">KS/2026/0001</a>', page)


def test_the_overdue_list_puts_the_latest_first(app, login_as, users):
    today = local_today()
    with app.app_context():
        # Registered in another order than they are late: the due date alone decides.
        slight = make_case(received_date=today - timedelta(days=25), proposal_number="O/1")
        very = make_case(received_date=today - timedelta(days=60), proposal_number="O/2")
        middle = make_case(received_date=today - timedelta(days=40), proposal_number="O/3")
        db.session.commit()
        order = [very.registration_number, middle.registration_number, slight.registration_number]
    page = login_as("kasubbag").get("/admin/case/?flt0_overdue_is=1").get_data(as_text=True)
    shown = [n for n in re.findall(r">(KS/2026/\d{4})</a>", page)]
    assert shown == order


def test_a_new_account_starts_as_a_viewer_and_needs_a_password(app, login_as, users):
    client = login_as("admin")
    form = client.get("/admin/user/new/").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="viewer"|<option[^>]*value="viewer"[^>]*selected', form)
    assert re.search(r'<input[^>]*name="new_password"[^>]*required|<input[^>]*required[^>]*name="new_password"', form)


def test_a_viewer_is_not_offered_mark_done(app, login_as, users):
    page = login_as("viewer").get("/admin/disposition/").get_data(as_text=True)
    assert "mark_done" not in page
    assert "mark_done" in login_as("kasubbag").get("/admin/disposition/").get_data(as_text=True)


def test_saving_a_meeting_unchanged_writes_no_time_change_to_the_audit_log(app, login_as, users):
    from datetime import datetime, timezone
    with app.app_context():
        case = make_case(current_step=6)
        meeting = Meeting(case=case, scheduled_at=datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc), place="Aula")
        db.session.add(meeting)
        db.session.commit()
        meeting_id, case_id, version = meeting.id, case.id, meeting.version
    client = login_as("kasubbag")
    response = client.post(f"/admin/meeting/edit/?id={meeting_id}", data={
        "case": case_id, "scheduled_at": "2026-12-07 09:00:00", "place": "Aula", "agenda": "", "status": "planned",
        "minutes": "", "row_version": version})
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.execute(select(AuditLog).where(AuditLog.table_name == "meeting",
                                                         AuditLog.action == "update")).scalars().all()
        assert all("scheduled_at" not in (row.changes or {}) for row in rows)


def test_list_filters_stay_while_the_user_works_and_clear_on_the_list(app, login_as, users):
    client = login_as("kasubbag")
    filtered = "/admin/case/?flt0_overdue_is=1&search=pariwisata"
    assert client.get(filtered).status_code == 200
    # Back to the list from another page (the menu, a case page): the list as the user left it.
    back = client.get("/admin/case/", headers={"Referer": "http://localhost/admin/"})
    assert back.status_code == 302
    assert back.headers["Location"].endswith("/admin/case/?flt0_overdue_is=1&search=pariwisata")
    # Each list remembers its own; another list is untouched.
    assert client.get("/admin/meeting/", headers={"Referer": "http://localhost/admin/"}).status_code == 200
    # Removing the filters on the list itself shows it plain, and it stays plain.
    assert client.get("/admin/case/", headers={"Referer": "http://localhost" + filtered}).status_code == 200
    assert client.get("/admin/case/", headers={"Referer": "http://localhost/admin/"}).status_code == 200
    # Another user's session has nothing of it.
    assert login_as("staff").get("/admin/case/", headers={"Referer": "http://localhost/admin/"}).status_code == 200
