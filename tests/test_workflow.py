"""The 17-step procedure over HTTP: who may move a case, what each step needs, the history."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Case, Disposition, DocumentKind, Meeting, StepEvent, db
from models.sla import local_today
from models.workflow import ACTS_FOR, LAST_STEP, STEPS, step
from tests.factories import make_case


# -- the table itself ---------------------------------------------------------------------------------
def test_the_procedure_table_is_complete_and_consistent():
    assert [s.number for s in STEPS] == list(range(1, 18))  # every step reachable, one after another
    for s in STEPS:
        assert s.role in ACTS_FOR, s
        assert s.title_id and s.title_en
        for requirement in s.requires:
            what, _, detail = requirement.partition(":")
            if what == "document":
                DocumentKind(detail)  # names a real document kind
            else:
                assert requirement in {"disposition", "meeting:planned", "meeting:held"}, requirement
    assert {s.number for s in STEPS if "disposition" in s.requires} == {5, 11, 14}
    assert step(8).requires == ("meeting:held",) and step(9).requires == ("document:memo",)
    assert step(12).requires == ("document:final_draft",) and step(16).requires == ("document:handover_receipt",)
    assert step(17).requires == ("document:signed_agreement",)
    assert {s.role.value for s in STEPS} == {"staff", "kasubbag", "kabag"}


# -- helpers ------------------------------------------------------------------------------------------
def _case(app, **overrides) -> int:
    with app.app_context():
        case_id = make_case(**overrides).id
        db.session.commit()
        return case_id


def _state(app, case_id):
    with app.app_context():
        case = db.session.get(Case, case_id)
        return case.current_step, case.status


def _flashes(response) -> str:
    page = response.get_data(as_text=True)
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S))


def _move(client, case_id, move="advance", note="", **extra):
    return client.post("/admin/case/move/", data={"id": case_id, "move": move, "note": note, **extra},
                       follow_redirects=True)


def _add_requirements(client, app, case_id, number):
    """Create, through the panel, what step `number` needs (as the user `client` is)."""
    for requirement in step(number).requires:
        what, _, detail = requirement.partition(":")
        if what == "document":
            response = client.post("/admin/document/new/", data={
                "case": case_id, "kind": detail, "title": f"{detail} dokumen", "letter_number": "",
                "letter_date": "", "note": ""})
        elif what == "disposition":
            response = client.post("/admin/disposition/new/", data={
                "case": case_id, "to_role": "kasubbag", "instruction": "follow_up", "note": "Tindak lanjuti",
                "due_date": ""})
        elif detail == "planned":
            response = client.post("/admin/meeting/new/", data={
                "case": case_id, "scheduled_at": "2026-11-20 09:00:00", "place": "Ruang Rapat Bagian Pemerintahan",
                "agenda": "Pembahasan draf", "status": "planned", "minutes": ""})
        else:
            with app.app_context():
                meeting = db.session.execute(select(Meeting).where(Meeting.case_id == case_id)).scalar_one()
                meeting_id, version = meeting.id, meeting.version
            response = client.post(f"/admin/meeting/edit/?id={meeting_id}", data={
                "case": case_id, "scheduled_at": "2026-11-20 09:00:00", "place": "Ruang Rapat Bagian Pemerintahan",
                "agenda": "Pembahasan draf", "status": "held", "minutes": "Disepakati.", "row_version": version,
                "attendees-0-name": "Sri Wahyuni", "attendees-0-position": "Kasubbag",
                "attendees-0-organisation": "Bagian Pemerintahan", "attendees-0-present": "y"})
        assert response.status_code == 302, (requirement, _flashes(response))


# -- walking the procedure ----------------------------------------------------------------------------
def test_a_case_is_walked_from_step_1_to_17_by_the_right_roles(app, login_as, users):
    case_id = _case(app)
    for current in STEPS:
        role = current.role.value
        client = login_as("kabag" if role == "kabag" else role)
        # Document and meeting records are staff work; dispositions come from the kabag.
        maker = login_as("kabag") if "disposition" in current.requires else login_as("kasubbag")
        _add_requirements(maker, app, case_id, current.number)
        client = login_as(role)
        response = _move(client, case_id, note=f"selesai tahap {current.number}")
        assert response.status_code == 200
        expected = (current.number + 1, "open") if current.number < LAST_STEP else (LAST_STEP, "done")
        assert _state(app, case_id) == expected, (current.number, _flashes(response))
    with app.app_context():
        events = db.session.execute(select(StepEvent).where(StepEvent.case_id == case_id)
                                    .order_by(StepEvent.id)).scalars().all()
        assert [e.kind for e in events] == ["register"] + ["advance"] * 16 + ["complete"]
        assert [(e.from_step, e.to_step) for e in events[1:17]] == [(n, n + 1) for n in range(1, 17)]
        assert events[5].note == "selesai tahap 5" and events[5].actor_id == users["kabag"]
        assert db.session.get(Case, case_id).closed_at is not None


@pytest.mark.parametrize("role, at_step", [("staff", 4), ("staff", 5), ("kasubbag", 5), ("kasubbag", 11)])
def test_a_step_of_another_role_is_refused_with_the_reason(app, login_as, users, role, at_step):
    case_id = _case(app, current_step=at_step)
    client = login_as("kabag")
    _add_requirements(client, app, case_id, at_step)
    client = login_as(role)
    flashes = _flashes(_move(client, case_id))
    assert f"step {at_step}" in flashes or f"tahap {at_step}" in flashes
    assert _state(app, case_id) == (at_step, "open")


def test_supervisors_may_act_for_the_roles_below_them(app, login_as, users):
    case_id = _case(app, current_step=2)
    client = login_as("kasubbag")
    _add_requirements(client, app, case_id, 2)
    _move(client, case_id)
    assert _state(app, case_id) == (3, "open")


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_readers_and_it_admins_cannot_move_cases(app, login_as, users, role):
    case_id = _case(app)
    client = login_as(role)
    assert client.post("/admin/case/move/", data={"id": case_id, "move": "advance"}).status_code == 403
    assert client.post("/admin/case/action/", data={"action": "advance", "rowid": case_id}).status_code == 403
    assert _state(app, case_id) == (1, "open")


def test_a_step_without_its_records_is_refused_and_names_what_is_missing(app, login_as, users):
    case_id = _case(app, current_step=9)
    client = login_as("staff")
    flashes = _flashes(_move(client, case_id))
    assert "Nota Dinas" in flashes
    assert _state(app, case_id) == (9, "open")
    case_8 = _case(app, current_step=8, proposal_number="X/8")
    login_as("kasubbag").post("/admin/meeting/new/", data={
        "case": case_8, "scheduled_at": "2026-11-20 09:00:00", "place": "Aula", "agenda": "", "status": "held",
        "minutes": "", "attendees-0-name": "Tamu", "attendees-0-present": ""})  # held, but nobody present
    assert "held meeting with at least one attendee present" in _flashes(_move(login_as("kasubbag"), case_8))
    assert _state(app, case_8) == (8, "open")


def test_bulk_advance_reports_per_case_and_moves_only_the_ready_ones(app, login_as, users):
    ready = _case(app, current_step=2, proposal_number="A/1")
    blocked = _case(app, current_step=3, proposal_number="A/2")
    client = login_as("staff")
    _add_requirements(client, app, ready, 2)
    response = client.post("/admin/case/action/", data={"action": "advance", "rowid": [ready, blocked]},
                           follow_redirects=True)
    flashes = _flashes(response)
    with app.app_context():
        blocked_number = db.session.get(Case, blocked).registration_number
    assert blocked_number in flashes
    assert _state(app, ready) == (3, "open") and _state(app, blocked) == (3, "open")


def test_completing_step_17_closes_the_case(app, login_as, users):
    case_id = _case(app, current_step=17)
    client = login_as("staff")
    _add_requirements(client, app, case_id, 17)
    _move(client, case_id)
    assert _state(app, case_id) == (17, "done")
    assert "closed" in _flashes(_move(client, case_id))


# -- send back, hold, resume --------------------------------------------------------------------------
def test_supervisor_sends_a_case_back_with_a_reason(app, login_as, users):
    case_id = _case(app, current_step=9)
    staff = login_as("staff")
    _move(staff, case_id, move="send_back", note="Perlu revisi", to_step="6")
    assert _state(app, case_id) == (9, "open")
    kasubbag = login_as("kasubbag")
    _move(kasubbag, case_id, move="send_back", note="", to_step="6")
    assert _state(app, case_id) == (9, "open")  # a reason is required
    _move(kasubbag, case_id, move="send_back", note="Jadwal rapat diulang", to_step="6")
    assert _state(app, case_id) == (6, "open")
    _move(kasubbag, case_id, move="send_back", note="ke depan?", to_step="7")
    assert _state(app, case_id) == (6, "open")  # only backwards
    with app.app_context():
        event = db.session.execute(select(StepEvent).where(StepEvent.kind == "return")).scalar_one()
        assert (event.from_step, event.to_step, event.note, event.actor_id) == (9, 6, "Jadwal rapat diulang",
                                                                                users["kasubbag"])


def test_hold_stops_the_clock_and_resume_pushes_the_due_date(app, login_as, users):
    case_id = _case(app, current_step=2, received_date=local_today() - timedelta(days=10))
    with app.app_context():
        due_before = db.session.get(Case, case_id).due_date
    kabag = login_as("kabag")
    _move(kabag, case_id, move="hold", note="")
    assert _state(app, case_id) == (2, "open")  # reason required
    _move(kabag, case_id, move="hold", note="Menunggu draf revisi dari OPD")
    assert _state(app, case_id) == (2, "on_hold")
    assert "on hold" in _flashes(_move(login_as("staff"), case_id))
    assert _state(app, case_id) == (2, "on_hold")
    with app.app_context():  # the hold started 6 days ago
        case = db.session.get(Case, case_id)
        case.held_since = local_today() - timedelta(days=6)
        db.session.commit()
    _move(login_as("kasubbag"), case_id, move="resume", note="Draf revisi diterima")
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.status, case.days_on_hold, case.held_since) == ("open", 6, None)
        assert case.due_date == due_before + timedelta(days=6)
        kinds = db.session.execute(select(StepEvent.kind).where(StepEvent.case_id == case_id)
                                   .order_by(StepEvent.id)).scalars().all()
        assert kinds == ["register", "hold", "resume"]


def test_step_and_status_cannot_be_changed_through_the_form(app, login_as, users):
    case_id = _case(app, current_step=3)
    client = login_as("kabag")
    page = client.get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True)
    assert 'name="current_step"' not in page and 'name="status"' not in page


# -- dispositions ------------------------------------------------------------------------------------
def test_a_disposition_is_written_at_the_case_step_and_closed_by_its_addressee(app, login_as, users):
    case_id = _case(app, current_step=5)
    kabag = login_as("kabag")
    response = kabag.post("/admin/disposition/new/", data={
        "case": case_id, "to_user": users["kasubbag"], "to_role": "", "instruction": "prepare_meeting",
        "note": "Siapkan rapat dengan TKKSD", "due_date": "2026-12-01"})
    assert response.status_code == 302
    with app.app_context():
        disposition = db.session.execute(select(Disposition)).scalar_one()
        assert (disposition.step, disposition.author_id) == (5, users["kabag"])
        disposition_id = disposition.id
    sheet = login_as("viewer").get(f"/admin/disposition/sheet/?id={disposition_id}")
    assert sheet.status_code == 200 and "LEMBAR DISPOSISI" in sheet.get_data(as_text=True)
    login_as("staff").post("/admin/disposition/action/", data={"action": "mark_done", "rowid": disposition_id})
    with app.app_context():
        assert db.session.get(Disposition, disposition_id).done_at is None  # not the addressee
    login_as("kasubbag").post("/admin/disposition/action/", data={"action": "mark_done", "rowid": disposition_id})
    with app.app_context():
        assert db.session.get(Disposition, disposition_id).done_at is not None


def test_staff_cannot_write_dispositions(app, login_as, users):
    case_id = _case(app, current_step=5)
    response = login_as("staff").post("/admin/disposition/new/", data={
        "case": case_id, "to_role": "staff", "instruction": "study", "note": "", "due_date": ""})
    assert response.status_code == 403


def test_the_checklist_links_to_a_form_filled_in_for_the_missing_record(app, login_as, users):
    case_id = _case(app, current_step=9)
    client = login_as("staff")
    page = client.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    link = re.search(r'href="(/admin/document/new/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert f"case={case_id}" in link and "kind=memo" in link
    form = client.get(link).get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="memo"|<option[^>]*value="memo"[^>]*selected', form)
    assert "KS/2026/0001" in form  # the case is already chosen in the case field
