"""The papers printed from a case: the step-4 disposition sheet (printed, filed as the step's evidence,
then showing step 5's disposition) and the case file for the paper archive of step 17."""
import html
import io
import re
from datetime import date, datetime, timedelta, timezone

import docx
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from admin_app.i18n import show_date
from models import Case, Disposition, Document, Meeting, db, workflow
from models.meeting import Attendee
from tests.browser_support import SCREENSHOTS, new_context, open_tab, problems, serving, sign_in
from tests.browser_support import browser  # noqa: F401 (the Chromium fixture)
from tests.factories import PASSWORD, make_case, make_document, make_party, make_user
from tests.helpers import flashes, move, upload_folder

RECEIVED = date(2026, 11, 2)  # the factory's case: the proposal letter is of 30 October 2026


@pytest.fixture()
def uploads(app, tmp_path):
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = upload_folder(tmp_path)
    yield tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = previous


def _case(app, **fields) -> int:
    with app.app_context():
        case = make_case(**{"subject": make_party("company", "PT Air Bersih Nusantara"),
                            "object": "Penyediaan air bersih kawasan Mayangan", "current_step": 4, **fields})
        db.session.commit()
        return case.id


def page_text(response) -> str:
    """What the page shows, tags dropped and whitespace folded."""
    body = response.get_data(as_text=True)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def _cell(response, css_class: str) -> str:
    match = re.search(rf'class="[^"]*\b{css_class}\b[^"]*">(.*?)</', response.get_data(as_text=True), re.S)
    assert match, css_class
    return html.unescape(match.group(1)).strip()


def sheet(client, case_id):
    return client.get(f"/admin/case/sheet/?id={case_id}")


def file_sheet(client, case_id, **extra):
    return client.post("/admin/case/sheet/file/", data={"id": case_id, "url": f"/admin/case/details/?id={case_id}",
                                                       **extra})


def sheets_of(app, case_id) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(Document.revision, Document.file_sha256, Document.id)
                                  .where(Document.case_id == case_id, Document.kind == "disposition_sheet")
                                  .order_by(Document.revision)).all()


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def test_the_sheet_printed_from_the_case_has_its_header_and_a_blank_disposition_part(app, login_as):
    case_id = _case(app)
    response = sheet(login_as("kasubbag"), case_id)
    assert response.status_code == 200
    text = page_text(response)
    with app.app_context():
        number = db.session.get(Case, case_id).registration_number
    # In Indonesian, as on paper, although this user reads the panel in English.
    for expected in ("LEMBAR DISPOSISI", "BAGIAN PEMERINTAHAN", "Surat dari Dinas Lingkungan Hidup",
                     f"No. agenda {number}", "No. surat 660/123/425.108/2026", "Diterima tgl. 2 November 2026",
                     "Tgl. surat 30 Oktober 2026", "KSB Pengelolaan sampah regional (KSB) — PT Air Bersih Nusantara",
                     "Objek Penyediaan air bersih kawasan Mayangan",
                     "Tahap 4. Menyampaikan draf dengan lembar disposisi", "Kepala Bagian Pemerintahan",
                     "Setujui", "Pelajari", "Arsipkan", "Print", "Download as DOCX"):
        assert expected in text, expected
    # The Kabag writes the disposition by hand: nobody addressed, nothing ticked, no note, no signer.
    assert _cell(response, "addressee") == "" and _cell(response, "note") == "" and _cell(response, "due") == ""
    assert "✓" not in text and 'class="chosen"' not in response.get_data(as_text=True)
    assert "Pengguna kabag" not in text and "KABAG" not in text

    data = login_as("viewer").get(f"/admin/case/sheet.docx?id={case_id}")
    assert data.status_code == 200 and "attachment" in data.headers["Content-Disposition"]
    words = docx_text(data.data)
    for expected in (number, "Penyediaan air bersih kawasan Mayangan", "4. Menyampaikan draf dengan lembar disposisi",
                     "2 November 2026", "Kepala Bagian Pemerintahan"):
        assert expected in words, expected
    assert "☑" not in words and words.count("☐") == 7


def test_filing_the_sheet_is_step_4s_evidence_and_step_5s_disposition_then_appears_on_it(app, login_as, users,
                                                                                          uploads):
    case_id = _case(app)
    kasubbag = login_as("kasubbag")
    refused = move(kasubbag, case_id)
    assert "Disposition sheet" in flashes(refused)  # the requirement is missing: still at step 4
    assert sheets_of(app, case_id) == []

    page = sheet(kasubbag, case_id).get_data(as_text=True)
    assert 'action="/admin/case/sheet/file/"' in page
    response = file_sheet(kasubbag, case_id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/case/details/?id={case_id}")
    shown = flashes(kasubbag.get(response.headers["Location"]))
    assert "was filed as version 1" in shown
    [(revision, sha256, document_id)] = sheets_of(app, case_id)
    assert revision == 1 and sha256
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert [met for _, met in workflow.requirement_states(db.session, case)[0]] == [True]
        document = db.session.get(Document, document_id)
        assert document.created_by_id == users["kasubbag"] and document.title.startswith("Lembar disposisi")
    filed = docx_text(kasubbag.get(f"/admin/document/download/?id={document_id}").data)
    assert "4. Menyampaikan draf dengan lembar disposisi" in filed and "☑" not in filed

    move(kasubbag, case_id)
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 5

    # Step 5: the Kabag writes the disposition; the sheet printed from the case now carries it.
    kabag = login_as("kabag")
    response = kabag.post("/admin/disposition/new/", data={
        "case": case_id, "to_user": users["staff"], "to_role": "staff", "instruction": "study",
        "note": "Pelajari draf bersama Bagian Hukum.", "due_date": "2026-12-01"})
    assert response.status_code == 302
    response = sheet(kabag, case_id)
    text = page_text(response)
    assert _cell(response, "addressee") == "Pengguna staff / Staf Subbagian Kerja Sama"
    assert _cell(response, "note") == "Pelajari draf bersama Bagian Hukum."
    assert _cell(response, "due") == "1 Desember 2026"
    chosen = re.findall(r'<li class="chosen">(.*?)</li>', response.get_data(as_text=True), re.S)
    assert [re.sub(r"<[^>]+>|\s+", " ", item).split() for item in chosen] == [["✓", "Pelajari"]]
    assert "Tahap 5. Menerima draf dan mendisposisi" in text and "Pengguna kabag" in text and "Segera" in text
    words = docx_text(kabag.get(f"/admin/case/sheet.docx?id={case_id}").data)
    assert "☑ Pelajari" in words and "Pelajari draf bersama Bagian Hukum." in words

    # Filed again, it is the next version of the same document.
    file_sheet(kabag, case_id)
    assert [row.revision for row in sheets_of(app, case_id)] == [1, 2]


def test_the_disposition_screens_sheet_names_the_office_and_the_step(app, login_as, users):
    case_id = _case(app, current_step=5)
    login_as("kabag").post("/admin/disposition/new/", data={
        "case": case_id, "to_user": "", "to_role": "kasubbag", "instruction": "prepare_meeting",
        "note": "", "due_date": ""})
    with app.app_context():
        disposition_id = db.session.execute(select(Disposition.id)).scalar_one()
    response = login_as("viewer").get(f"/admin/disposition/sheet/?id={disposition_id}")
    assert response.status_code == 200
    text = page_text(response)
    assert "Tahap 5. Menerima draf dan mendisposisi" in text
    assert _cell(response, "addressee") == "Kepala Subbagian Kerja Sama"
    assert _cell(response, "title") == "Kepala Bagian Pemerintahan"  # printed in capitals by sheet.css
    assert "KABAG" not in text and "Kabag" not in text and "Biasa" in text
    assert f"/admin/disposition/sheet.docx?id={disposition_id}" in response.get_data(as_text=True)
    assert "/admin/case/sheet/file/" not in response.get_data(as_text=True)


def test_the_case_file_lists_history_dispositions_meetings_and_documents(app, login_as, users, uploads):
    case_id = _case(app, current_step=3)
    with app.app_context():
        make_document(db.session.get(Case, case_id), "opd_draft", "Draf KSB dari OPD")
        db.session.commit()
    kabag = login_as("kabag")
    move(kabag, case_id, note="Draf OPD lengkap")
    file_sheet(kabag, case_id)
    move(kabag, case_id)
    kabag.post("/admin/disposition/new/", data={
        "case": case_id, "to_user": users["kasubbag"], "to_role": "", "instruction": "prepare_meeting",
        "note": "Jadwalkan rapat TKKSD", "due_date": "2026-12-01"})
    with app.app_context():
        db.session.add(Meeting(case_id=case_id, scheduled_at=datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc), place="Aula Madakaripura",
                               status="planned", attendees=[Attendee(name="Ir. Hadi Susanto", present=True)]))
        db.session.commit()
        documents = db.session.execute(select(Document).where(Document.case_id == case_id)
                                       .order_by(Document.id)).scalars().all()
        number = db.session.get(Case, case_id).registration_number

    response = login_as("viewer").get(f"/admin/case/file/?id={case_id}")
    assert response.status_code == 200
    text = page_text(response)
    for expected in ("PEMERINTAH KOTA PROBOLINGGO", "Case file", number, "KSB Pengelolaan sampah regional",
                     "PT Air Bersih Nusantara", "Penyediaan air bersih kawasan Mayangan", "660/123/425.108/2026",
                     "Step history", "Advanced", "3. Receive the draft from the OPD → 4. Forward the draft",
                     "Pengguna kabag", "Draf OPD lengkap",
                     "Dispositions", "5. Receive the draft and write a disposition", "Prepare a meeting",
                     "Pengguna kasubbag", "Jadwalkan rapat TKKSD",
                     "Meetings", "Aula Madakaripura", "Ir. Hadi Susanto",
                     "Documents", "OPD draft", "Disposition sheet", "opd_draft.pdf",
                     documents[0].file_sha256[:12], documents[1].file_name, "Print"):
        assert expected in text, expected
    assert 'id="print"' in response.get_data(as_text=True) and "sheet.js" in response.get_data(as_text=True)


def test_the_case_file_in_indonesian(app, login_as, users):
    case_id = _case(app)
    with app.app_context():
        make_user("staff", username="pelaksana", full_name="Budi Pelaksana", language="id")
        db.session.commit()
    client = login_as("kasubbag")
    client.post("/logout")
    assert client.post("/login", data={"username": "pelaksana", "password": PASSWORD}).status_code == 302
    text = page_text(client.get(f"/admin/case/file/?id={case_id}"))
    with app.test_request_context(), force_locale("id"):
        received = show_date(RECEIVED)
    for expected in ("Berkas permohonan", "Riwayat tahapan", "Disposisi", "Rapat", "Dokumen", "Cetak",
                     "4. Menyampaikan draf dengan lembar disposisi", received, "Belum ada disposisi."):
        assert expected in text, expected
    assert "None" not in text


@pytest.mark.parametrize("path", ["/admin/case/sheet/?id={}", "/admin/case/sheet.docx?id={}",
                                  "/admin/case/file/?id={}"])
@pytest.mark.parametrize("bad", ["999999", "abc", "99999999999999999999999", ""])
def test_a_paper_of_no_case_is_not_found(app, login_as, path, bad):
    assert login_as("staff").get(path.format(bad)).status_code == 404


def test_filing_the_sheet_of_no_case_is_not_found(app, login_as, uploads):
    client = login_as("kasubbag")
    for bad in ("999999", "abc", ""):
        assert client.post("/admin/case/sheet/file/", data={"id": bad}).status_code == 404


def test_a_viewer_reads_the_papers_but_cannot_file_the_sheet(app, login_as, uploads):
    case_id = _case(app)
    viewer = login_as("viewer")
    assert sheet(viewer, case_id).status_code == 200
    assert 'action="/admin/case/sheet/file/"' not in sheet(viewer, case_id).get_data(as_text=True)
    assert viewer.get(f"/admin/case/file/?id={case_id}").status_code == 200
    assert file_sheet(viewer, case_id).status_code == 403
    assert sheets_of(app, case_id) == []


def test_an_administrator_sees_no_case_papers(app, login_as):
    case_id = _case(app)
    admin = login_as("admin")
    for path in (f"/admin/case/sheet/?id={case_id}", f"/admin/case/file/?id={case_id}"):
        assert admin.get(path).status_code == 403
    assert file_sheet(admin, case_id).status_code == 403


def test_a_closed_case_files_no_sheet(app, login_as, uploads):
    case_id = _case(app, status="cancelled", cancel_reason="withdrawn",
                    closed_at=datetime.now(timezone.utc) - timedelta(days=1))
    client = login_as("kasubbag")
    assert 'action="/admin/case/sheet/file/"' not in sheet(client, case_id).get_data(as_text=True)
    response = file_sheet(client, case_id)
    assert response.status_code == 302
    assert "is closed" in flashes(client.get(response.headers["Location"]))
    assert sheets_of(app, case_id) == []


# -- in the browser: printed as A4 under the strict CSP ----------------------------------------------
def test_the_papers_print_from_chromium_without_errors(app, users, uploads, browser):
    case_id = _case(app)
    with app.app_context():
        db.session.get(Case, case_id).title = "KSB Pengelolaan air bersih kawasan Mayangan dan sekitarnya"
        db.session.commit()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serving(app) as base_url:
        context = new_context(browser)
        tab = open_tab(context)
        sign_in(tab, base_url, "kasubbag")
        tab.goto(f"{base_url}/admin/case/sheet/?id={case_id}")
        # The Print button opens the browser's print (sheet.js; an inline handler would be blocked).
        tab.evaluate("window.print = () => { window.printed = true; }")
        tab.click("#print")
        assert tab.evaluate("window.printed") is True
        tab.emulate_media(media="print")
        assert tab.locator(".toolbar").is_hidden()
        tab.screenshot(path=str(SCREENSHOTS / "case-sheet-print.png"), full_page=True)
        tab.emulate_media(media="screen")
        tab.click("text=File as the step's disposition sheet")
        tab.wait_for_url(re.compile(rf"/admin/case/details/\?id={case_id}"))
        assert "was filed as version 1" in tab.content()
        tab.goto(f"{base_url}/admin/case/file/?id={case_id}")
        assert "Disposition sheet" in tab.inner_text("section.documents")
        tab.emulate_media(media="print")
        tab.screenshot(path=str(SCREENSHOTS / "case-file-print.png"), full_page=True)
        assert problems(tab) == []
        context.close()
    assert [row.revision for row in sheets_of(app, case_id)] == [1]
