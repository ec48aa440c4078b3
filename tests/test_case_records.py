"""The records of a case as the case page uses them: dispositions marked done in one click, meetings
marked held, documents previewed in the browser, letters that come back to the case, attendees in
compact rows picked from the people the panel knows."""
import io
import re
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from models import Attendee, Disposition, Document, Meeting, StepEvent, db
from models.sla import CITY_TIME_ZONE, local_today
from tests.browser_support import (  # noqa: F401 (browser is the module's Chromium fixture)
    SCREENSHOTS,
    browser,
    new_context,
    open_tab,
    problems,
    serving,
    sign_in,
)
from tests.conftest import AuthActions
from tests.factories import make_case, make_document, make_party, make_user
from tests.helpers import flashes, upload_folder

CASE_PAGE = "/admin/case/details/?id={}"
ONLY_ADDRESSEE = "Only the addressee of a disposition can mark it done."


@pytest.fixture()
def uploads(app, tmp_path):
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = upload_folder(tmp_path)
    yield
    app.config["UPLOAD_FOLDER"] = previous


def _page(response) -> str:
    return response.get_data(as_text=True)


def _step_title(app, number: int) -> str:
    """The step's title as the English screens show it."""
    from flask_babel import force_locale

    from admin_app.labels import step_title

    with app.test_request_context(), force_locale("en"):
        return step_title(number)


# -- dispositions -----------------------------------------------------------------------------------------
def _disposition(app, users, **fields) -> int:
    """A disposition written by the kabag at step 5 of a case of its own."""
    with app.app_context():
        case = make_case(current_step=5, **fields.pop("case", {}))
        disposition = Disposition(case=case, step=5, author_id=users["kabag"], instruction="prepare_meeting",
                                  note="Siapkan rapat TKKSD", **fields)
        db.session.add(disposition)
        db.session.commit()
        return disposition.id


def _done_at(app, disposition_id):
    with app.app_context():
        return db.session.get(Disposition, disposition_id).done_at


def _registration(app, disposition_id) -> str:
    with app.app_context():
        return db.session.get(Disposition, disposition_id).case.registration_number


def test_the_addressee_marks_a_disposition_done_in_one_click_and_comes_back_to_the_list(app, users, login_as):
    disposition_id = _disposition(app, users, to_role="kasubbag")
    client = login_as("kasubbag")
    listed = _page(client.get("/admin/disposition/?flt0_not_done_is=1"))
    button = re.search(r'<form method="post" action="/admin/disposition/done/" class="mark-done">(.*?)</form>',
                       listed, re.S)
    assert button and f'name="id" value="{disposition_id}"' in button.group(1)
    assert 'name="url" value="/admin/disposition/?flt0_not_done_is=1"' in button.group(1)
    assert "Mark done" in button.group(1)

    back = "/admin/disposition/?flt0_not_done_is=1"
    response = client.post("/admin/disposition/done/", data={"id": disposition_id, "url": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    assert _done_at(app, disposition_id) is not None
    shown = client.get(back)
    assert f"Disposition on {_registration(app, disposition_id)} marked done." in flashes(shown)
    assert "mark-done" not in _page(shown)  # the only one is done: no button left


@pytest.mark.parametrize("role", ["staff", "viewer", "kabag"])
def test_someone_else_gets_the_refusal_and_nothing_changes(app, users, login_as, role):
    """Staff when it is addressed to the kasubbag, a viewer, a kabag who did not write it."""
    with app.app_context():
        other_kabag = make_user("kabag", username="kabag2", full_name="Kabag Lain").id
        db.session.commit()
    disposition_id = _disposition(app, {**users, "kabag": other_kabag}, to_role="kasubbag")
    client = login_as(role)
    assert "mark-done" not in _page(client.get("/admin/disposition/"))  # no button offered
    response = client.post("/admin/disposition/done/", data={"id": disposition_id, "url": "/admin/disposition/"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert ONLY_ADDRESSEE in flashes(response)
    assert _done_at(app, disposition_id) is None


def test_a_disposition_done_already_is_refused_again(app, users, login_as):
    disposition_id = _disposition(app, users, to_role="staff")
    client = login_as("staff")
    client.post("/admin/disposition/done/", data={"id": disposition_id})
    first = _done_at(app, disposition_id)
    response = client.post("/admin/disposition/done/", data={"id": disposition_id}, follow_redirects=True)
    assert "This disposition is already done." in flashes(response)
    assert _done_at(app, disposition_id) == first


@pytest.mark.parametrize("url", ["https://evil.example/admin/", "//evil.example/", "javascript:alert(1)", ""])
def test_mark_done_returns_only_to_a_page_of_this_site(app, users, login_as, url):
    disposition_id = _disposition(app, users, to_role="staff")
    response = login_as("staff").post("/admin/disposition/done/", data={"id": disposition_id, "url": url})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/disposition/"
    assert _done_at(app, disposition_id) is not None


@pytest.mark.parametrize("value", ["", "abc", "99999999999999999999", "424242"])
def test_mark_done_of_no_disposition_is_not_found(app, users, login_as, value):
    assert login_as("staff").post("/admin/disposition/done/", data={"id": value}).status_code == 404


def test_mark_done_is_a_post_for_logged_in_users_only(app, users, client):
    disposition_id = _disposition(app, users, to_role="staff")
    assert client.get(f"/admin/disposition/done/?id={disposition_id}").status_code == 405
    response = client.post("/admin/disposition/done/", data={"id": disposition_id})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _done_at(app, disposition_id) is None


def test_addressed_to_me_and_not_done_show_just_my_open_dispositions(app, users, login_as):
    with app.app_context():
        kasubbag = users["kasubbag"]
    mine = _disposition(app, users, to_user_id=users["staff"])
    my_role = _disposition(app, users, to_role="staff")
    someone_named = _disposition(app, users, to_role="staff", to_user_id=kasubbag)  # a named person's only
    other_role = _disposition(app, users, to_role="kasubbag")
    done = _disposition(app, users, to_user_id=users["staff"], done_at=datetime.now(timezone.utc))
    client = login_as("staff")
    page = _page(client.get("/admin/disposition/"))
    assert "Addressed to me" in page and "Not done" in page  # offered as filters

    listed = _page(client.get("/admin/disposition/?flt0_addressed_to_me_is=1&flt1_not_done_is=1"))
    shown = {d for d in (mine, my_role, someone_named, other_role, done) if _registration(app, d) in listed}
    assert shown == {mine, my_role}
    assert listed.count('class="mark-done"') == 2  # each of mine with its button

    listed = _page(client.get("/admin/disposition/?flt0_addressed_to_me_is=1"))
    shown = {d for d in (mine, my_role, someone_named, other_role, done) if _registration(app, d) in listed}
    assert shown == {mine, my_role, done}


def test_the_list_shows_step_titles_and_no_none_for_a_missing_role(app, users, login_as):
    _disposition(app, users, to_user_id=users["kasubbag"])  # to a person, no role
    page = _page(login_as("kasubbag").get("/admin/disposition/"))
    assert _step_title(app, 5) in page
    assert not re.search(r">\s*None\s*<", page)
    assert "/admin/disposition/sheet/?id=" in page  # the printable sheet stays one click away


def test_the_bulk_action_still_marks_done(app, users, login_as):
    disposition_id = _disposition(app, users, to_role="kasubbag")
    response = login_as("kasubbag").post("/admin/disposition/action/", data={
        "action": "mark_done", "rowid": [str(disposition_id)], "url": "/admin/disposition/"})
    assert response.status_code == 302
    assert _done_at(app, disposition_id) is not None


# -- step history ---------------------------------------------------------------------------------------
def test_the_step_history_shows_titles_and_no_none_for_the_registration(app, users, login_as):
    with app.app_context():
        case = make_case()
        db.session.flush()
        assert db.session.execute(select(StepEvent.from_step).where(StepEvent.case_id == case.id)).scalar_one() is None
        db.session.commit()
    page = _page(login_as("staff").get("/admin/stepevent/"))
    assert _step_title(app, 1) in page  # the registration's "to step"
    assert not re.search(r">\s*None\s*<", page)
    assert "—" in page


# -- document preview ---------------------------------------------------------------------------------------
def _image(image_format: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (30, 120, 200)).save(buffer, image_format)
    return buffer.getvalue()


def _stored_document(app, name: str, data: bytes | None = None) -> int:
    """A document of a case; a PDF from the factory, else `data` checked and stored as an upload is."""
    from admin_app import files

    with app.app_context():
        case = make_case()
        if data is None:
            document = make_document(case, "opd_draft", "Draf KSB")
        else:
            stored = files.accept(name, data, 10 * 1024 * 1024)
            document = make_document(case, "opd_draft", "Draf KSB", file_name=stored.name, file_size=stored.size,
                                     file_type=stored.type, file_sha256=stored.sha256)
        db.session.commit()
        return document.id


def _file_bytes(app, document_id) -> bytes:
    from admin_app import files

    with app.app_context():
        with open(files.path_for(db.session.get(Document, document_id).file_sha256), "rb") as stored:
            return stored.read()


@pytest.mark.parametrize("name,content_type", [("draf.pdf", "application/pdf"), ("scan.png", "image/png"),
                                               ("foto.jpg", "image/jpeg")])
def test_a_pdf_or_image_is_previewed_inline_with_a_policy_of_its_own(app, users, login_as, uploads,
                                                                     name, content_type):
    data = {"draf.pdf": None, "scan.png": _image("PNG"), "foto.jpg": _image("JPEG")}[name]
    document_id = _stored_document(app, name, data)
    response = login_as("viewer").get(f"/admin/document/preview/?id={document_id}")
    assert response.status_code == 200
    assert response.mimetype == content_type
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "nonce" not in policy
    assert "frame-ancestors 'self'" in policy and response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.data == _file_bytes(app, document_id)
    # Every other page keeps the panel's own policy.
    assert "script-src 'self'" in login_as("viewer").get("/admin/document/").headers["Content-Security-Policy"]


def _docx() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Draf Kesepakatan Bersama")
    document.save(buffer)
    return buffer.getvalue()


def test_a_docx_is_not_previewed_but_still_downloads(app, users, login_as, uploads):
    document_id = _stored_document(app, "draf.docx", _docx())
    client = login_as("staff")
    assert client.get(f"/admin/document/preview/?id={document_id}").status_code == 404
    download = client.get(f"/admin/document/download/?id={document_id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")


def test_a_document_whose_stored_type_is_not_a_checked_one_is_not_previewed(app, users, login_as, uploads):
    document_id = _stored_document(app, "draf.pdf")
    with app.app_context():
        db.session.get(Document, document_id).file_type = "text/html"
        db.session.commit()
    assert login_as("staff").get(f"/admin/document/preview/?id={document_id}").status_code == 404


@pytest.mark.parametrize("value", ["", "abc", "99999999999999999999", "424242"])
def test_a_preview_of_no_document_is_not_found(app, users, login_as, value):
    assert login_as("staff").get(f"/admin/document/preview/?id={value}").status_code == 404


def test_the_preview_is_for_those_who_may_read_documents(app, users, login_as, client, uploads):
    document_id = _stored_document(app, "draf.pdf")
    anonymous = client.get(f"/admin/document/preview/?id={document_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert login_as("admin").get(f"/admin/document/preview/?id={document_id}").status_code == 403


# -- meetings: marked held from the case page ---------------------------------------------------------------
def _meeting(app, when: datetime, case_fields=None, **fields) -> tuple[int, int, int]:
    with app.app_context():
        case = make_case(current_step=8, **(case_fields or {}))
        meeting = Meeting(case=case, scheduled_at=when, place="Ruang Rapat Sekda", status="planned", **fields)
        db.session.add(meeting)
        db.session.commit()
        return case.id, meeting.id, meeting.version


def _held_state(app, meeting_id) -> tuple:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        return meeting.status, meeting.minutes, meeting.version


def _past() -> datetime:
    return datetime.combine(local_today() - timedelta(days=1), time(9), CITY_TIME_ZONE).astimezone(timezone.utc)


def _future() -> datetime:
    return datetime.combine(local_today() + timedelta(days=2), time(9), CITY_TIME_ZONE).astimezone(timezone.utc)


def test_a_meeting_is_marked_held_with_its_minutes_and_back_to_the_case(app, users, login_as):
    case_id, meeting_id, version = _meeting(app, _past())
    back = CASE_PAGE.format(case_id)
    response = login_as("staff").post("/admin/meeting/held/", data={
        "id": meeting_id, "version": version, "minutes": "  Draf disepakati dengan perbaikan.  ", "url": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    status, minutes, new_version = _held_state(app, meeting_id)
    assert (status, minutes) == ("held", "Draf disepakati dengan perbaikan.") and new_version > version


def test_marking_held_says_so_and_without_minutes_keeps_the_minutes_it_has(app, users, login_as):
    _, meeting_id, version = _meeting(app, _past(), minutes="Notulen sudah ditulis.")
    response = login_as("kasubbag").post("/admin/meeting/held/", data={"id": meeting_id, "version": version,
                                                                       "minutes": ""}, follow_redirects=True)
    assert response.request.path == "/admin/meeting/"  # no url: the meetings
    assert "is marked held" in flashes(response)
    assert _held_state(app, meeting_id)[:2] == ("held", "Notulen sudah ditulis.")


def test_a_future_meeting_is_not_marked_held_and_nothing_is_written(app, users, login_as):
    case_id, meeting_id, version = _meeting(app, _future())
    response = login_as("staff").post("/admin/meeting/held/", data={
        "id": meeting_id, "version": version, "minutes": "Ditulis terlalu awal.", "url": CASE_PAGE.format(case_id)},
        follow_redirects=True)
    assert "A meeting cannot be marked held before its scheduled time." in flashes(response)
    assert _held_state(app, meeting_id) == ("planned", None, version)


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_a_meeting_of_a_closed_case_is_not_marked_held(app, users, login_as, status):
    _, meeting_id, version = _meeting(app, _past(), case_fields={
        "status": status, "closed_at": datetime.now(timezone.utc)})
    response = login_as("kasubbag").post("/admin/meeting/held/", data={"id": meeting_id, "version": version,
                                                                       "minutes": "Notulen."}, follow_redirects=True)
    assert "is closed" in flashes(response)
    assert _held_state(app, meeting_id) == ("planned", None, version)


@pytest.mark.parametrize("sent", ["stale", "", "abc"])
def test_a_page_older_than_the_meeting_is_refused_and_nothing_is_written(app, users, login_as, sent):
    case_id, meeting_id, version = _meeting(app, _past())
    with app.app_context():  # someone else edits the meeting after the page was opened
        db.session.get(Meeting, meeting_id).place = "Ruang Rapat Wali Kota"
        db.session.commit()
    now = _held_state(app, meeting_id)
    response = login_as("staff").post("/admin/meeting/held/", data={
        "id": meeting_id, "version": version if sent == "stale" else sent, "minutes": "Notulen lama.",
        "url": CASE_PAGE.format(case_id)})
    assert response.status_code == 302 and response.headers["Location"] == CASE_PAGE.format(case_id)
    assert _held_state(app, meeting_id) == now and now[:2] == ("planned", None)


def test_the_stale_refusal_says_so(app, users, login_as):
    _, meeting_id, version = _meeting(app, _past())
    client = login_as("staff")
    client.post("/admin/meeting/held/", data={"id": meeting_id, "version": version, "minutes": "Notulen."})
    again = client.post("/admin/meeting/held/", data={"id": meeting_id, "version": version, "minutes": "Lain."},
                        follow_redirects=True)
    assert "The meeting was changed after this page was opened; nothing was saved." in flashes(again)
    assert _held_state(app, meeting_id)[:2] == ("held", "Notulen.")


def test_only_those_who_may_edit_meetings_mark_them_held(app, users, login_as, client):
    _, meeting_id, version = _meeting(app, _past())
    form = {"id": meeting_id, "version": version, "minutes": "Notulen."}
    assert login_as("viewer").post("/admin/meeting/held/", data=form).status_code == 403
    assert login_as("admin").post("/admin/meeting/held/", data=form).status_code == 403
    AuthActions(client).logout()
    assert "/login" in client.post("/admin/meeting/held/", data=form).headers["Location"]
    assert _held_state(app, meeting_id) == ("planned", None, version)
    assert login_as("staff").post("/admin/meeting/held/", data={**form, "id": "999999"}).status_code == 404


# -- letters come back to the case page ---------------------------------------------------------------------
def test_the_letter_page_goes_back_where_it_was_opened_from(app, users, login_as):
    case_id, meeting_id, _ = _meeting(app, _future())
    back = CASE_PAGE.format(case_id)
    page = _page(login_as("staff").get(f"/admin/meeting/letter/?id={meeting_id}&kind=invitation&url={back}"))
    assert re.search(rf'<a href="{re.escape(back.replace("&", "&amp;"))}" id="back">Back</a>', page)
    assert f'name="url" value="{back}"' in page  # the confirm form carries it
    plain = _page(login_as("staff").get(f"/admin/meeting/letter/?id={meeting_id}&kind=invitation"))
    assert '<a href="/admin/meeting/" id="back">Back to the meetings</a>' in plain and 'name="url"' not in plain
    foreign = _page(login_as("staff").get(
        f"/admin/meeting/letter/?id={meeting_id}&kind=invitation&url=https://evil.example/"))
    assert '<a href="/admin/meeting/" id="back">Back to the meetings</a>' in foreign
    assert 'name="url"' not in foreign


def test_a_refused_letter_goes_back_to_the_case_page(app, users, login_as):
    """A Nota Dinas of a meeting still planned is refused, on the page and on a crafted confirmation."""
    case_id, meeting_id, _ = _meeting(app, _future())
    back = CASE_PAGE.format(case_id)
    client = login_as("staff")
    asked = client.get(f"/admin/meeting/letter/?id={meeting_id}&kind=memo&url={back}")
    assert asked.status_code == 302 and asked.headers["Location"] == back
    confirmed = client.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": "memo", "confirm": "new_number",
                                                            "seen": "", "url": back})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == back
    unconfirmed = client.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": "memo", "url": back})
    assert unconfirmed.status_code == 302 and "url=" in unconfirmed.headers["Location"]
    with app.app_context():
        assert db.session.execute(select(Document).where(Document.meeting_id == meeting_id)).first() is None


def test_an_issued_letter_goes_back_to_the_case_page(app, users, login_as):
    case_id, meeting_id, _ = _meeting(app, _future())
    back = CASE_PAGE.format(case_id)
    response = login_as("staff").post("/admin/meeting/letter/", data={
        "id": meeting_id, "kind": "invitation", "confirm": "new_number", "seen": "", "url": back})
    assert response.status_code == 302 and response.headers["Location"] == back
    with app.app_context():
        assert db.session.execute(select(Document.kind).where(Document.meeting_id == meeting_id)).scalar_one() \
            == "invitation"


# -- attendees in compact rows --------------------------------------------------------------------------------
def test_the_meeting_form_offers_the_known_people_as_names(app, users, login_as):
    with app.app_context():
        make_party("company", "PT Mitra Sejahtera", contact_person="Budi Hartono")
        make_user("staff", username="former", full_name="Mantan Pegawai", active=False)
        db.session.commit()
    page = _page(login_as("kasubbag").get("/admin/meeting/new/"))
    people = re.search(r'<datalist id="attendee-people">(.*?)</datalist>', page, re.S).group(1)
    assert re.search(r'value="Pengguna staff" data-position="Staff" '
                     r'data-organisation="Government Section, City Secretariat of Probolinggo"', people)
    assert 'value="Budi Hartono" data-position="" data-organisation="PT Mitra Sejahtera"' in people
    assert "Pengguna admin" not in people and "Mantan Pegawai" not in people
    assert "list=&#34;attendee-people&#34;" in page  # the new row's name (in the escaped template) uses it
    assert "Add attendee" in page and "New Attendee" not in page
    assert "/static/attendees.js" in page


def test_attendee_rows_save_change_and_remove(app, users, login_as):
    _, meeting_id, version = _meeting(app, _past())
    client = login_as("staff")
    edit = f"/admin/meeting/edit/?id={meeting_id}"
    form = {"case": "", "scheduled_at": "", "place": "Ruang Rapat Sekda", "agenda": "", "status": "planned",
            "minutes": ""}
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        form.update(case=str(meeting.case_id),
                    scheduled_at=meeting.scheduled_at.replace(tzinfo=timezone.utc).astimezone(CITY_TIME_ZONE)
                    .strftime("%Y-%m-%d %H:%M:%S"))
    response = client.post(edit, data={**form, "row_version": str(version),
                                       "attendees-0-name": "Pengguna staff", "attendees-0-position": "Staff",
                                       "attendees-0-organisation": "Bagian Pemerintahan",
                                       "attendees-0-present": "y",
                                       "attendees-1-name": "Budi Hartono", "attendees-1-organisation": "PT Mitra"})
    assert response.status_code == 302, flashes(response)
    page = _page(client.get(edit))
    rows = re.findall(r'<div id="attendees-\d+" class="inline-field attendee-row form-row mb-1">', page)
    assert len(rows) == 2
    assert 'value="Pengguna staff"' in page and 'name="del-attendees-0"' in page
    with app.app_context():
        ids = [a.id for a in db.session.get(Meeting, meeting_id).attendees]
        current = db.session.get(Meeting, meeting_id).version
    response = client.post(edit, data={**form, "row_version": str(current),
                                       "attendees-0-id": str(ids[0]), "attendees-0-name": "Pengguna staff",
                                       "del-attendees-0": "y",
                                       "attendees-1-id": str(ids[1]), "attendees-1-name": "Budi Hartono",
                                       "attendees-1-position": "Direktur", "attendees-1-organisation": "PT Mitra"})
    assert response.status_code == 302, flashes(response)
    with app.app_context():
        assert [(a.name, a.position) for a in db.session.execute(
            select(Attendee).where(Attendee.meeting_id == meeting_id)).scalars()] == [("Budi Hartono", "Direktur")]


def test_the_add_button_reads_tambah_peserta_in_indonesian(app, users):
    with app.app_context():
        make_user("kasubbag", username="kasubbag_id", language="id")
        db.session.commit()
    client = app.test_client()
    assert AuthActions(client).login("kasubbag_id").status_code == 302
    page = _page(client.get("/admin/meeting/new/"))
    assert "Tambah peserta" in page and "Baru Peserta" not in page
    assert "Peserta" in page  # the rows' heading


def test_the_known_people_need_no_query_per_person(app, users, login_as):
    from tests.helpers import count_queries

    with app.app_context():
        for number in range(30):
            make_party("company", f"PT Mitra {number}", contact_person=f"Kontak {number}")
        db.session.commit()
    client = login_as("staff")
    client.get("/admin/meeting/new/")
    with app.app_context(), count_queries() as few:
        client.get("/admin/meeting/new/")
    with app.app_context():
        for number in range(30, 60):
            make_party("company", f"PT Mitra {number}", contact_person=f"Kontak {number}")
        db.session.commit()
    with app.app_context(), count_queries() as more:
        page = _page(client.get("/admin/meeting/new/"))
    assert "Kontak 59" in page
    assert more[0] == few[0]



# -- in Chromium ---------------------------------------------------------------------------------------------


def _screenshot(name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_attendee_rows_are_compact_and_a_picked_user_fills_the_position(app, users, browser):
    """At the office's 1366×768: one line per attendee, and choosing a colleague's name from the list
    fills their position and organisation; the saved rows are what the form showed."""
    _, meeting_id, _ = _meeting(app, _past())
    with app.app_context():
        make_user("kasubbag", username="kasubbag_id", full_name="Sri Wahyuni", language="id")
        make_user("staff", username="andi", full_name="Andi Pratama")
        meeting = db.session.get(Meeting, meeting_id)
        meeting.attendees = [Attendee(name="Budi Hartono", position="Direktur", organisation="PT Mitra", present=True),
                             Attendee(name="Rina Kartika", position="Kepala Bidang", organisation="DLH")]
        db.session.commit()
    with serving(app) as base:
        context = new_context(browser, height=768)
        tab = open_tab(context)
        sign_in(tab, base, "kasubbag_id")
        tab.goto(f"{base}/admin/meeting/edit/?id={meeting_id}")
        add = tab.locator("#attendees-button")
        assert add.inner_text().strip() == "Tambah peserta"
        add.click()
        rows = tab.locator(".attendee-row")
        assert rows.count() == 3
        for index in range(3):
            assert rows.nth(index).bounding_box()["height"] < 60, index
        tab.locator("#attendees").screenshot(path=str(_screenshot("meeting-attendees")))

        new_row = rows.nth(2)
        new_row.locator('[data-attendee="name"]').fill("Andi Pratama")  # as picking it from the list does
        expected = tab.locator('#attendee-people option[value="Andi Pratama"]')
        position = new_row.locator('[data-attendee="position"]').input_value()
        assert position and position == expected.get_attribute("data-position")
        assert new_row.locator('[data-attendee="organisation"]').input_value() == \
            "Bagian Pemerintahan, Sekretariat Daerah Kota Probolinggo"
        new_row.locator('[data-attendee="name"]').fill("Tamu Undangan")  # typed: nobody known, nothing filled
        new_row.locator('[data-attendee="position"]').fill("Narasumber")
        new_row.locator('[data-attendee="name"]').fill("Andi Pratama")
        tab.locator('input[type="submit"].btn-primary').click()
        tab.wait_for_url(re.compile(r"/admin/meeting/"))
        found = problems(tab)
        context.close()
    assert found == []
    with app.app_context():
        saved = [(a.name, a.position, a.organisation) for a in db.session.get(Meeting, meeting_id).attendees]
    assert saved == [("Budi Hartono", "Direktur", "PT Mitra"), ("Rina Kartika", "Kepala Bidang", "DLH"),
                     ("Andi Pratama", position, "Bagian Pemerintahan, Sekretariat Daerah Kota Probolinggo")]


def test_chromium_shows_a_pdf_and_an_image_preview_inline(app, users, browser, uploads):
    """The PDF opens in Chromium's viewer (no download), the image shows in a frame of a panel page,
    and neither breaks its policy."""
    pdf_id = _stored_document(app, "draf.pdf")
    png_id = _stored_document(app, "scan.png", _image("PNG"))
    with serving(app) as base:
        context = new_context(browser, height=768)
        tab = open_tab(context)
        downloads = []
        tab.on("download", lambda download: downloads.append(download))
        sign_in(tab, base, "viewer")
        response = tab.goto(f"{base}/admin/document/preview/?id={pdf_id}")
        assert response.status == 200
        for _ in range(50):  # the PDF viewer is a frame of Chromium's own, loaded after the document
            if any(frame.url.startswith("chrome-extension://") for frame in tab.frames):
                break
            tab.wait_for_timeout(100)
        assert any(frame.url.startswith("chrome-extension://") for frame in tab.frames)
        tab.goto(f"{base}/admin/document/")
        tab.evaluate("""url => { const frame = document.createElement("iframe");
                                 frame.id = "preview"; frame.src = url; document.body.append(frame); }""",
                     f"/admin/document/preview/?id={png_id}")
        image = tab.frame_locator("#preview").locator("img")
        image.wait_for()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 24
        found = problems(tab)
        context.close()
    assert downloads == [] and found == []
