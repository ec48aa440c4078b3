"""DOCX letters: invitation, Nota Dinas, lembar disposisi, filled from the kept templates in Indonesian.

Dates come from Babel and the words from the gettext catalogue under force_locale("id"), so a
letter reads the same whatever the language of the user who makes it.
"""
import io
import re
import threading
from datetime import date, datetime, time, timedelta, timezone

import docx
import pytest
from docx.shared import Pt
from flask_babel import force_locale
from sqlalchemy import event, select

from admin_app.labels import label, step_title
from admin_app.letters import (
    LetterRefused,
    check_letter,
    disposition_sheet_docx,
    indonesian_date,
    indonesian_day,
    invitation_docx,
    local_time,
    memo_docx,
)
from models import Attendee, Disposition, Document, Instruction, Meeting, db
from models.counter import Counter
from models.sla import CITY_TIME_ZONE, is_working_day, local_today
from tests.factories import PASSWORD, make_case, make_party, make_user
from tests.helpers import flashes, upload_folder

TODAY = date(2026, 11, 20)
SIGNER = ("Drs. Budi Santoso, M.Si.", "a.n. SEKRETARIS DAERAH\nAsisten Pemerintahan dan Kesra")
# The instructions as the Indonesian panel and the sheet both write them.
INSTRUCTIONS_ID = ("Setujui", "Pelajari", "Tindak lanjuti", "Siapkan rapat", "Koordinasikan", "Untuk diketahui",
                   "Arsipkan")


def document_text(data: bytes) -> str:
    """Every paragraph of the body and of every table cell (nested ones too), one per line."""
    document = docx.Document(io.BytesIO(data))
    lines = []

    def walk(container):
        for block in container.iter_inner_content():
            if isinstance(block, docx.table.Table):
                for row in block.rows:
                    for cell in row.cells:
                        walk(cell)
            else:
                lines.append(block.text)

    walk(document)
    return "\n".join(lines)


def assert_page_setup(data: bytes) -> None:
    document = docx.Document(io.BytesIO(data))
    for section in document.sections:
        # Word stores twips: A4 is 11906 x 16838, 2.5 cm is 1417.
        assert (round(section.page_width.cm, 2), round(section.page_height.cm, 2)) == (21.0, 29.7)
        for margin in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin):
            assert round(margin.cm, 2) == 2.5
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(12)


def assert_filled(text: str) -> None:
    for tag in ("{{", "}}", "{%", "%}"):
        assert tag not in text


@pytest.fixture()
def letter_case(app):
    """A KSB with a held meeting (09.00 WIB on Tuesday 24 November 2026) and a disposition, as
    stored and read back, so date-times come from the database as the panel gets them."""
    with app.app_context():
        kabag = make_user("kabag", full_name="Dra. Sri Wahyuni")
        staff = make_user("staff", full_name="Andi Pratama")
        case = make_case(subject=make_party("company", "PT Air & Energi <Persero>"),
                         opd=make_party("opd", "Dinas Lingkungan Hidup"),
                         title="KSB Pengelolaan sampah regional", assigned_to=staff)
        meeting = Meeting(case=case, scheduled_at=datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc),
                          place="Ruang Rapat Sekretariat Daerah Lt. 2", agenda="Pembahasan draf KSB",
                          status="held", minutes="1. Draf disepakati dengan perubahan pasal 5.\r\n\r\n"
                                                 "2. OPD menyampaikan draf final paling lambat 1 Desember 2026.")
        meeting.attendees = [
            Attendee(name="Ir. Hadi Susanto", position="Kepala Dinas", organisation="Dinas Lingkungan Hidup",
                     present=True),
            Attendee(name="Rina Kartika", position="Direktur", organisation="PT Air & Energi", present=True),
            Attendee(name="Bambang Absen", position="Kepala Bidang", organisation="Bappeda", present=False),
        ]
        disposition = Disposition(case=case, step=5, author=kabag, to_user=staff, to_role="staff",
                                  instruction="prepare_meeting", note="Segera jadwalkan rapat TKKSD.\nUndang OPD.",
                                  due_date=date(2026, 11, 27),
                                  # 01.30 WIB on the 24th is still the 23rd in UTC.
                                  created_at=datetime(2026, 11, 23, 18, 30, tzinfo=timezone.utc))
        db.session.add_all([meeting, disposition])
        db.session.commit()
        ids = {"case": case.id, "meeting": meeting.id, "disposition": disposition.id}
        db.session.expire_all()
        yield {"case": db.session.get(type(case), ids["case"]),
               "meeting": db.session.get(Meeting, ids["meeting"]),
               "disposition": db.session.get(Disposition, ids["disposition"])}


def test_indonesian_dates_come_from_babel_whatever_the_locale(app):
    with app.test_request_context(), force_locale("en"):
        assert indonesian_date(date(2026, 11, 24)) == "24 November 2026"
        assert indonesian_date(date(2027, 1, 1)) == "1 Januari 2027"
        monday = date(2026, 11, 23)
        assert [indonesian_day(monday + timedelta(days=n)) for n in range(7)] == [
            "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
        assert [indonesian_date(date(2026, month, 1)).split()[1] for month in range(1, 13)] == [
            "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
            "Oktober", "November", "Desember"]
        # 20.00 UTC is 03.00 WIB the next day; SQLite hands back naive UTC values.
        late = datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc)
        assert (indonesian_day(late), indonesian_date(late)) == ("Rabu", "25 November 2026")
        assert local_time(late.replace(tzinfo=None)).strftime("%H.%M") == "03.00"


def test_step_titles_are_catalogue_strings(app):
    with app.test_request_context():
        with force_locale("id"):
            assert step_title(5) == "5. Menerima draf dan mendisposisi"
            assert step_title(17) == "17. Mengarsipkan dan menyimpan dokumen"
        with force_locale("en"):
            assert step_title(5) == "5. Receive the draft and write a disposition"


def test_invitation(letter_case):
    case, meeting = letter_case["case"], letter_case["meeting"]
    data = invitation_docx(case, meeting, "005/123/425.011/2026", *SIGNER, today=TODAY)
    text = document_text(data)

    for expected in ("PEMERINTAH KOTA PROBOLINGGO", "SEKRETARIAT DAERAH",
                     "Jl. Panglima Sudirman No. 19 Probolinggo 67211", "Telp./Fax (0335) 421921",
                     "Probolinggo, 20 November 2026", "005/123/425.011/2026", "Penting",
                     "Undangan Rapat Pembahasan KSB Pengelolaan sampah regional",
                     case.registration_number, case.title, "Dinas Lingkungan Hidup", "PT Air & Energi <Persero>",
                     "Tim Koordinasi Kerja Sama Daerah (TKKSD)", "660/123/425.108/2026",
                     "Selasa, 24 November 2026", "09.00 WIB", "Ruang Rapat Sekretariat Daerah Lt. 2",
                     "Pembahasan draf KSB", "Drs. Budi Santoso, M.Si.", "a.n. SEKRETARIS DAERAH",
                     "Asisten Pemerintahan dan Kesra"):
        assert expected in text, expected
    assert "Lampiran" in text and "Perihal" in text and "Kepada" in text and "Yth." in text
    assert "Kesepakatan Bersama" in text
    assert "KSB KSB" not in text
    assert_filled(text)
    assert_page_setup(data)


def test_invitation_without_agenda_names_the_agreement(letter_case):
    case, meeting = letter_case["case"], letter_case["meeting"]
    case.agreement_type, case.title = "PKS", "Pemanfaatan TPA regional"
    meeting.agenda = None
    text = document_text(invitation_docx(case, meeting, "005/9/425.011/2026", *SIGNER, today=TODAY))
    assert "Undangan Rapat Pembahasan PKS Pemanfaatan TPA regional" in text
    assert "Pembahasan rancangan Perjanjian Kerja Sama tentang Pemanfaatan TPA regional" in text


def test_letters_are_indonesian_for_a_user_of_the_english_interface(app, letter_case):
    """Made inside a request of a user reading the panel in English: the letter's words are still Indonesian."""
    case, meeting, disposition = letter_case["case"], letter_case["meeting"], letter_case["disposition"]
    case.agreement_type, meeting.agenda, meeting.minutes = "PKS", None, None
    with app.test_request_context(), force_locale("en"):
        assert str(label(Instruction, "approve")) == "Approve"  # the panel speaks English here
        invitation = document_text(invitation_docx(case, meeting, "005/1/2026", *SIGNER, today=TODAY))
        memo = document_text(memo_docx(case, meeting, "000/1/2026", "A", "B", TODAY))
        sheet = document_text(disposition_sheet_docx(disposition, TODAY))
        assert str(label(Instruction, "approve")) == "Approve"  # and still does afterwards
    assert "Selasa, 24 November 2026" in invitation
    assert "Pembahasan rancangan Perjanjian Kerja Sama tentang" in invitation
    assert "Notulen rapat belum diisi." in memo and "hari Selasa, tanggal 24 November 2026" in memo
    for expected in ("5. Menerima draf dan mendisposisi", "Andi Pratama / Staf Subbagian Kerja Sama", "Segera",
                     "27 November 2026", "Kepala Bagian Pemerintahan", *INSTRUCTIONS_ID):
        assert expected in sheet, expected
    for english in ("Approve", "Receive the draft", "Head of", "Urgent", "Tuesday", "November 24"):
        assert english not in invitation + memo + sheet, english


def test_the_sheet_uses_the_panels_words(app, letter_case):
    """The instructions on the sheet are the labels the Indonesian panel shows, from the one catalogue."""
    text = document_text(disposition_sheet_docx(letter_case["disposition"], TODAY))
    with app.test_request_context(), force_locale("id"):
        panel = [label(Instruction, member) for member in Instruction]
    assert tuple(panel) == INSTRUCTIONS_ID
    for word in panel:
        assert word in text


def test_memo(letter_case):
    case, meeting = letter_case["case"], letter_case["meeting"]
    data = memo_docx(case, meeting, "000.1/45/425.011/2026", "Andi Pratama, S.H.",
                     "Kepala Subbagian Kerja Sama", TODAY)
    text = document_text(data)

    for expected in ("NOTA DINAS", "BAGIAN PEMERINTAHAN", "Kepala Bagian Pemerintahan",
                     "Kepala Subbagian Kerja Sama", "20 November 2026", "000.1/45/425.011/2026", "Sifat",
                     "Lampiran", "Laporan Hasil Rapat Pembahasan KSB Pengelolaan sampah regional",
                     case.registration_number, case.title, "Dinas Lingkungan Hidup", "PT Air & Energi <Persero>",
                     "hari Selasa, tanggal 24 November 2026, pukul 09.00 WIB",
                     "Ruang Rapat Sekretariat Daerah Lt. 2",
                     "1.\tIr. Hadi Susanto, Kepala Dinas, Dinas Lingkungan Hidup",
                     "2.\tRina Kartika, Direktur, PT Air & Energi",
                     "1. Draf disepakati dengan perubahan pasal 5.",
                     "2. OPD menyampaikan draf final paling lambat 1 Desember 2026.", "Andi Pratama, S.H."):
        assert expected in text, expected
    assert "Bambang Absen" not in text  # absent
    assert "\r" not in text
    assert_filled(text)
    assert_page_setup(data)


def test_memo_of_a_meeting_without_attendees_or_minutes(letter_case):
    case, meeting = letter_case["case"], letter_case["meeting"]
    for attendee in meeting.attendees:
        attendee.present = False
    meeting.minutes = None
    text = document_text(memo_docx(case, meeting, "000.1/46/425.011/2026", "A", "B", TODAY))
    assert "(tidak ada peserta yang tercatat hadir)" in text
    assert "Notulen rapat belum diisi." in text
    assert_filled(text)


def test_disposition_sheet(letter_case):
    disposition = letter_case["disposition"]
    case = disposition.case
    data = disposition_sheet_docx(disposition, TODAY)
    text = document_text(data)

    for expected in ("LEMBAR DISPOSISI", "BAGIAN PEMERINTAHAN", "Surat dari", "Dinas Lingkungan Hidup",
                     "No. agenda", case.registration_number, case.proposal_number,
                     indonesian_date(case.received_date), indonesian_date(case.proposal_date),
                     f"{case.title} (KSB) — PT Air & Energi <Persero>", case.object,
                     "5. Menerima draf dan mendisposisi",
                     "Segera", "Andi Pratama / Staf Subbagian Kerja Sama", "27 November 2026",
                     "Segera jadwalkan rapat TKKSD.\nUndang OPD.",
                     "Probolinggo, 24 November 2026",  # created 01.30 WIB on the 24th
                     "Dra. Sri Wahyuni"):
        assert expected in text, expected
    assert "☑ Siapkan rapat" in text
    for other in ("Setujui", "Pelajari", "Tindak lanjuti", "Koordinasikan", "Untuk diketahui", "Arsipkan"):
        assert f"☐ {other}" in text
    assert text.count("☑") == 1
    assert_filled(text)
    assert_page_setup(data)

    document = docx.Document(io.BytesIO(data))
    # The header grid: 6 rows of 4 columns, the Perihal, Objek and Tahap rows spanning three.
    grid = document.tables[0]
    assert [cell.text for cell in grid.rows[1].cells] == [
        "No. surat", case.proposal_number, "No. agenda", case.registration_number]
    assert [row.cells[0].text for row in grid.rows[3:]] == ["Perihal", "Objek", "Tahap"]
    assert grid.rows[4].cells[1].text == grid.rows[4].cells[3].text == case.object
    # The signer's title is written as the role's name and printed in capitals by the template.
    [title] = [p for p in document.paragraphs if p.text == "Kepala Bagian Pemerintahan"]
    assert title.runs[0].font.all_caps


def test_disposition_sheet_to_a_role_without_due_date(letter_case):
    disposition = letter_case["disposition"]
    disposition.to_user, disposition.to_role, disposition.due_date = None, "kasubbag", None
    disposition.instruction, disposition.note = "file", None
    text = document_text(disposition_sheet_docx(disposition, TODAY))
    assert "Kepala Subbagian Kerja Sama" in text and "Biasa" in text and "—" in text
    assert "☑ Arsipkan" in text and text.count("☑") == 1


# -- issuing a letter over HTTP: checked, confirmed, numbered once -------------------------------------
INVITATION, MEMO = "005/{:03d}/425.014/{}", "000.1.2/{:03d}/425.014/{}"


@pytest.fixture()
def uploads(app, tmp_path):
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = upload_folder(tmp_path)
    yield tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = previous


def _working_day(start: date) -> date:
    while not is_working_day(start):
        start += timedelta(days=1)
    return start


def _at(day: date, hour: int = 9) -> datetime:
    """`hour` o'clock WIB on `day`, in UTC as stored."""
    return datetime.combine(day, time(hour), CITY_TIME_ZONE).astimezone(timezone.utc)


def _meeting(app, day: date, status="planned", minutes=None, present=True, case=None) -> int:
    with app.app_context():
        meeting = Meeting(case=make_case(current_step=7, **(case or {})), scheduled_at=_at(day),
                          place="Ruang Rapat Sekretariat Daerah", agenda="Pembahasan draf KSB", status=status,
                          minutes=minutes, attendees=[Attendee(name="Sri Wahyuni", position="Kasubbag",
                                                               organisation="Bagian Pemerintahan", present=present)])
        db.session.add(meeting)
        db.session.commit()
        return meeting.id


def planned_meeting(app, case=None) -> int:
    return _meeting(app, _working_day(local_today() + timedelta(days=5)), case=case)


def held_meeting(app, case=None) -> int:
    return _meeting(app, local_today() - timedelta(days=2), status="held", minutes="Para pihak sepakat.", case=case)


def letter_page(client, meeting_id, kind):
    return client.get(f"/admin/meeting/letter/?id={meeting_id}&kind={kind}")


def confirm(client, meeting_id, kind, confirm="new_number", seen="", **extra):
    return client.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": kind, "confirm": confirm,
                                                       "seen": seen, **extra}, follow_redirects=True)


def letters_of(app, meeting_id) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(Document.kind, Document.revision, Document.letter_number, Document.id)
                                  .where(Document.meeting_id == meeting_id).order_by(Document.id)).all()


def taken(app, kind) -> int:
    """How many numbers of this kind were taken this year."""
    with app.app_context():
        counter = db.session.get(Counter, f"letter:{kind}:{local_today().year}")
        return counter.value if counter else 0


def _edit_meeting(client, app, meeting_id, **changes):
    """Post the meeting's edit form as the browser would, with its attendees, changing `changes`."""
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        data = {"case": str(meeting.case_id), "scheduled_at": local_time(meeting.scheduled_at).strftime(
            "%Y-%m-%d %H:%M:%S"), "place": meeting.place, "agenda": meeting.agenda or "", "status": meeting.status,
            "minutes": meeting.minutes or "", "row_version": str(meeting.version)}
        for n, attendee in enumerate(meeting.attendees):
            data.update({f"attendees-{n}-id": str(attendee.id), f"attendees-{n}-name": attendee.name,
                         f"attendees-{n}-position": attendee.position or "",
                         f"attendees-{n}-organisation": attendee.organisation or ""})
            if attendee.present:
                data[f"attendees-{n}-present"] = "y"
    data.update(changes)
    data = {key: value for key, value in data.items() if value is not None}
    response = client.post(f"/admin/meeting/edit/?id={meeting_id}", data=data)
    assert response.status_code == 302, flashes(response)


def test_the_list_links_to_the_letter_page_and_posts_nothing(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    page = login_as("staff").get("/admin/meeting/").get_data(as_text=True)
    assert f"/admin/meeting/letter/?id={meeting_id}&amp;kind=invitation" in page
    assert f"/admin/meeting/letter/?id={meeting_id}&amp;kind=memo" in page
    assert 'action="/admin/meeting/letter/"' not in page
    assert "/admin/meeting/letter/" not in login_as("viewer").get("/admin/meeting/").get_data(as_text=True)


def test_the_letter_page_asks_before_taking_a_number(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    client = login_as("staff")
    year = local_today().year
    for _ in range(2):  # looking is free
        page = letter_page(client, meeting_id, "invitation")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert INVITATION.format(1, year) in text and 'name="confirm" value="new_number"' in text
    assert taken(app, "invitation") == 0 and letters_of(app, meeting_id) == []

    # A POST without the page's confirmation (an old bookmark, a script) does nothing either.
    response = client.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": "invitation"},
                           follow_redirects=True)
    assert "confirm on the letter page first" in flashes(response)
    assert taken(app, "invitation") == 0 and letters_of(app, meeting_id) == []

    response = confirm(client, meeting_id, "invitation")
    assert f"no. {INVITATION.format(1, year)} filed as version 1" in flashes(response)
    [(kind, revision, number, document_id)] = letters_of(app, meeting_id)
    assert (kind, revision, number) == ("invitation", 1, INVITATION.format(1, year))
    assert taken(app, "invitation") == 1
    with app.app_context():
        document = db.session.get(Document, document_id)
        assert document.letter_date == local_today() and document.file_sha256
        registration = document.case.registration_number

    data = login_as("viewer").get(f"/admin/document/download/?id={document_id}").data
    text = document_text(data)
    assert registration in text and INVITATION.format(1, year) in text and "Ruang Rapat Sekretariat Daerah" in text
    assert "09.00 WIB" in text


def test_an_issued_letter_is_offered_for_download_and_takes_no_new_number(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    client = login_as("staff")
    confirm(client, meeting_id, "invitation")
    [(_, _, number, document_id)] = letters_of(app, meeting_id)

    page = letter_page(client, meeting_id, "invitation").get_data(as_text=True)
    assert f"issued as no. {number} (version 1)" in page
    assert f"/admin/document/download/?id={document_id}" in page
    assert "Nothing in the letter changed" in page and 'value="same_number"' not in page
    first = client.get(f"/admin/document/download/?id={document_id}").data
    assert client.get(f"/admin/document/download/?id={document_id}").data == first
    assert taken(app, "invitation") == 1 and len(letters_of(app, meeting_id)) == 1

    # Regenerating an unchanged letter is refused: the issued one is the letter.
    for mode in ("same_number", "new_number"):
        response = confirm(client, meeting_id, "invitation", mode, seen=str(document_id))
        assert "Nothing in this letter changed" in flashes(response)
    assert taken(app, "invitation") == 1 and len(letters_of(app, meeting_id)) == 1


def test_a_second_submission_of_one_confirmation_takes_no_second_number(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    client = login_as("staff")
    confirm(client, meeting_id, "invitation")
    response = confirm(client, meeting_id, "invitation")  # double click, second tab: the page showed no letter
    assert "Meanwhile this letter was issued as no." in flashes(response)
    assert taken(app, "invitation") == 1 and len(letters_of(app, meeting_id)) == 1


def test_after_the_meeting_changed_it_is_regenerated_under_the_same_number(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    client = login_as("staff")
    confirm(client, meeting_id, "invitation")
    [(_, _, number, first_id)] = letters_of(app, meeting_id)

    _edit_meeting(client, app, meeting_id, place="Aula Madakaripura")
    page = letter_page(client, meeting_id, "invitation").get_data(as_text=True)
    assert "changed since this letter was issued" in page
    assert 'value="same_number"' in page and 'value="new_number"' in page
    assert taken(app, "invitation") == 1

    response = confirm(client, meeting_id, "invitation", "same_number", seen=str(first_id))
    assert f"no. {number} filed as version 2" in flashes(response)
    rows = letters_of(app, meeting_id)
    assert [(r.revision, r.letter_number) for r in rows] == [(1, number), (2, number)]
    assert taken(app, "invitation") == 1
    with app.app_context():
        first, second = db.session.get(Document, first_id), db.session.get(Document, rows[1].id)
        assert second.letter_date == first.letter_date and second.meeting_id == meeting_id
    text = document_text(client.get(f"/admin/document/download/?id={rows[1].id}").data)
    assert "Aula Madakaripura" in text and number in text
    assert "Nothing in the letter changed" in letter_page(client, meeting_id, "invitation").get_data(as_text=True)

    # The page of version 1, confirmed again after version 2 exists, is stale: refused.
    response = confirm(client, meeting_id, "invitation", "same_number", seen=str(first_id))
    assert "Meanwhile this letter was issued" in flashes(response)
    assert len(letters_of(app, meeting_id)) == 2


def test_a_new_number_only_when_asked(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    client = login_as("staff")
    confirm(client, meeting_id, "invitation")
    _edit_meeting(client, app, meeting_id, place="Aula Madakaripura")
    [(_, _, _, first_id)] = letters_of(app, meeting_id)
    year = local_today().year
    assert f"takes {INVITATION.format(2, year)}" in letter_page(client, meeting_id, "invitation").get_data(as_text=True)
    assert taken(app, "invitation") == 1

    response = confirm(client, meeting_id, "invitation", "new_number", seen=str(first_id))
    assert f"no. {INVITATION.format(2, year)} filed as version 2" in flashes(response)
    assert [(r.revision, r.letter_number) for r in letters_of(app, meeting_id)] == [
        (1, INVITATION.format(1, year)), (2, INVITATION.format(2, year))]
    assert taken(app, "invitation") == 2


def test_an_attendee_edit_alone_makes_the_memo_changed(app, login_as, uploads):
    """Editing only the attendees writes attendee rows, not the meeting's: the memo is compared by content."""
    meeting_id = held_meeting(app)
    with app.app_context():
        db.session.add(Attendee(meeting_id=meeting_id, name="Rina Kartika", position="Direktur",
                                organisation="PT Air", present=False))
        db.session.commit()
    client = login_as("kasubbag")
    response = confirm(client, meeting_id, "memo")
    [(_, _, number, memo_id)] = letters_of(app, meeting_id)
    assert number == MEMO.format(1, local_today().year), flashes(response)
    assert "Rina Kartika" not in document_text(client.get(f"/admin/document/download/?id={memo_id}").data)

    _edit_meeting(client, app, meeting_id, **{"attendees-1-present": "y"})
    assert "changed since this letter was issued" in letter_page(client, meeting_id, "memo").get_data(as_text=True)
    confirm(client, meeting_id, "memo", "same_number", seen=str(memo_id))
    rows = letters_of(app, meeting_id)
    assert [(r.revision, r.letter_number) for r in rows] == [(1, number), (2, number)]
    assert "Rina Kartika" in document_text(client.get(f"/admin/document/download/?id={rows[1].id}").data)
    assert taken(app, "memo") == 1


# -- refusals: flashed, nothing changed, no number taken --------------------------------------------------
def _refused(app, client, meeting_id, kind, message):
    response = letter_page(client, meeting_id, kind)
    assert response.status_code == 302  # nothing to confirm: back to the list, with the reason
    assert message in flashes(client.get(response.headers["Location"]))
    assert message in flashes(confirm(client, meeting_id, kind))
    assert letters_of(app, meeting_id) == [] and taken(app, kind) == 0


@pytest.mark.parametrize("when, status, message", [
    (-2, "planned", "The time of this meeting has come"),
    (-2, "held", "This meeting is marked held"),
    (5, "cancelled", "This meeting is cancelled"),
], ids=["past", "held", "cancelled"])
def test_no_invitation_for_a_meeting_that_is_not_still_to_come(app, login_as, uploads, when, status, message):
    meeting_id = _meeting(app, _working_day(local_today() + timedelta(days=when)) if when > 0
                          else local_today() + timedelta(days=when), status=status, minutes="Sepakat.")
    _refused(app, login_as("staff"), meeting_id, "invitation", message)


@pytest.mark.parametrize("when, status, minutes, present", [
    (5, "planned", None, True),           # step 2 of the issue: a memo for next month's meeting
    (5, "held", "Sepakat.", True),        # marked held before its time (written directly)
    (-2, "planned", "Sepakat.", True),    # its time passed, never marked held
    (-2, "held", None, True),             # no minutes
    (-2, "held", "Sepakat.", False),      # nobody present
], ids=["planned-future", "held-future", "not-marked-held", "no-minutes", "nobody-present"])
def test_the_memo_only_from_a_held_meeting(app, login_as, uploads, when, status, minutes, present):
    meeting_id = _meeting(app, local_today() + timedelta(days=when), status=status, minutes=minutes,
                          present=present)
    _refused(app, login_as("kasubbag"), meeting_id, "memo", "only from a held meeting")


@pytest.mark.parametrize("status", ["cancelled", "done"])
def test_no_letter_for_a_closed_case(app, login_as, uploads, status):
    closed = {"status": status, "closed_at": datetime.now(timezone.utc) - timedelta(days=1)}
    client = login_as("kasubbag")
    _refused(app, client, planned_meeting(app, closed), "invitation", "is closed")
    _refused(app, client, held_meeting(app, {**closed, "title": "KSB Kedua"}), "memo", "is closed")


def test_the_memo_is_not_dated_before_the_meeting(app, login_as, uploads):
    meeting_id = held_meeting(app)
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        day = local_time(meeting.scheduled_at).date()
        with pytest.raises(LetterRefused, match="cannot be dated before the meeting"):
            check_letter(meeting, "memo", datetime.now(timezone.utc), day - timedelta(days=1))
        check_letter(meeting, "memo", datetime.now(timezone.utc), day)  # the meeting's own day will do

    # A memo whose date lies before the meeting's day (say the meeting's date was corrected since) keeps
    # its number only with its date: regenerating it under that number is refused.
    client = login_as("kasubbag")
    confirm(client, meeting_id, "memo")
    [(_, _, _, memo_id)] = letters_of(app, meeting_id)
    with app.app_context():
        db.session.get(Document, memo_id).letter_date = day - timedelta(days=1)
        db.session.commit()
    _edit_meeting(client, app, meeting_id, minutes="Para pihak sepakat, dengan catatan.")
    response = confirm(client, meeting_id, "memo", "same_number", seen=str(memo_id))
    assert "cannot be dated before the meeting" in flashes(response)
    assert len(letters_of(app, meeting_id)) == 1 and taken(app, "memo") == 1


def test_an_invitation_for_a_weekend_or_holiday_warns_and_is_generated(app, login_as, uploads):
    today = local_today()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    meeting_id = _meeting(app, saturday)
    client = login_as("staff")
    page = letter_page(client, meeting_id, "invitation")
    assert "a weekend or an Indonesian public holiday" in flashes(page)
    response = confirm(client, meeting_id, "invitation")
    shown = flashes(response)
    assert "a weekend or an Indonesian public holiday" in shown and "filed as version 1" in shown
    assert len(letters_of(app, meeting_id)) == 1


def test_readers_can_neither_open_nor_confirm_the_letter_page(app, login_as, uploads):
    meeting_id = planned_meeting(app)
    viewer = login_as("viewer")
    assert letter_page(viewer, meeting_id, "invitation").status_code == 403
    assert viewer.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": "invitation",
                                                       "confirm": "new_number"}).status_code == 403
    assert letters_of(app, meeting_id) == [] and taken(app, "invitation") == 0


@pytest.mark.parametrize("query", ["id=abc&kind=invitation", "id=99999999999999999999&kind=memo", "id=1&kind=plan"])
def test_a_letter_page_for_nothing_is_not_found(app, login_as, uploads, query):
    assert login_as("staff").get(f"/admin/meeting/letter/?{query}").status_code == 404


def test_simultaneous_confirmations_of_one_page_take_one_number(app, users, uploads):
    """Four confirmations of the same page reach the counter at once: one letter, one number taken."""
    parties = 4
    with app.app_context():
        for index in range(1, parties):
            make_user("staff", username=f"staff{index}", full_name=f"Pelaksana {index}")
        db.session.commit()
    meeting_id = planned_meeting(app)
    clients = [app.test_client() for _ in range(parties)]
    for client, username in zip(clients, ["staff"] + [f"staff{i}" for i in range(1, parties)]):
        assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    barrier = threading.Barrier(parties, timeout=15)

    def at_the_counter(conn, cursor, statement, parameters, context, executemany):
        if re.match(r"\s*(INSERT INTO|UPDATE) counter\b", statement, re.IGNORECASE):
            barrier.wait()  # every request has read "no letter yet" before any takes a number

    responses = [None] * parties

    def press(index):
        responses[index] = confirm(clients[index], meeting_id, "invitation")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", at_the_counter)
    try:
        threads = [threading.Thread(target=press, args=(i,)) for i in range(parties)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(engine, "before_cursor_execute", at_the_counter)
    assert len(letters_of(app, meeting_id)) == 1 and taken(app, "invitation") == 1
    messages = [flashes(response) for response in responses]
    assert sum("filed as version 1" in m for m in messages) == 1
    assert sum("Meanwhile this letter was issued" in m for m in messages) == parties - 1
