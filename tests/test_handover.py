"""People leave, cases don't get lost: no deleting who holds records, hand-over on deactivation,
and the supervisors' reassign action. Over HTTP, on the real database."""
import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from models import AuditLog, Case, Disposition, Document, StepEvent, User, db
from tests.factories import make_case, make_user
from tests.helpers import flashes, row_version

DONE_AT = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)


def _shown(response) -> str:
    return html.unescape(flashes(response))


def _leaver(**overrides) -> int:
    return make_user("staff", username="budi", full_name="Budi Santoso", **overrides).id


def _disposition(case_id: int, **fields) -> Disposition:
    disposition = Disposition(case_id=case_id, step=1, instruction="study", note="Pelajari", **fields)
    db.session.add(disposition)
    db.session.flush()
    return disposition


def _user_form(client, user_id: int, **overrides) -> dict:
    """The user's edit form as the browser posts it (an unchecked box is not posted)."""
    page = client.get(f"/admin/user/edit/?id={user_id}").get_data(as_text=True)
    user = db.session.get(User, user_id)
    body = {"username": user.username, "full_name": user.full_name, "email": "", "role": user.role,
            "active": "y", "language": user.language, "new_password": "", "successor": "",
            "row_version": row_version(page)}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def _audited(table: str, record_id: int, column: str) -> list:
    """The [old, new] of every audit row that changed `column` of the record, oldest first."""
    rows = db.session.execute(select(AuditLog).where(AuditLog.table_name == table, AuditLog.action == "update",
                                                     AuditLog.record_id == str(record_id))
                              .order_by(AuditLog.id)).scalars()
    return [(row.changes[column], row.actor_id) for row in rows if column in (row.changes or {})]


# -- deleting ---------------------------------------------------------------------------------

def _holds_a_case(leaver):
    make_case(assigned_to_id=leaver)


def _wrote_a_disposition(leaver):
    _disposition(make_case().id, author_id=leaver, to_role="staff")


def _received_a_disposition(leaver):
    _disposition(make_case().id, to_user_id=leaver, done_at=DONE_AT)


def _made_history(leaver):
    case = make_case()
    db.session.add(StepEvent(case_id=case.id, kind="advance", from_step=1, to_step=2, actor_id=leaver))


def _created_a_document(leaver):
    db.session.add(Document(case_id=make_case().id, kind="other", revision=1, title="Surat", created_by_id=leaver))


HOLDINGS = {"case": (_holds_a_case, "1 case"), "author": (_wrote_a_disposition, "1 disposition"),
            "addressee": (_received_a_disposition, "1 disposition"), "history": (_made_history, "1 history entry"),
            "document": (_created_a_document, "1 document")}


@pytest.mark.parametrize("bulk", [False, True], ids=["delete", "bulk-delete"])
@pytest.mark.parametrize("holding", HOLDINGS)
def test_a_user_who_holds_records_cannot_be_deleted(app, login_as, users, holding, bulk):
    make_holding, counted = HOLDINGS[holding]
    with app.app_context():
        leaver = _leaver()
        make_holding(leaver)
        db.session.commit()
    client = login_as("admin")
    if bulk:
        response = client.post("/admin/user/action/", data={"action": "delete", "rowid": str(leaver)},
                               follow_redirects=True)
    else:
        response = client.post("/admin/user/delete/", data={"id": str(leaver)}, follow_redirects=True)
    shown = _shown(response)
    assert "Budi Santoso cannot be deleted: the account holds " + counted in shown
    assert "Deactivate the account instead." in shown
    assert "successfully deleted" not in shown
    with app.app_context():
        assert db.session.get(User, leaver) is not None


def test_the_refusal_counts_everything_the_user_holds(app, login_as, users):
    with app.app_context():
        leaver = _leaver()
        for _ in range(3):
            make_case(assigned_to_id=leaver)
        _wrote_a_disposition(leaver)
        _made_history(leaver)
        db.session.commit()
    response = login_as("admin").post("/admin/user/delete/", data={"id": str(leaver)}, follow_redirects=True)
    assert "holds 3 cases, 1 disposition, 1 history entry. Deactivate the account instead." in _shown(response)


@pytest.mark.parametrize("bulk", [False, True], ids=["delete", "bulk-delete"])
def test_a_user_who_holds_nothing_can_be_deleted(app, login_as, users, bulk):
    with app.app_context():
        leaver = _leaver()
        make_case(assigned_to_id=users["staff"])  # someone else's work does not keep budi
        db.session.commit()
    client = login_as("admin")
    if bulk:
        response = client.post("/admin/user/action/", data={"action": "delete", "rowid": str(leaver)})
    else:
        response = client.post("/admin/user/delete/", data={"id": str(leaver)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, leaver) is None


def test_a_bulk_delete_refuses_the_holder_and_deletes_the_rest(app, login_as, users):
    with app.app_context():
        holder, free = _leaver(), make_user("staff", username="sari", full_name="Sari Dewi").id
        make_case(assigned_to_id=holder)
        db.session.commit()
    response = login_as("admin").post("/admin/user/action/", data={"action": "delete", "rowid": [holder, free]},
                                      follow_redirects=True)
    shown = _shown(response)
    assert "Budi Santoso cannot be deleted" in shown and "Record was successfully deleted." in shown
    with app.app_context():
        assert db.session.get(User, holder) is not None and db.session.get(User, free) is None


# -- deactivating -------------------------------------------------------------------------------

@pytest.fixture()
def busy_leaver(app, users) -> dict:
    """Budi holds two open cases (one on hold), a closed one, an undone and a done disposition."""
    with app.app_context():
        leaver = _leaver()
        first = make_case(assigned_to_id=leaver)
        held = make_case(assigned_to_id=leaver, status="on_hold")
        closed = make_case(assigned_to_id=leaver, status="done", closed_at=DONE_AT)
        other = make_case(assigned_to_id=users["kasubbag"])
        undone = _disposition(other.id, author_id=users["kabag"], to_user_id=leaver)
        done = _disposition(other.id, author_id=users["kabag"], to_user_id=leaver, done_at=DONE_AT)
        db.session.commit()
        return {"leaver": leaver, "open": [first.id, held.id], "closed": closed.id, "undone": undone.id,
                "done": done.id, "numbers": [first.registration_number, held.registration_number],
                "closed_number": closed.registration_number, "other_number": other.registration_number}


def test_the_edit_form_lists_what_the_user_holds(app, login_as, busy_leaver):
    page = html.unescape(login_as("admin").get(f"/admin/user/edit/?id={busy_leaver['leaver']}")
                         .get_data(as_text=True))
    assert 'name="successor"' in page
    for number in busy_leaver["numbers"]:
        assert number in page
    assert busy_leaver["closed_number"] not in page
    assert f"{busy_leaver['other_number']}: Study (step 1)" in page
    options = dict((label, value) for value, label in re.findall(
        r'<option[^>]*value="(\d*)"[^>]*>([^<]*)</option>', page[page.index('name="successor"'):]))
    assert "Pengguna staff (Staff)" in options and "Pengguna kabag (Head of Section (Kabag))" in options
    assert not any(name.startswith(("Budi", "Pengguna viewer", "Pengguna admin")) for name in options)


def test_deactivating_without_a_successor_is_refused_and_lists_the_holdings(app, login_as, busy_leaver):
    client = login_as("admin")
    with app.app_context():
        body = _user_form(client, busy_leaver["leaver"], active=None)
        version = db.session.get(User, busy_leaver["leaver"]).version
    response = client.post(f"/admin/user/edit/?id={busy_leaver['leaver']}", data=body)
    assert response.status_code == 200  # the form comes back
    shown = _shown(response)
    assert "Budi Santoso still holds open cases" in shown and "Choose the successor" in shown
    for number in busy_leaver["numbers"]:
        assert number in shown
    assert busy_leaver["closed_number"] not in shown
    assert f"{busy_leaver['other_number']}: Study (step 1)" in shown
    with app.app_context():
        leaver = db.session.get(User, busy_leaver["leaver"])
        assert leaver.active and leaver.version == version
        assert {db.session.get(Case, case_id).assigned_to_id for case_id in busy_leaver["open"]} == {leaver.id}
        assert db.session.get(Disposition, busy_leaver["undone"]).to_user_id == leaver.id


def test_a_role_without_case_work_needs_a_successor_too(app, login_as, busy_leaver):
    client = login_as("admin")
    with app.app_context():
        body = _user_form(client, busy_leaver["leaver"], role="viewer")
    response = client.post(f"/admin/user/edit/?id={busy_leaver['leaver']}", data=body)
    assert "still holds open cases" in _shown(response)
    with app.app_context():
        assert db.session.get(User, busy_leaver["leaver"]).role == "staff"


def test_deactivating_with_a_successor_moves_the_open_work_in_the_audit_log(app, login_as, users, busy_leaver):
    client = login_as("admin")
    leaver, successor = busy_leaver["leaver"], users["staff"]
    with app.app_context():
        body = _user_form(client, leaver, active=None, successor=str(successor))
    response = client.post(f"/admin/user/edit/?id={leaver}", data=body, follow_redirects=True)
    assert "Handed over to Pengguna staff: 2 cases, 1 disposition." in _shown(response)
    with app.app_context():
        assert db.session.get(User, leaver).active is False
        for case_id in busy_leaver["open"]:
            assert db.session.get(Case, case_id).assigned_to_id == successor
            assert _audited("cooperation_case", case_id, "assigned_to_id") == [([leaver, successor], users["admin"])]
        assert db.session.get(Case, busy_leaver["closed"]).assigned_to_id == leaver  # the record of who did it
        assert db.session.get(Disposition, busy_leaver["undone"]).to_user_id == successor
        assert _audited("disposition", busy_leaver["undone"], "to_user_id") == [([leaver, successor], users["admin"])]
        assert db.session.get(Disposition, busy_leaver["done"]).to_user_id == leaver


def test_a_successor_chosen_for_an_active_account_takes_its_open_work(app, login_as, users, busy_leaver):
    """Long leave: the account stays, its open work moves."""
    client = login_as("admin")
    with app.app_context():
        body = _user_form(client, busy_leaver["leaver"], successor=str(users["kasubbag"]))
    response = client.post(f"/admin/user/edit/?id={busy_leaver['leaver']}", data=body, follow_redirects=True)
    assert "Handed over to Pengguna kasubbag: 2 cases, 1 disposition." in _shown(response)
    with app.app_context():
        assert db.session.get(User, busy_leaver["leaver"]).active is True
        assert {db.session.get(Case, case_id).assigned_to_id for case_id in busy_leaver["open"]} == {users["kasubbag"]}


def test_deactivating_a_user_who_holds_no_open_work_needs_no_successor(app, login_as, users):
    with app.app_context():
        leaver = _leaver()
        make_case(assigned_to_id=leaver, status="done", closed_at=DONE_AT)
        db.session.commit()
    client = login_as("admin")
    with app.app_context():
        body = _user_form(client, leaver, active=None)
    assert client.post(f"/admin/user/edit/?id={leaver}", data=body).status_code == 302
    with app.app_context():
        assert db.session.get(User, leaver).active is False


NOT_A_CASE_WORKER = "Cases and dispositions can only be given to an active staff member, Kasubbag or Kabag."


@pytest.mark.parametrize(("taker", "active", "refusal"), [
    ("viewer", None, NOT_A_CASE_WORKER), ("admin", None, NOT_A_CASE_WORKER), ("inactive", None, NOT_A_CASE_WORKER),
    ("unknown", None, NOT_A_CASE_WORKER), ("leaver", None, NOT_A_CASE_WORKER),
    ("leaver", "y", "Choose someone else to take over the work of Budi Santoso."),
])
def test_the_server_refuses_a_successor_who_does_not_work_cases(app, login_as, users, busy_leaver, taker, active,
                                                                refusal):
    """The select offers none of these; a crafted POST names them anyway."""
    with app.app_context():
        ids = {**users, "leaver": busy_leaver["leaver"], "unknown": 987654,
               "inactive": make_user("staff", username="pensiun", full_name="Sudah Pensiun", active=False).id}
        db.session.commit()
    client = login_as("admin")
    with app.app_context():
        body = _user_form(client, busy_leaver["leaver"], active=active, successor=str(ids[taker]))
    response = client.post(f"/admin/user/edit/?id={busy_leaver['leaver']}", data=body)
    assert response.status_code == 200
    assert refusal in _shown(response)
    with app.app_context():
        assert db.session.get(User, busy_leaver["leaver"]).active is True
        for case_id in busy_leaver["open"]:
            assert db.session.get(Case, case_id).assigned_to_id == busy_leaver["leaver"]
        assert db.session.get(Disposition, busy_leaver["undone"]).to_user_id == busy_leaver["leaver"]


# -- the supervisors' reassign action -----------------------------------------------------------

def _row_ids(client, case_ids) -> list[str]:
    """The checkbox values the case list shows for these cases (what the browser posts)."""
    page = client.get("/admin/case/").get_data(as_text=True)
    values = re.findall(r'name="rowid" class="action-checkbox"\s+value="([^"]+)"', page)
    return [value for value in values if int(value.split(":")[0]) in case_ids]


@pytest.fixture()
def three_cases(app, users) -> list[int]:
    with app.app_context():
        ids = [make_case(assigned_to_id=users["staff"], title=f"KSB Kerja sama {n}").id for n in range(3)]
        db.session.commit()
        return ids


def test_kasubbag_reassigns_two_of_three_cases_from_the_list(app, login_as, users, three_cases):
    with app.app_context():
        taker = make_user("staff", username="sari", full_name="Sari Dewi").id
        db.session.commit()
    client = login_as("kasubbag")
    page = client.get("/admin/case/").get_data(as_text=True)
    assert "modelActions.execute('reassign')" in page
    chosen = three_cases[:2]
    response = client.post("/admin/case/action/", data={"action": "reassign", "rowid": _row_ids(client, chosen),
                                                         "url": "/admin/case/"})
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    with app.app_context():
        numbers = {case_id: db.session.get(Case, case_id).registration_number for case_id in three_cases}
    assert numbers[chosen[0]] in page and numbers[chosen[1]] in page and numbers[three_cases[2]] not in page
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', page)
    assert (str(taker), "Sari Dewi (Staff)") in options
    assert not any(name.startswith(("Pengguna viewer", "Pengguna admin")) for _, name in options)
    posted = re.findall(r'<input type="hidden" name="id" value="(\d+)">', page)
    assert sorted(map(int, posted)) == sorted(chosen)

    response = client.post("/admin/case/reassign/", data={"id": posted, "assignee": str(taker), "url": "/admin/case/"},
                           follow_redirects=True)
    assert "2 cases reassigned to Sari Dewi." in _shown(response)
    with app.app_context():
        for case_id in chosen:
            assert db.session.get(Case, case_id).assigned_to_id == taker
            assert _audited("cooperation_case", case_id, "assigned_to_id") == [
                ([users["staff"], taker], users["kasubbag"])]
        assert db.session.get(Case, three_cases[2]).assigned_to_id == users["staff"]


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_staff_and_viewer_may_not_reassign(app, login_as, users, three_cases, role):
    client = login_as(role)
    assert "modelActions.execute('reassign')" not in client.get("/admin/case/").get_data(as_text=True)
    ids = [str(case_id) for case_id in three_cases]
    assert client.post("/admin/case/action/", data={"action": "reassign", "rowid": ids}).status_code == 403
    response = client.post("/admin/case/reassign/", data={"id": ids, "assignee": str(users["kasubbag"])})
    assert response.status_code == 403
    with app.app_context():
        assert {db.session.get(Case, case_id).assigned_to_id for case_id in three_cases} == {users["staff"]}


def test_a_closed_case_is_refused_the_others_move(app, login_as, users, three_cases):
    with app.app_context():
        closed = make_case(assigned_to_id=users["staff"], status="cancelled", closed_at=DONE_AT)
        closed_id, closed_number = closed.id, closed.registration_number
        db.session.commit()
    client = login_as("kabag")
    page = html.unescape(client.post("/admin/case/action/", data={
        "action": "reassign", "rowid": [str(closed_id), str(three_cases[0])]}).get_data(as_text=True))
    assert "closed: stays as it is" in page
    assert f'name="id" value="{closed_id}"' not in page  # the page does not offer it
    response = client.post("/admin/case/reassign/", data={  # a crafted post names it anyway
        "id": [str(closed_id), str(three_cases[0])], "assignee": str(users["kasubbag"])}, follow_redirects=True)
    shown = _shown(response)
    assert f"{closed_number} is closed: its assignment stays as it was." in shown
    assert "1 case reassigned to Pengguna kasubbag." in shown
    with app.app_context():
        assert db.session.get(Case, closed_id).assigned_to_id == users["staff"]
        assert db.session.get(Case, three_cases[0]).assigned_to_id == users["kasubbag"]


@pytest.mark.parametrize("taker", ["viewer", "admin", "inactive", "unknown", "junk"])
def test_the_server_refuses_an_assignee_who_does_not_work_cases(app, login_as, users, three_cases, taker):
    with app.app_context():
        ids = {**users, "unknown": 987654, "junk": "9" * 30,
               "inactive": make_user("staff", username="pensiun", full_name="Sudah Pensiun", active=False).id}
        db.session.commit()
    response = login_as("kasubbag").post("/admin/case/reassign/", data={
        "id": [str(case_id) for case_id in three_cases], "assignee": str(ids[taker])}, follow_redirects=True)
    assert ("Cases and dispositions can only be given to an active staff member, Kasubbag or Kabag."
            in _shown(response))
    with app.app_context():
        assert {db.session.get(Case, case_id).assigned_to_id for case_id in three_cases} == {users["staff"]}


def test_the_anonymous_are_sent_to_log_in(client, users, three_cases):
    response = client.post("/admin/case/reassign/", data={"id": str(three_cases[0]), "assignee": str(users["staff"])})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_reassign_page_carries_its_csrf_token(app, login_as, users, three_cases):
    client = login_as("kabag")
    app.config["WTF_CSRF_ENABLED"] = True  # the app fixture turns it off again for the next test
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/case/").get_data(as_text=True))
    page = client.post("/admin/case/action/", data={"action": "reassign", "rowid": _row_ids(client, three_cases[:1]),
                                                    "csrf_token": token.group(1)}).get_data(as_text=True)
    body = {"id": str(three_cases[0]), "assignee": str(users["kasubbag"])}
    assert client.post("/admin/case/reassign/", data=body).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/admin/case/reassign/", data={**body, "csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Case, three_cases[0]).assigned_to_id == users["kasubbag"]
