"""Dates are typed as people write them, kept as typed, and shown back in the user's locale.

Through the real create and edit forms (HTTP), and in Chromium: the optional calendar speaks
Indonesian, never rewrites what is typed, and closes when a day is picked.
"""
import json
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from models import Case, Meeting, User, db
from tests.factories import make_case, make_party
from tests.helpers import row_version

TYPED_DATES = [
    ("30-11-2026", date(2026, 11, 30)), ("30/11/2026", date(2026, 11, 30)), ("2026-11-30", date(2026, 11, 30)),
    ("1-12-2026", date(2026, 12, 1)), ("1 Des 2026", date(2026, 12, 1)), ("1 Desember 2026", date(2026, 12, 1)),
    ("1 Dec 2026", date(2026, 12, 1)), ("1 december 2026", date(2026, 12, 1)), ("1 Agu 2026", date(2026, 8, 1)),
    ("17 Agustus 2026", date(2026, 8, 17)), ("3 Mei 2026", date(2026, 5, 3)), ("Dec 1, 2026", date(2026, 12, 1)),
]


def _speaks_indonesian(app, role: str) -> None:
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == role).values(language="id"))
        db.session.commit()


def _new_case(app, proposal_date: str) -> dict:
    with app.app_context():
        subject = make_party("university", "Universitas Panca Marga")
        opd = make_party("opd", "Dinas Pendidikan dan Kebudayaan")
        db.session.commit()
        return {"agreement_type": "KSB", "title": "KSB Magang mahasiswa", "subject": str(subject.id),
                "object": "Program magang", "opd": str(opd.id), "proposal_number": "070/55/425.101/2026",
                "proposal_date": proposal_date, "received_date": "2026-12-02", "assigned_to": "",
                "previous_case": ""}


def _cases(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Case)).scalar_one()


def _input_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)
    return re.search(r'\bvalue="([^"]*)"', tag).group(1)


@pytest.mark.parametrize(("typed", "meant"), TYPED_DATES)
def test_a_date_typed_in_any_usual_form_is_kept_exactly(app, login_as, typed, meant):
    _speaks_indonesian(app, "staff")
    response = login_as("staff").post("/admin/case/new/", data=_new_case(app, typed))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        assert db.session.execute(select(Case.proposal_date)).scalar_one() == meant


def test_a_date_is_shown_back_in_the_indonesian_format(app, login_as):
    with app.app_context():
        case_id = make_case(proposal_date=date(2026, 11, 30), received_date=date(2026, 12, 2)).id
        db.session.commit()
    _speaks_indonesian(app, "staff")
    html = login_as("staff").get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True)
    assert _input_value(html, "proposal_date") == "30-11-2026"
    assert 'data-role="typed-date"' in html and 'placeholder="hh-bb-tttt"' in html
    assert 'data-role="datepicker"' not in html  # Flask-Admin's form.js does not take the box over


@pytest.mark.parametrize("typed", ["31-02-2026", "besok", "30-13-2026", "2026-11", "1 Desembre 2026",
                                   "30-11-9999", "30-11-0001"])
def test_a_date_that_cannot_be_read_is_refused_in_indonesian_and_nothing_is_saved(app, login_as, typed):
    _speaks_indonesian(app, "staff")
    response = login_as("staff").post("/admin/case/new/", data=_new_case(app, typed))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("Isikan tanggal seperti 30-11-2026, 2026-11-30 atau 30 Nov 2026." in html
            or "Isikan tanggal antara tahun 1900 dan 2199." in html), html[:3000]
    assert _input_value(html, "proposal_date") == typed  # what was typed stays in the box
    assert _cases(app) == 0


def _meeting_form(case_id: int, scheduled_at: str, **overrides) -> dict:
    return {"case": str(case_id), "scheduled_at": scheduled_at, "place": "Aula", "agenda": "", "status": "planned",
            "minutes": "", **overrides}


@pytest.mark.parametrize("typed", ["1 Des 2026 09.00", "01-12-2026 09:00", "2026-12-01 09:00:00",
                                   "1 Desember 2026 pukul 09.00", "1/12/2026 9.00 WIB", "2026-12-01T09:00"])
def test_a_date_and_time_typed_in_probolinggo_time_is_stored_in_utc(app, login_as, typed):
    with app.app_context():
        case_id = make_case(current_step=5).id
        db.session.commit()
    _speaks_indonesian(app, "kasubbag")
    client = login_as("kasubbag")
    response = client.post("/admin/meeting/new/", data=_meeting_form(case_id, typed))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        meeting = db.session.execute(select(Meeting)).scalar_one()
        stored = meeting.scheduled_at.replace(tzinfo=meeting.scheduled_at.tzinfo or timezone.utc)
        assert stored == datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # 09.00 WIB
        meeting_id = meeting.id
    html = client.get(f"/admin/meeting/edit/?id={meeting_id}").get_data(as_text=True)
    assert _input_value(html, "scheduled_at") == "01-12-2026 09.00"


@pytest.mark.parametrize("typed", ["1 Des 2026", "1 Des 2026 25.00", "1 Des 2026 9"])
def test_a_date_time_without_a_readable_time_is_refused(app, login_as, typed):
    with app.app_context():
        case_id = make_case(current_step=5).id
        db.session.commit()
    _speaks_indonesian(app, "kasubbag")
    html = login_as("kasubbag").post("/admin/meeting/new/", data=_meeting_form(case_id, typed)).get_data(as_text=True)
    assert "Isikan tanggal dan jam seperti 30-11-2026 09.00 atau 30 Nov 2026 09.00." in html
    assert _input_value(html, "scheduled_at") == typed
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Meeting)).scalar_one() == 0


def test_an_english_screen_reads_indonesian_month_names_and_shows_its_own_time_format(app, login_as):
    with app.app_context():
        case_id = make_case(current_step=5).id
        db.session.commit()
    client = login_as("kasubbag")  # the factories' accounts read English
    assert client.post("/admin/meeting/new/", data=_meeting_form(case_id, "1 Des 2026 14:30")).status_code == 302
    with app.app_context():
        meeting_id = db.session.execute(select(Meeting.id)).scalar_one()
    html = client.get(f"/admin/meeting/edit/?id={meeting_id}").get_data(as_text=True)
    assert _input_value(html, "scheduled_at") == "01-12-2026 14:30"
    assert "Enter a date and a time such as" in client.post(
        "/admin/meeting/new/", data=_meeting_form(case_id, "tomorrow")).get_data(as_text=True)


def test_an_unchanged_edit_form_keeps_the_stored_moment(app, login_as):
    """A stored 09:00:17.5 shown as "09.00" and posted back unchanged is not moved to 09:00."""
    with app.app_context():
        case = make_case(current_step=5)
        meeting = Meeting(case=case, scheduled_at=datetime(2026, 12, 1, 2, 0, 17, 500000, tzinfo=timezone.utc),
                          place="Aula", status="planned")
        db.session.add(meeting)
        db.session.commit()
        meeting_id, case_id = meeting.id, case.id
    client = login_as("kasubbag")
    html = client.get(f"/admin/meeting/edit/?id={meeting_id}").get_data(as_text=True)
    data = _meeting_form(case_id, _input_value(html, "scheduled_at"), place="Ruang Rapat",
                         row_version=row_version(html))
    assert client.post(f"/admin/meeting/edit/?id={meeting_id}", data=data).status_code == 302
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert (meeting.place, meeting.scheduled_at.second, meeting.scheduled_at.microsecond) == ("Ruang Rapat", 17, 500000)


def test_list_filters_still_take_typed_iso_dates(app, login_as):
    with app.app_context():
        make_case(title="KSB Taman kota", received_date=date(2026, 11, 2))
        make_case(title="KSB Pasar rakyat", received_date=date(2026, 11, 9))
        db.session.commit()
    client = login_as("staff")
    listed = client.get("/admin/case/", query_string={"flt0_" + _filter_arg(client, "received_equals"): "2026-11-09"})
    text = listed.get_data(as_text=True)
    assert "KSB Pasar rakyat" in text and "KSB Taman kota" not in text


def _filter_arg(client, arg: str) -> str:
    """`arg` as the list offers it (filter-groups-data), with the date picker of a date filter."""
    html = client.get("/admin/case/").get_data(as_text=True)
    groups = json.loads(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', html, re.S).group(1))
    offered = {flt["arg"]: flt.get("type") for filters in groups.values() for flt in filters}
    assert offered.get(arg) == "datepicker", offered
    return arg


def test_the_calendar_words_come_from_babel_in_the_users_language(app, login_as):
    _speaks_indonesian(app, "staff")
    script = login_as("staff").get("/admin/case/locale.js?lang=id")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    body = script.get_data(as_text=True)
    assert '"daysOfWeek": ["Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab"]' in body
    assert '"Des"' in body and '"firstDay": 1' in body and '"dateFormat": "DD-MM-YYYY"' in body
    assert '"timeFormat": "HH.mm"' in body
    assert "Please enter" not in body and "Apply" not in body


# -- in Chromium: typing is kept, the calendar is Indonesian and closes on a picked day --------------

from tests.factories import PASSWORD  # noqa: E402
from tests.test_browser import browser, live_server, page, save_button, staff  # noqa: E402,F401


def log_in(page, base_url: str, username: str) -> None:
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator('form.card button[type="submit"]').click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/admin/.*"))


def _open_case_form(page, base_url: str, case_id: int) -> None:
    page.goto(f"{base_url}/admin/case/edit/?id={case_id}")
    page.wait_for_selector("#proposal_date")


def test_in_the_browser_typed_dates_are_kept_and_the_calendar_speaks_indonesian(app, staff, page, live_server):
    with app.app_context():
        typed_iso = make_case(title="KSB Taman kota", proposal_date=date(2026, 11, 2),
                              received_date=date(2026, 12, 3)).id
        typed_local = make_case(title="KSB Pasar rakyat", proposal_date=date(2026, 11, 2),
                                received_date=date(2026, 12, 3)).id
        db.session.commit()
    log_in(page, live_server, staff)

    # Key by key, as a person types: the calendar that opens on focus never rewrites the box.
    _open_case_form(page, live_server, typed_iso)
    box = page.locator("#proposal_date")
    box.click()
    box.press("Control+a")
    box.press_sequentially("2026-11-30", delay=30)
    assert box.input_value() == "2026-11-30"
    save_button(page).click()
    page.wait_for_url(re.compile(r".*/admin/case/(details/)?\?.*|.*/admin/case/$"))
    with app.app_context():
        assert db.session.get(Case, typed_iso).proposal_date == date(2026, 11, 30)

    _open_case_form(page, live_server, typed_local)
    box = page.locator("#proposal_date")
    assert box.input_value() == "02-11-2026"  # shown in the Indonesian format
    box.click()
    box.press("Control+a")
    box.press_sequentially("30-11-2026", delay=30)
    assert box.input_value() == "30-11-2026"
    # The calendar of the received date: Indonesian words, opened on the date in the box.
    page.locator("#received_date").click()
    calendar = page.locator(".daterangepicker:visible")
    calendar.wait_for()
    words = calendar.inner_text()
    assert all(day in words for day in ("Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab")), words
    assert not any(english in words for english in ("Su", "Mo", "Tu", "Dec", "Apply", "Cancel"))
    assert calendar.locator(".calendar:visible select.monthselect option:checked").inner_text() == "Des"
    assert calendar.locator(".calendar:visible select.yearselect option:checked").inner_text() == "2026"
    calendar.locator(".calendar:visible td.available:not(.off)", has_text=re.compile(r"^4$")).click()
    page.locator(".daterangepicker").first.wait_for(state="hidden")  # closed: "Simpan" is free again
    assert page.locator("#received_date").input_value() == "04-12-2026"
    assert page.locator("#proposal_date").input_value() == "30-11-2026"
    save_button(page).click()
    page.wait_for_url(re.compile(r".*/admin/case/(details/)?\?.*|.*/admin/case/$"))
    with app.app_context():
        case = db.session.get(Case, typed_local)
        assert (case.proposal_date, case.received_date) == (date(2026, 11, 30), date(2026, 12, 4))
