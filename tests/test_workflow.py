"""The 17-step procedure over HTTP: who may move a case, what evidence each step needs, the history."""
import html
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from models import Attendee, Case, Disposition, Document, DocumentKind, Meeting, StepEvent, db
from models.procedure import (
    CLOSED_STATUSES,
    MOVES,
    PERFORMER,
    REQUIREMENTS,
    CancelReason,
    CaseStatus,
    Evidence,
    HoldReason,
    StepEventKind,
)
from models.sla import local_today
from models.workflow import ACTS_FOR, LAST_STEP, STEPS, _evidence, step
from seed.sample_files import sample_pdf
from tests.factories import make_case
from tests.helpers import flashes as _flashes
from tests.helpers import move as _move
from tests.helpers import seen_state, upload

YESTERDAY = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d 09:00:00")
NEXT_WEEK = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%d 09:00:00")


# -- the tables themselves ------------------------------------------------------------------------------
def test_the_procedure_table_is_complete_and_consistent():
    assert [s.number for s in STEPS] == list(range(1, 18))  # every step reachable, one after another
    for s in STEPS:
        assert s.role in ACTS_FOR, s
        assert s.title
        for requirement in s.requires:
            assert REQUIREMENTS[requirement.key] is requirement and requirement.label
            if requirement.evidence is Evidence.DOCUMENT:
                DocumentKind(requirement.document_kind)  # names a real document kind
            _evidence(Case(id=1, current_step=s.number), requirement, None, datetime.now(timezone.utc))
    disposition_steps = {s.number for s in STEPS if any(r.evidence is Evidence.DISPOSITION for r in s.requires)}
    assert disposition_steps == {5, 11, 14}
    assert [r.key for r in step(8).requires] == ["meeting:held"] and step(9).requires[0].after_meeting
    assert [r.key for r in step(17).requires] == ["document:signed_agreement"]
    assert {s.role.value for s in STEPS} == {"staff", "kasubbag", "kabag"}


def test_the_moves_reach_every_status_and_only_done_and_cancelled_end_a_case():
    reachable, frontier = {CaseStatus.OPEN}, [CaseStatus.OPEN]
    edges: dict[CaseStatus, set[CaseStatus]] = {status: set() for status in CaseStatus}
    for move in MOVES.values():
        targets = {move.target} if move.target else {CaseStatus.OPEN, CaseStatus.DONE}  # advance: next, or done
        for source in move.source:
            edges[source] |= targets
    while frontier:
        for target in edges[frontier.pop()] - reachable:
            reachable.add(target)
            frontier.append(target)
    assert reachable == set(CaseStatus)
    assert {status for status, targets in edges.items() if not targets} == set(CLOSED_STATUSES)
    for move in MOVES.values():  # a move that needs a category names an enum of them
        assert move.reason_categories in (None, HoldReason, CancelReason)


# -- helpers ----------------------------------------------------------------------------------------------
def _case(app, **overrides) -> int:
    with app.app_context():
        case_id = make_case(**overrides).id
        db.session.commit()
        return case_id


def _state(app, case_id):
    with app.app_context():
        case = db.session.get(Case, case_id)
        return case.current_step, case.status


def _plan_meeting(client, case_id, at=YESTERDAY):
    return client.post("/admin/meeting/new/", data={
        "case": case_id, "scheduled_at": at, "place": "Ruang Rapat Bagian Pemerintahan",
        "agenda": "Pembahasan draf", "status": "planned", "minutes": ""})


def _hold_meeting(client, app, case_id, minutes="Disepakati.", present="y"):
    with app.app_context():
        meeting = db.session.execute(select(Meeting).where(Meeting.case_id == case_id)
                                     .order_by(Meeting.id.desc())).scalars().first()
        meeting_id, version = meeting.id, meeting.version
    return client.post(f"/admin/meeting/edit/?id={meeting_id}", data={
        "case": case_id, "scheduled_at": YESTERDAY, "place": "Ruang Rapat Bagian Pemerintahan",
        "agenda": "Pembahasan draf", "status": "held", "minutes": minutes, "row_version": version,
        "attendees-0-name": "Sri Wahyuni", "attendees-0-position": "Kasubbag",
        "attendees-0-organisation": "Bagian Pemerintahan", "attendees-0-present": present})


def _disposition(client, case_id, **fields):
    return client.post("/admin/disposition/new/", data={
        "case": case_id, "to_role": "kasubbag", "instruction": "follow_up", "note": "Tindak lanjuti",
        "due_date": "", **fields})


def _add_requirements(client, app, case_id, number):
    """Make, through the panel, the evidence step `number` needs (as the user `client` is)."""
    for requirement in step(number).requires:
        if requirement.evidence is Evidence.DOCUMENT:
            response = upload(client, case_id, requirement.document_kind)
        elif requirement.evidence is Evidence.DISPOSITION:
            response = _disposition(client, case_id)
        elif requirement.evidence is Evidence.MEETING_PLANNED:
            response = _plan_meeting(client, case_id)
        else:
            response = _hold_meeting(client, app, case_id)
        assert response.status_code == 302, (requirement, _flashes(response))


def _events(app, case_id, kind=None):
    with app.app_context():
        query = select(StepEvent).where(StepEvent.case_id == case_id).order_by(StepEvent.id)
        if kind:
            query = query.where(StepEvent.kind == kind)
        return [(e.kind, e.from_step, e.to_step, e.note, e.reason) for e in db.session.execute(query).scalars()]


# -- walking the procedure ----------------------------------------------------------------------------
def test_a_case_is_walked_from_step_1_to_17_by_the_right_roles_with_real_evidence(app, login_as, users):
    case_id = _case(app)
    for current in STEPS:
        role = current.role.value
        # Documents and meetings are staff work; dispositions come from the kabag.
        disposition = any(r.evidence is Evidence.DISPOSITION for r in current.requires)
        maker = login_as("kabag") if disposition else login_as("kasubbag")
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
        files = db.session.execute(select(func.count()).select_from(Document)
                                   .where(Document.file_sha256.is_not(None))).scalar_one()
        assert files == 9  # every document step has its file


@pytest.mark.parametrize("role, at_step", [("staff", 4), ("staff", 5), ("kasubbag", 5), ("kasubbag", 11)])
def test_a_step_of_another_role_is_refused_with_the_reason(app, login_as, users, role, at_step):
    case_id = _case(app, current_step=at_step)
    _add_requirements(login_as("kabag"), app, case_id, at_step)
    flashes = _flashes(_move(login_as(role), case_id))
    assert f"step {at_step}" in flashes
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
    with app.app_context():
        version = db.session.get(Case, case_id).version
    seen = {"step": 1, "version": version}
    assert client.post("/admin/case/move/", data={"id": case_id, "move": "advance", **seen}).status_code == 403
    assert client.post("/admin/case/action/", data={"action": "advance",
                                                    "rowid": f"{case_id}:1:{version}"}).status_code == 403
    assert _state(app, case_id) == (1, "open")


@pytest.mark.parametrize("kind", list(MOVES))
@pytest.mark.parametrize("role", ["kabag", "kasubbag", "staff"])
def test_every_move_is_allowed_exactly_to_the_roles_of_the_moves_table(app, login_as, users, kind, role):
    """Each move of MOVES, tried by each case-working role on a case where its status allows it."""
    move = MOVES[kind]
    status = move.source[0]
    case_id = _case(app, current_step=3, status=status, held_since=local_today() if status == "on_hold" else None)
    if kind is StepEventKind.ADVANCE:
        _add_requirements(login_as("kabag"), app, case_id, 3)
    data = {"note": "alasan", "to_step": "2"}
    category = {HoldReason: "other", CancelReason: "withdrawn"}.get(move.reason_categories)
    if category:
        data["category"] = category
    _move(login_as(role), case_id, move=kind.value, **data)
    allowed = step(3).role in ACTS_FOR[role] if move.by == PERFORMER else role in move.by
    changed = _state(app, case_id) != (3, status)
    assert changed == allowed, (kind, role, _state(app, case_id))
    kinds = [event[0] for event in _events(app, case_id) if event[0] != "register"]
    assert kinds == ([kind.value] if allowed else [])


# -- evidence, not rows ---------------------------------------------------------------------------------
def test_a_document_without_a_file_does_not_complete_a_step(app, login_as, users):
    case_id = _case(app, current_step=2)
    staff = login_as("staff")
    staff.post("/admin/document/new/", data={"case": case_id, "kind": "plan", "title": "Rencana kerja sama",
                                             "letter_number": "", "letter_date": "", "note": ""})
    page = staff.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert "✗ Agreement plan (file)" in re.sub(r"\s+", " ", page)
    assert "Agreement plan (file)" in _flashes(_move(staff, case_id))
    assert _state(app, case_id) == (2, "open")
    assert upload(staff, case_id, "plan").status_code == 302
    _move(staff, case_id)
    assert _state(app, case_id) == (3, "open")


def test_step_17_cannot_close_a_case_without_the_signed_file(app, login_as, users):
    case_id = _case(app, current_step=17)
    staff = login_as("staff")
    staff.post("/admin/document/new/", data={"case": case_id, "kind": "signed_agreement", "title": "Naskah",
                                             "letter_number": "", "letter_date": "", "note": ""})
    assert "Signed agreement (file)" in _flashes(_move(staff, case_id))
    assert _state(app, case_id) == (17, "open")
    upload(staff, case_id, "signed_agreement")
    _move(staff, case_id)
    assert _state(app, case_id) == (17, "done")
    assert "closed" in _flashes(_move(staff, case_id))


def _meeting_row(app, case_id, scheduled_at, status="held", minutes="Disepakati.", present=True):
    with app.app_context():
        meeting = Meeting(case_id=case_id, scheduled_at=scheduled_at, place="Aula", status=status, minutes=minutes,
                          attendees=[Attendee(name="Tamu", present=present)])
        db.session.add(meeting)
        db.session.commit()
        return meeting.id


@pytest.mark.parametrize("when, minutes, present", [
    (timedelta(days=1), "Disepakati.", True),    # marked held but scheduled for tomorrow
    (timedelta(days=-1), "", True),              # no minutes
    (timedelta(days=-1), "Disepakati.", False),  # nobody present
])
def test_only_a_meeting_that_took_place_completes_step_8(app, login_as, users, when, minutes, present):
    case_id = _case(app, current_step=8)
    _meeting_row(app, case_id, datetime.now(timezone.utc) + when, minutes=minutes, present=present)
    flashes = _flashes(_move(login_as("kasubbag"), case_id))
    assert "A held meeting" in flashes
    assert _state(app, case_id) == (8, "open")


def test_a_meeting_held_yesterday_with_minutes_and_an_attendee_completes_step_8(app, login_as, users):
    case_id = _case(app, current_step=8)
    _meeting_row(app, case_id, datetime.now(timezone.utc) - timedelta(days=1))
    _move(login_as("kasubbag"), case_id)
    assert _state(app, case_id) == (9, "open")


def test_a_memo_filed_before_the_meeting_took_place_does_not_complete_step_9(app, login_as, users):
    case_id = _case(app, current_step=9)
    staff = login_as("staff")
    upload(staff, case_id, "memo")  # the memo is filed now; the meeting is only planned for next week
    _meeting_row(app, case_id, datetime.now(timezone.utc) + timedelta(days=7), status="planned")
    assert "Nota Dinas of the held meeting" in _flashes(_move(staff, case_id))
    # The memo was filed an hour ago; the meeting then took place five minutes ago. The memo
    # written before it still does not count, a new one does.
    with app.app_context():
        memo = db.session.execute(select(Document)).scalar_one()
        memo.created_at = datetime.now(timezone.utc) - timedelta(hours=1)
        meeting = db.session.execute(select(Meeting).where(Meeting.case_id == case_id)).scalar_one()
        meeting.scheduled_at, meeting.status = datetime.now(timezone.utc) - timedelta(minutes=5), "held"
        db.session.commit()
    assert _state(app, case_id) == (9, "open")
    _move(staff, case_id)
    assert _state(app, case_id) == (9, "open")
    upload(staff, case_id, "memo", data=sample_pdf("Nota Dinas", "setelah rapat"))
    _move(staff, case_id)
    assert _state(app, case_id) == (10, "open")


# -- every move happens once ------------------------------------------------------------------------------
def test_a_second_tab_or_a_double_click_does_not_move_the_case_twice(app, login_as, users):
    case_id = _case(app, current_step=2)
    staff = login_as("staff")
    for number in (2, 3):  # the evidence of the next step is ready too
        _add_requirements(staff, app, case_id, number)
    seen = seen_state(staff, case_id)
    _move(staff, case_id, seen=seen)
    second = _move(staff, case_id, seen=seen)
    assert _state(app, case_id) == (3, "open")
    message = _flashes(second)
    assert re.search(r"already moved by Pengguna staff at \d\d:\d\d; it is now at step 3", message), message
    assert len(_events(app, case_id, "advance")) == 1


def test_a_move_without_the_state_it_was_made_from_is_refused(app, login_as, users):
    case_id = _case(app, current_step=2)
    staff = login_as("staff")
    _add_requirements(staff, app, case_id, 2)
    response = staff.post("/admin/case/move/", data={"id": case_id, "move": "advance"}, follow_redirects=True)
    assert "reload it" in _flashes(response)
    assert _state(app, case_id) == (2, "open")


@pytest.mark.parametrize("kind, extra", [("hold", {"category": "other"}), ("cancel", {"category": "duplicate"}),
                                         ("return", {"to_step": "1"})])
def test_every_supervisor_move_from_a_stale_page_is_refused(app, login_as, users, kind, extra):
    case_id = _case(app, current_step=2)
    kabag = login_as("kabag")
    stale = seen_state(kabag, case_id)
    _add_requirements(kabag, app, case_id, 2)
    _move(kabag, case_id)  # moved to step 3 in another tab
    response = _move(kabag, case_id, move=kind, note="alasan", seen=stale, **extra)
    assert "already moved" in _flashes(response)
    assert _state(app, case_id) == (3, "open")


def test_bulk_advance_reports_per_case_moves_only_the_ready_ones_and_refuses_a_stale_list(app, login_as, users):
    ready = _case(app, current_step=2, proposal_number="A/1")
    blocked = _case(app, current_step=3, proposal_number="A/2")
    client = login_as("staff")
    _add_requirements(client, app, ready, 2)
    _add_requirements(client, app, ready, 3)
    listed = client.get("/admin/case/").get_data(as_text=True)
    rowids = re.findall(r'name="rowid" class="action-checkbox"\s+value="([\d:]+)"', listed)
    assert len(rowids) == 2 and all(r.count(":") == 2 for r in rowids)
    response = client.post("/admin/case/action/", data={"action": "advance", "rowid": rowids}, follow_redirects=True)
    with app.app_context():
        blocked_number = db.session.get(Case, blocked).registration_number
    assert blocked_number in _flashes(response)
    assert _state(app, ready) == (3, "open") and _state(app, blocked) == (3, "open")
    again = client.post("/admin/case/action/", data={"action": "advance", "rowid": rowids}, follow_redirects=True)
    assert "already moved" in _flashes(again)
    assert _state(app, ready) == (3, "open")
    bare = client.post("/admin/case/action/", data={"action": "advance", "rowid": [str(ready)]}, follow_redirects=True)
    assert "reload it" in _flashes(bare) and _state(app, ready) == (3, "open")


# -- a send back means rework ----------------------------------------------------------------------------
def test_after_a_send_back_the_old_memo_no_longer_completes_the_step(app, login_as, users):
    case_id = _case(app, current_step=9)
    _meeting_row(app, case_id, datetime.now(timezone.utc) - timedelta(days=2))
    staff, kasubbag = login_as("staff"), login_as("kasubbag")
    upload(staff, case_id, "memo")
    _move(staff, case_id)
    assert _state(app, case_id) == (10, "open")
    _move(kasubbag, case_id, move="return", note="Nota Dinas perlu diperbaiki", to_step="9")
    assert _state(app, case_id) == (9, "open")
    page = re.sub(r"\s+", " ", staff.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True))
    assert "✗ Nota Dinas of the held meeting (file)" in page and "sent back on" in page
    assert "Nota Dinas" in _flashes(_move(staff, case_id))
    assert _state(app, case_id) == (9, "open")
    upload(staff, case_id, "memo", data=sample_pdf("Nota Dinas", "revisi"))
    _move(staff, case_id)
    assert _state(app, case_id) == (10, "open")


def test_after_a_send_back_the_old_disposition_and_meeting_must_be_made_again(app, login_as, users):
    case_id = _case(app, current_step=11)
    kabag = login_as("kabag")
    _disposition(kabag, case_id)
    _move(kabag, case_id)
    assert _state(app, case_id) == (12, "open")
    _move(kabag, case_id, move="return", note="Disposisi diulang", to_step="11")
    assert "disposition" in _flashes(_move(kabag, case_id))
    _disposition(kabag, case_id, note="Disposisi baru")
    _move(kabag, case_id)
    assert _state(app, case_id) == (12, "open")
    # Back to step 8: the meeting held before the send back does not count; one held after it does.
    meeting_case = _case(app, current_step=9, proposal_number="M/1")
    _meeting_row(app, meeting_case, datetime.now(timezone.utc) - timedelta(days=2))
    _move(kabag, meeting_case, move="return", note="Rapat diulang", to_step="8")
    assert "A held meeting" in _flashes(_move(kabag, meeting_case))
    _meeting_row(app, meeting_case, datetime.now(timezone.utc) + timedelta(seconds=1))
    with app.app_context():  # it took place a moment after the send back
        meeting = db.session.execute(select(Meeting).where(Meeting.case_id == meeting_case)
                                     .order_by(Meeting.id.desc())).scalars().first()
        meeting.scheduled_at = datetime.now(timezone.utc) - timedelta(milliseconds=1)
        db.session.commit()
    _move(kabag, meeting_case)
    assert _state(app, meeting_case) == (9, "open")


# -- send back, hold, resume, cancel ---------------------------------------------------------------------
def test_supervisor_sends_a_case_back_with_a_reason(app, login_as, users):
    case_id = _case(app, current_step=9)
    _move(login_as("staff"), case_id, move="return", note="Perlu revisi", to_step="6")
    assert _state(app, case_id) == (9, "open")
    kasubbag = login_as("kasubbag")
    _move(kasubbag, case_id, move="return", note="", to_step="6")
    assert _state(app, case_id) == (9, "open")  # a reason is required
    _move(kasubbag, case_id, move="return", note="Jadwal rapat diulang", to_step="6")
    assert _state(app, case_id) == (6, "open")
    _move(kasubbag, case_id, move="return", note="ke depan?", to_step="7")
    assert _state(app, case_id) == (6, "open")  # only backwards
    assert _events(app, case_id, "return") == [("return", 9, 6, "Jadwal rapat diulang", None)]


def test_hold_needs_a_category_stops_the_clock_and_resume_pushes_the_due_date(app, login_as, users):
    case_id = _case(app, current_step=2, received_date=local_today() - timedelta(days=10))
    with app.app_context():
        due_before = db.session.get(Case, case_id).due_date
    kabag = login_as("kabag")
    _move(kabag, case_id, move="hold", note="", category="waiting_counterparty")
    assert _state(app, case_id) == (2, "open")  # reason required
    assert "reason category" in _flashes(_move(kabag, case_id, move="hold", note="Menunggu"))
    assert _state(app, case_id) == (2, "open")  # category required
    _move(kabag, case_id, move="hold", note="Menunggu draf revisi dari OPD", category="waiting_opd_draft")
    assert _state(app, case_id) == (2, "on_hold")
    page = kabag.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert "Waiting for the OPD&#39;s draft" in page or "Waiting for the OPD's draft" in page
    assert "on hold" in _flashes(_move(login_as("staff"), case_id))
    assert _state(app, case_id) == (2, "on_hold")
    with app.app_context():  # the hold started 6 days ago
        case = db.session.get(Case, case_id)
        case.held_since = local_today() - timedelta(days=6)
        db.session.commit()
    _move(login_as("kasubbag"), case_id, move="resume", note="Draf revisi diterima")
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.status, case.days_on_hold, case.held_since, case.hold_reason) == ("open", 6, None, None)
        assert case.due_date == due_before + timedelta(days=6)
    assert [e[0] for e in _events(app, case_id)] == ["register", "hold", "resume"]
    assert _events(app, case_id, "hold")[0][4] == "waiting_opd_draft"


@pytest.mark.parametrize("category", ["withdrawn", "requirements_not_met"])
def test_a_supervisor_closes_a_case_without_an_agreement_and_it_leaves_every_overdue_figure(
        app, login_as, users, category):
    late = _case(app, current_step=1, received_date=local_today() - timedelta(days=40))
    kabag = login_as("kabag")
    assert re.search(r'id="overdue-count">\s*1\s*<', kabag.get("/admin/").get_data(as_text=True))
    assert "reason category" in _flashes(_move(kabag, late, move="cancel", note="OPD menarik usulan"))
    assert "Give a reason" in _flashes(_move(kabag, late, move="cancel", note="", category=category))
    _move(login_as("staff"), late, move="cancel", note="x", category=category)
    assert _state(app, late) == (1, "open")  # staff may not
    kabag = login_as("kabag")
    _move(kabag, late, move="cancel", note="Surat OPD no. 005/12", category=category)
    assert _state(app, late) == (1, "cancelled")
    with app.app_context():
        case = db.session.get(Case, late)
        assert case.cancel_reason == category and case.closed_at is not None and case.days_left(local_today()) is None
    assert _events(app, late, "cancel") == [("cancel", 1, 1, "Surat OPD no. 005/12", category)]
    assert re.search(r'id="overdue-count">\s*0\s*<', kabag.get("/admin/").get_data(as_text=True))
    with app.app_context():
        number = db.session.get(Case, late).registration_number
    assert number in kabag.get("/admin/case/").get_data(as_text=True)
    assert number not in kabag.get("/admin/case/?flt0_overdue_is=1").get_data(as_text=True)
    page = kabag.get(f"/admin/case/details/?id={late}").get_data(as_text=True)
    assert 'name="move"' not in page and "Cancelled because" in page


def test_nothing_can_be_added_to_or_changed_on_a_cancelled_case(app, login_as, users):
    case_id = _case(app, current_step=5, status="cancelled", cancel_reason="duplicate")
    kabag = login_as("kabag")
    before = _events(app, case_id)
    for response in (_disposition(kabag, case_id), upload(kabag, case_id, "other"), _plan_meeting(kabag, case_id)):
        assert response.status_code == 200 and "is closed" in _flashes(response)
    with app.app_context():
        for model in (Disposition, Document, Meeting):
            assert db.session.execute(select(func.count()).select_from(model)).scalar_one() == 0
        version = db.session.get(Case, case_id).version
    for kind, extra in (("advance", {}), ("resume", {}), ("hold", {"category": "other"}),
                        ("cancel", {"category": "other"}), ("return", {"to_step": "1"})):
        _move(kabag, case_id, move=kind, note="x", seen={"step": 5, "version": version}, **extra)
    assert _state(app, case_id) == (5, "cancelled") and _events(app, case_id) == before


# -- the server enforces what the forms offer ----------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_a_case_cannot_be_assigned_to_someone_who_does_not_work_cases(app, login_as, users, role):
    from tests.helpers import case_form
    case_id = _case(app)
    client = login_as("kasubbag")
    with app.app_context():
        case = db.session.get(Case, case_id)
        data = case_form(case, assigned_to=str(users[role]), row_version=case.version)
    response = client.post(f"/admin/case/edit/?id={case_id}", data=data)
    assert response.status_code == 200 and "can only be assigned" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Case, case_id).assigned_to_id is None


def test_a_disposition_cannot_be_addressed_to_a_viewer_or_to_the_viewer_role(app, login_as, users):
    case_id = _case(app, current_step=5)
    kabag = login_as("kabag")
    assert "can only be addressed" in _flashes(_disposition(kabag, case_id, to_user=str(users["viewer"]), to_role=""))
    assert _disposition(kabag, case_id, to_role="viewer").status_code == 200
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Disposition)).scalar_one() == 0


def test_step_and_status_cannot_be_changed_through_the_form(app, login_as, users):
    case_id = _case(app, current_step=3)
    page = login_as("kabag").get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True)
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


def _filter_arg(client, label: str) -> str:
    """The query-string argument of a list filter, as the list page's filter menu names it."""
    page = client.get("/admin/case/").get_data(as_text=True)
    groups = json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S).group(1)))
    return groups[label][0]["arg"]


def test_cases_on_hold_are_listed_by_what_they_wait_for(app, login_as, users):
    waiting = _case(app, current_step=2, proposal_number="H/1")
    other = _case(app, current_step=2, proposal_number="H/2")
    kasubbag = login_as("kasubbag")
    _move(kasubbag, waiting, move="hold", note="Menunggu pendapat Bagian Hukum", category="waiting_legal_opinion")
    _move(kasubbag, other, move="hold", note="Menunggu mitra", category="waiting_counterparty")
    arg = _filter_arg(kasubbag, "Waiting for")
    page = kasubbag.get(f"/admin/case/?flt0_{arg}=waiting_legal_opinion").get_data(as_text=True)
    with app.app_context():
        numbers = {c.id: c.registration_number for c in db.session.execute(select(Case)).scalars()}
    assert numbers[waiting] in page and numbers[other] not in page


def test_the_demo_cases_carry_real_evidence_for_every_step_they_passed(app, runner):
    """The demo walks the same rules as the panel: each step a demo case has passed is proven."""
    from models.workflow import requirement_states
    assert runner.invoke(args=["seed", "--demo"]).exit_code == 0
    with app.app_context():
        cases = db.session.execute(select(Case)).scalars().all()
        assert len(cases) == 40
        for case in cases:
            reached = case.current_step if case.status != "done" else LAST_STEP + 1
            for number in range(1, reached):
                with db.session.no_autoflush:
                    actual = case.current_step
                    case.current_step = number  # asked as if the case stood there
                    states, _ = requirement_states(db.session, case)
                    case.current_step = actual
                assert all(met for _, met in states), (case.registration_number, number, states)
        db.session.rollback()
        held = db.session.execute(select(Meeting).where(Meeting.status == "held")).scalars().all()
        assert held and all(m.scheduled_at.replace(tzinfo=timezone.utc) < datetime.now(timezone.utc) for m in held)
