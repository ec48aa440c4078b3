"""Document files: upload checked by content, stored by hash, versions, authorised downloads."""
import io
import os
import zipfile

import pytest
from sqlalchemy import func, select

from models import Document, db
from seed.sample_files import sample_pdf
from tests.factories import make_case

def _image(image_format: str, size=(16, 16)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, image_format)
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _docx() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Draf Kesepakatan Bersama")
    document.save(buffer)
    return buffer.getvalue()


def _xlsx() -> bytes:
    import openpyxl

    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["Nama", "Jabatan"])
    workbook.save(buffer)
    return buffer.getvalue()


def _odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")  # first and stored, as ODF asks
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content '
                         'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>', zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


PDF = sample_pdf("Surat usulan kerja sama")
PNG, JPEG = _image("PNG"), _image("JPEG")
DOCX, XLSX, ODT = _docx(), _xlsx(), _odt()
ACCEPTED = {"surat.pdf": PDF, "draf.docx": DOCX, "daftar.xlsx": XLSX, "notulen.odt": ODT, "foto.jpg": JPEG,
            "scan.png": PNG}


@pytest.fixture()
def uploads(app, tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(folder)
    yield folder
    app.config["UPLOAD_FOLDER"] = previous


def _stored_files(folder) -> list[str]:
    return [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names] if folder.exists() else []


def _case_id(app) -> int:
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
        return case_id


def _upload(client, case_id, name, data, kind="opd_draft", title="Draf KSB"):
    return client.post("/admin/document/new/", data={
        "case": case_id, "kind": kind, "title": title, "letter_number": "", "letter_date": "", "note": "",
        "upload": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _documents(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Document)).scalar_one()


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_every_accepted_type_uploads_and_downloads_byte_identical(app, login_as, users, uploads, name):
    case_id = _case_id(app)
    client = login_as("staff")
    assert _upload(client, case_id, name, ACCEPTED[name]).status_code == 302
    with app.app_context():
        document = db.session.execute(select(Document)).scalar_one()
        assert (document.file_name, document.file_size, document.created_by_id) == (
            name, len(ACCEPTED[name]), users["staff"])
        assert len(document.file_sha256) == 64
        document_id = document.id
    [stored] = _stored_files(uploads)
    assert os.path.basename(stored) == document.file_sha256  # named by content, not by the upload's name
    response = login_as("viewer").get(f"/admin/document/download/?id={document_id}")
    assert response.status_code == 200
    assert response.data == ACCEPTED[name]
    assert response.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("name, data, message", [
    ("setup.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "not a PDF"),           # a renamed executable
    ("script.docx", b"#!/bin/sh\nrm -rf /\n", "not a PDF"),
    ("arsip.docx", _zip({"evil.sh": b"echo"}), "not a PDF"),                 # a zip that is no document
    ("../../x.pdf", PDF, "not allowed"),
    ("..\\..\\x.pdf", PDF, "not allowed"),
    ("kosong.pdf", b"", "empty"),
])
def test_a_wrong_file_is_refused_with_a_message_and_nothing_is_stored(app, login_as, users, uploads,
                                                                       name, data, message):
    case_id = _case_id(app)
    response = _upload(login_as("staff"), case_id, name, data)
    assert message in response.get_data(as_text=True)
    assert _documents(app) == 0
    assert _stored_files(uploads) == []


def test_an_oversized_file_is_refused_by_the_settings_limit(app, login_as, users, uploads, runner):
    runner.invoke(args=["seed"])
    with app.app_context():
        from models import Setting
        db.session.get(Setting, "upload_max_mb").value = "1"
        db.session.commit()
    case_id = _case_id(app)
    big = PDF + b"0" * (1024 * 1024)
    response = _upload(login_as("staff"), case_id, "besar.pdf", big)
    assert "the limit is 1 MB" in response.get_data(as_text=True)
    assert _documents(app) == 0 and _stored_files(uploads) == []


def test_a_new_upload_of_the_same_kind_is_the_next_version(app, login_as, users, uploads):
    case_id = _case_id(app)
    client = login_as("staff")
    _upload(client, case_id, "draf-1.pdf", PDF)
    _upload(client, case_id, "draf-2.pdf", sample_pdf("Draf revisi"))
    _upload(client, case_id, "undangan.pdf", PDF, kind="invitation", title="Undangan")
    with app.app_context():
        rows = db.session.execute(select(Document.kind, Document.revision, Document.file_name)
                                  .order_by(Document.id)).all()
        first_id = db.session.execute(select(Document.id).order_by(Document.id)).scalars().first()
    assert rows == [("opd_draft", 1, "draf-1.pdf"), ("opd_draft", 2, "draf-2.pdf"), ("invitation", 1, "undangan.pdf")]
    assert client.get(f"/admin/document/download/?id={first_id}").data == PDF  # v1 stays downloadable


def test_downloads_are_refused_to_those_who_may_not_read_documents(app, login_as, users, uploads, client):
    case_id = _case_id(app)
    _upload(login_as("staff"), case_id, "surat.pdf", PDF)
    with app.app_context():
        document_id = db.session.execute(select(Document.id)).scalar_one()
    assert login_as("admin").get(f"/admin/document/download/?id={document_id}").status_code == 403
    client.post("/logout")
    anonymous = client.get(f"/admin/document/download/?id={document_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_edit_form_cannot_replace_a_file(app, login_as, users, uploads):
    case_id = _case_id(app)
    client = login_as("staff")
    _upload(client, case_id, "surat.pdf", PDF)
    with app.app_context():
        document_id = db.session.execute(select(Document.id)).scalar_one()
    page = client.get(f"/admin/document/edit/?id={document_id}").get_data(as_text=True)
    assert 'name="upload"' not in page


# -- generated letters --------------------------------------------------------------------------------
def _meeting(app) -> int:
    from datetime import datetime, timezone

    from models import Attendee, Meeting
    with app.app_context():
        case = make_case(current_step=7)
        meeting = Meeting(case=case, scheduled_at=datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc),
                          place="Ruang Rapat Sekretariat Daerah", agenda="Pembahasan draf KSB", status="held",
                          minutes="Para pihak sepakat.",
                          attendees=[Attendee(name="Sri Wahyuni", position="Kasubbag", organisation="Bagpem",
                                              present=True)])
        db.session.add(meeting)
        db.session.commit()
        return meeting.id


def test_readers_cannot_generate_letters(app, login_as, users, uploads):
    meeting_id = _meeting(app)
    assert login_as("viewer").post("/admin/meeting/letter/", data={"id": meeting_id,
                                                                   "kind": "memo"}).status_code == 403
    assert _documents(app) == 0


def test_the_disposition_sheet_downloads_as_docx(app, login_as, users):
    import docx

    from models import Disposition
    with app.app_context():
        case = make_case(current_step=5)
        disposition = Disposition(case=case, step=5, author_id=users["kabag"], to_role="kasubbag",
                                  instruction="prepare_meeting", note="Siapkan rapat TKKSD")
        db.session.add(disposition)
        db.session.commit()
        disposition_id, registration = disposition.id, case.registration_number
    response = login_as("kasubbag").get(f"/admin/disposition/sheet.docx?id={disposition_id}")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    document = docx.Document(io.BytesIO(response.data))
    text = " ".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert registration in text and "Siapkan rapat TKKSD" in text
