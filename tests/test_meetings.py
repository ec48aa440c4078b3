"""The meeting screen enforces the meeting's rules: not held before its time, not on a closed case,
and a weekend or holiday date is saved with a warning."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from models import Meeting, db
from models.base import as_utc
from models.sla import CITY_TIME_ZONE, is_working_day, local_today
from tests.factories import make_case
from tests.helpers import flashes

HELD_TOO_EARLY = "A meeting cannot be marked held before its scheduled time."
NOT_A_WORKING_DAY = "a weekend or an Indonesian public holiday"


def working_day(start: date) -> date:
    while not is_working_day(start):
        start += timedelta(days=1)
    return start


def next_saturday() -> date:
    today = local_today()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def weekday_holiday() -> date:
    """Independence Day (17 August) in the next year it falls on a weekday."""
    year = local_today().year + 1
    while date(year, 8, 17).weekday() >= 5:
        year += 1
    return date(year, 8, 17)


def form_time(day: date, hour: int = 9) -> str:
    """How the form is typed: local (WIB) time."""
    return f"{day:%Y-%m-%d} {hour:02d}:00:00"


def in_utc(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), CITY_TIME_ZONE).astimezone(timezone.utc)


def meeting_form(case_id, day, status="planned", minutes="", **extra) -> dict:
    return {"case": str(case_id), "scheduled_at": form_time(day), "place": "Ruang Rapat Bagian Pemerintahan",
            "agenda": "Pembahasan draf", "status": status, "minutes": minutes, **extra}


def _case(app, **fields) -> int:
    with app.app_context():
        case_id = make_case(**fields).id
        db.session.commit()
        return case_id


def _meeting(app, case_id, day, status="planned") -> tuple[int, int]:
    with app.app_context():
        meeting = Meeting(case_id=case_id, scheduled_at=in_utc(day), place="Ruang Rapat Sekda", status=status)
        db.session.add(meeting)
        db.session.commit()
        return meeting.id, meeting.version


def _meetings(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(Meeting.place, Meeting.status).order_by(Meeting.id)).all()


def closed_case(app, status) -> int:
    return _case(app, status=status, closed_at=datetime.now(timezone.utc) - timedelta(days=1))


# -- not held before its time ------------------------------------------------------------------------
def test_a_future_meeting_cannot_be_marked_held(app, login_as):
    case_id = _case(app)
    client = login_as("staff")
    tomorrow = working_day(local_today() + timedelta(days=1))
    response = client.post("/admin/meeting/new/", data=meeting_form(
        case_id, tomorrow, status="held", minutes="Disepakati.", **{
            "attendees-0-name": "Sri Wahyuni", "attendees-0-position": "Kasubbag",
            "attendees-0-organisation": "Bagian Pemerintahan", "attendees-0-present": "y"}))
    assert response.status_code == 200  # the form again, with the reason
    assert HELD_TOO_EARLY in flashes(response)
    assert _meetings(app) == []

    meeting_id, version = _meeting(app, case_id, tomorrow)
    response = client.post(f"/admin/meeting/edit/?id={meeting_id}", data=meeting_form(
        case_id, tomorrow, status="held", minutes="Disepakati.", row_version=str(version)))
    assert HELD_TOO_EARLY in flashes(response)
    assert _meetings(app) == [("Ruang Rapat Sekda", "planned")]


def test_a_meeting_whose_time_has_passed_may_be_marked_held(app, login_as):
    case_id = _case(app)
    yesterday = local_today() - timedelta(days=1)
    meeting_id, version = _meeting(app, case_id, yesterday)
    response = login_as("staff").post(f"/admin/meeting/edit/?id={meeting_id}", data=meeting_form(
        case_id, yesterday, status="held", minutes="Disepakati.", row_version=str(version), **{
            "attendees-0-name": "Sri Wahyuni", "attendees-0-position": "Kasubbag",
            "attendees-0-organisation": "Bagian Pemerintahan", "attendees-0-present": "y"}))
    assert response.status_code == 302, flashes(response)
    assert _meetings(app) == [("Ruang Rapat Bagian Pemerintahan", "held")]


# -- nothing written on a closed case ----------------------------------------------------------------
@pytest.mark.parametrize("status", ["cancelled", "done"])
def test_no_meeting_is_written_on_a_closed_case(app, login_as, status):
    case_id = closed_case(app, status)
    day = working_day(local_today() + timedelta(days=3))
    client = login_as("kasubbag")
    response = client.post("/admin/meeting/new/", data=meeting_form(case_id, day))
    assert "is closed" in flashes(response)
    assert _meetings(app) == []

    meeting_id, version = _meeting(app, case_id, day)  # one from before the case closed
    response = client.post(f"/admin/meeting/edit/?id={meeting_id}", data=meeting_form(
        case_id, day, row_version=str(version)))
    assert "is closed" in flashes(response)
    response = client.post("/admin/meeting/delete/", data={"id": str(meeting_id)}, follow_redirects=True)
    assert "is closed" in flashes(response)
    assert _meetings(app) == [("Ruang Rapat Sekda", "planned")]


def test_a_meeting_of_an_open_case_moved_onto_a_closed_case_is_refused(app, login_as):
    open_case, done_case = _case(app), closed_case(app, "done")
    day = working_day(local_today() + timedelta(days=3))
    meeting_id, version = _meeting(app, open_case, day)
    response = login_as("kasubbag").post(f"/admin/meeting/edit/?id={meeting_id}", data=meeting_form(
        done_case, day, row_version=str(version)))
    assert "is closed" in flashes(response)
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).case_id == open_case


def test_a_meeting_of_a_closed_case_cannot_be_moved_onto_an_open_case(app, login_as):
    open_case, cancelled = _case(app), closed_case(app, "cancelled")
    day = working_day(local_today() + timedelta(days=3))
    meeting_id, version = _meeting(app, cancelled, day)
    response = login_as("kasubbag").post(f"/admin/meeting/edit/?id={meeting_id}", data=meeting_form(
        open_case, day, row_version=str(version)))
    assert "is closed" in flashes(response)
    with app.app_context():
        assert db.session.get(Meeting, meeting_id).case_id == cancelled


# -- weekends and holidays warn, and save ------------------------------------------------------------
@pytest.mark.parametrize("day", [next_saturday(), weekday_holiday()], ids=["saturday", "independence-day"])
def test_a_meeting_on_a_weekend_or_holiday_is_saved_with_a_warning(app, login_as, day):
    case_id = _case(app)
    response = login_as("staff").post("/admin/meeting/new/", data=meeting_form(case_id, day),
                                      follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "alert-warning" in page and NOT_A_WORKING_DAY in flashes(response)
    assert _meetings(app) == [("Ruang Rapat Bagian Pemerintahan", "planned")]


def test_a_meeting_on_a_working_day_saves_without_a_warning(app, login_as):
    case_id = _case(app)
    day = working_day(local_today() + timedelta(days=3))
    response = login_as("staff").post("/admin/meeting/new/", data=meeting_form(case_id, day),
                                      follow_redirects=True)
    assert NOT_A_WORKING_DAY not in flashes(response)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Meeting)).scalar_one() == 1


def test_the_weekend_warning_reads_the_date_in_city_time(app, login_as):
    """Friday 20.00 UTC is Saturday 03.00 WIB: the warning goes by the city's calendar."""
    case_id = _case(app)
    saturday = next_saturday()
    response = login_as("staff").post("/admin/meeting/new/", data={
        **meeting_form(case_id, saturday), "scheduled_at": f"{saturday:%Y-%m-%d} 03:00:00"}, follow_redirects=True)
    assert NOT_A_WORKING_DAY in flashes(response)
    with app.app_context():
        stored = db.session.execute(select(Meeting.scheduled_at)).scalar_one()
        assert as_utc(stored).date() == saturday - timedelta(days=1)  # still Friday in UTC



def test_a_stale_attendee_list_from_a_second_tab_is_refused(app, login_as):
    """Editing only the attendees still counts as a change of the meeting (its version moves)."""
    case_id = _case(app)
    yesterday = local_today() - timedelta(days=1)
    with app.app_context():  # the meeting exactly as the form below posts it, but for the attendees
        meeting = Meeting(case_id=case_id, scheduled_at=in_utc(yesterday), place="Ruang Rapat Sekda",
                          agenda="Pembahasan draf", status="planned", minutes=None)
        db.session.add(meeting)
        db.session.commit()
        meeting_id, version = meeting.id, meeting.version
    client = login_as("staff")
    attendee = {"attendees-0-name": "Sri Wahyuni", "attendees-0-position": "Kasubbag",
                "attendees-0-organisation": "Bagian Pemerintahan"}
    first = client.post(f"/admin/meeting/edit/?id={meeting_id}", data={
        **meeting_form(case_id, yesterday, row_version=str(version)), "place": "Ruang Rapat Sekda", **attendee})
    assert first.status_code == 302, flashes(first)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.version > version and [a.name for a in meeting.attendees] == ["Sri Wahyuni"]
    second = client.post(f"/admin/meeting/edit/?id={meeting_id}", data={
        **meeting_form(case_id, yesterday, row_version=str(version)), "place": "Ruang Rapat Sekda",
        "attendees-0-name": "Rina Kartika"})
    assert "changed by someone else" in flashes(second)
    with app.app_context():
        assert [a.name for a in db.session.get(Meeting, meeting_id).attendees] == ["Sri Wahyuni"]
