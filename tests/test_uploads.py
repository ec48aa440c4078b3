"""Uploads are what they claim to be, whole, and stored only when their record commits.

Every disguised file is refused over HTTP with a message, no Document row and nothing on disk;
a full disk (a small tmpfs as the upload folder) and a failed commit leave no file behind.
"""
import io
import os
import struct
import subprocess
import time
import zlib
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_app import files
from models import Attendee, Document, Meeting, db
from models.sla import CITY_TIME_ZONE, is_working_day, local_today
from tests.factories import make_case
from tests.helpers import flashes
from tests.test_documents import (  # noqa: F401 - uploads is a fixture
    DOCX, JPEG, ODT, PDF, PNG, XLSX, _case_id, _documents, _stored_files, _upload, _zip, uploads)

MIB = 1024 * 1024


# -- files that are not what they claim ----------------------------------------------------------------
def _raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand from (name, raw deflate data, crc, declared size): what zipfile would
    write, except that the declared sizes are whatever the caller says."""
    out, directory = bytearray(), bytearray()
    for name, raw, crc, size in members:
        encoded, offset = name.encode(), len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(raw), size, len(encoded), 0)
        out += encoded + raw
        directory += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(raw), size,
                                 len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(out), 0)
    return bytes(out + directory + end)


def _deflate(data: bytes) -> tuple[bytes, int, int]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(), zlib.crc32(data), len(data)


def _zeros(mebibytes: int) -> tuple[bytes, int]:
    """Raw deflate data of `mebibytes` MiB of zeros, made in milliseconds: one fully flushed MiB block
    repeated (each block is independent after a full flush), plus the final block. And its CRC."""
    compressor, block = zlib.compressobj(9, zlib.DEFLATED, -15), b"\0" * MIB
    flushed = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(block, crc)
    return flushed * mebibytes + compressor.flush(), crc


def _docx_with(name: str, raw: bytes, crc: int, size: int) -> bytes:
    return _raw_zip([("[Content_Types].xml", *_deflate(b"<Types/>")), (name, raw, crc, size)])


def _zip_bomb() -> bytes:
    raw, crc = _zeros(1024)
    return _docx_with("word/document.xml", raw, crc, 1024 * MIB)  # a 1 MiB DOCX that opens to 1 GiB


def _ratio_bomb() -> bytes:
    raw, crc = _zeros(50)  # 50 MiB, under the total cap, from 50 KiB
    return _docx_with("word/document.xml", raw, crc, 50 * MIB)


def _understated_member() -> bytes:
    """The directory says 1000 bytes (with the CRC of those 1000); the data inflates to 10 MiB."""
    raw, _ = _zeros(10)
    return _docx_with("word/document.xml", raw, zlib.crc32(b"\0" * 1000), 1000)


def _pdf_with_javascript() -> bytes:
    from pypdf.actions import JavaScript

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer.add_open_action(JavaScript("app.alert('hello');"))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_that_launches() -> bytes:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("cmd.exe")})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(PDF)))
    writer.encrypt(user_password=user_password, owner_password="pemilik", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pixel_bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, "PNG")  # 64 million pixels in a few kilobytes
    return buffer.getvalue()


def _odt_with_mimetype_last() -> bytes:
    return _zip({"content.xml": b"<office:document-content/>",
                 "mimetype": b"application/vnd.oasis.opendocument.text"})


HTML = b"<html><script>alert(document.cookie)</script></html>"
NOT_ACCEPTED = "not a PDF, DOCX, XLSX, ODT, JPEG or PNG"
DISGUISED = {
    "png-then-html.png": (b"\x89PNG\r\n\x1a\n" + HTML, "web page markup"),
    "png-html-after-iend.png": (PNG + HTML, "web page markup"),
    "png-data-after-iend.png": (PNG + b"\x00\x01payload", "data after the end of the image"),
    "jpeg-markup-after-eoi.jpg": (JPEG + b"<script>alert(1)</script>", "web page markup"),
    "jpeg-data-after-eoi.jpg": (JPEG + b"PK\x03\x04 a zip rides along", "data after the end of the image"),
    "truncated.png": (PNG[:-20], "damaged or incomplete"),
    "truncated.jpg": (JPEG[: len(JPEG) // 2], "damaged or incomplete"),
    "signature-only.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, "damaged or incomplete"),
    "pixels.png": (_pixel_bomb(), "more than 50 million pixels"),
    "fake.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
                 "The PDF"),
    "header-only.pdf": (b"%PDF-1.7\n" + b"x" * 200, "The PDF is damaged"),
    "html-first.pdf": (HTML + PDF, NOT_ACCEPTED),
    "html-inside.pdf": (PDF.replace(b"%PDF-1.4\n", b"%PDF-1.4\n%<html><script>x</script>\n"), "web page markup"),
    "script.pdf": (_pdf_with_javascript(), "scripts or actions"),
    "launch.pdf": (_pdf_that_launches(), "scripts or actions"),
    "password.pdf": (_encrypted_pdf("rahasia"), "protected with a password"),
    "missing-document.docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/styles.xml": b"<w:styles/>"}),
                              "DOCX file is incomplete: it lacks word/document.xml"),
    "missing-workbook.xlsx": (_zip({"[Content_Types].xml": b"<Types/>", "xl/styles.xml": b"<styleSheet/>"}),
                              "XLSX file is incomplete: it lacks xl/workbook.xml"),
    "climb.docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                         "../../evil.sh": b"echo"}), "unsafe name"),
    "absolute.docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                            "/etc/cron.d/x": b"x"}), "unsafe name"),
    "macros.docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                          "word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}), "macros"),
    "no-mimetype.odt": (_zip({"content.xml": b"<office:document-content/>"}), NOT_ACCEPTED),
    "mimetype-last.odt": (_odt_with_mimetype_last(), "ODT file is incomplete: it lacks mimetype"),
    "ratio.docx": (_ratio_bomb(), "compressed 1"),
    "understated.docx": (_understated_member(), "DOCX file is damaged"),
    "cut.docx": (DOCX[: len(DOCX) - 200], NOT_ACCEPTED),
}


@pytest.mark.parametrize("name", sorted(DISGUISED))
def test_a_disguised_file_is_refused_and_nothing_is_stored(app, login_as, users, uploads, name):
    data, message = DISGUISED[name]
    response = _upload(login_as("staff"), _case_id(app), name, data)
    assert response.status_code == 200
    assert message in flashes(response)
    assert _documents(app) == 0
    assert _stored_files(uploads) == []


def test_a_zip_bomb_is_refused_quickly_from_its_directory(app, login_as, users, uploads):
    bomb = _zip_bomb()
    assert len(bomb) < 1.1 * MIB
    client, case_id = login_as("staff"), _case_id(app)
    started = time.monotonic()
    response = _upload(client, case_id, "bom.docx", bomb)
    assert time.monotonic() - started < 5  # inflating the gibibyte would take many seconds
    message = flashes(response)
    assert "The document expands to 1024.1 MB when opened; the limit is 100 MB." in message  # 1 GiB and 8 bytes
    assert _documents(app) == 0 and _stored_files(uploads) == []


def test_the_checks_read_the_stream_and_write_nothing(app, uploads):
    """Refused through the API too: the UploadRefused carries the untranslated message and its values."""
    with app.app_context():
        with pytest.raises(files.UploadRefused) as refused:
            files.accept("x.png", io.BytesIO(PNG + HTML), 10 * MIB)
        assert refused.value.reason.startswith("The file contains web page markup")
        db.session.rollback()
    assert _stored_files(uploads) == []


# -- real files pass ------------------------------------------------------------------------------------
def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (640, 480), os.urandom(640 * 480 * 3)).save(buffer, "JPEG", quality=90, progressive=True)
    return buffer.getvalue()


def _pypdf_pages() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _real_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 200), (10, 120, 200, 128)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, kind", [
    ("foto.jpg", _photo(), files.JPEG), ("scan.png", _real_png(), files.PNG), ("dua.pdf", _pypdf_pages(), files.PDF),
    ("surat.pdf", PDF, files.PDF), ("terkunci.pdf", _encrypted_pdf(""), files.PDF), ("draf.docx", DOCX, files.DOCX), ("daftar.xlsx", XLSX, files.XLSX),
    ("notulen.odt", ODT, files.ODT),
])
def test_real_files_are_accepted_as_their_type(app, login_as, users, uploads, name, data, kind):
    response = _upload(login_as("staff"), _case_id(app), name, data)
    assert response.status_code == 302, flashes(response)
    with app.app_context():
        document = db.session.execute(select(Document)).scalar_one()
        assert (document.file_type, document.file_size) == (kind, len(data))
    assert [os.path.basename(path) for path in _stored_files(uploads)] == [document.file_sha256]


def test_the_size_message_states_the_real_size(app, login_as, users, uploads):
    response = _upload(login_as("staff"), _case_id(app), "besar.pdf", b"%PDF-1.4\n" + b"0" * (21 * MIB - 9))
    assert "The file is 21.0 MB; the limit is 20 MB." in flashes(response)
    assert _documents(app) == 0 and _stored_files(uploads) == []


# -- downloads ------------------------------------------------------------------------------------------
def test_downloads_are_attachments_of_the_checked_type_never_sniffed(app, login_as, users, uploads):
    client = login_as("staff")
    _upload(client, _case_id(app), "scan.png", PNG)
    with app.app_context():
        document = db.session.execute(select(Document)).scalar_one()
        document_id = document.id
    response = login_as("viewer").get(f"/admin/document/download/?id={document_id}")
    assert response.status_code == 200 and response.data == PNG
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment")

    with app.app_context():  # a row whose type is not one the checks give (older data, a hand edit)
        db.session.get(Document, document_id).file_type = "text/html"
        db.session.commit()
    response = client.get(f"/admin/document/download/?id={document_id}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_document_whose_file_is_missing_is_not_found(app, login_as, users, uploads):
    client = login_as("staff")
    _upload(client, _case_id(app), "surat.pdf", PDF)
    [stored] = _stored_files(uploads)
    os.remove(stored)
    with app.app_context():
        document_id = db.session.execute(select(Document.id)).scalar_one()
    assert client.get(f"/admin/document/download/?id={document_id}").status_code == 404


# -- stored only when the record commits -----------------------------------------------------------------
def _part_files(folder) -> list[str]:
    return [path for path in _stored_files(folder) if path.endswith(".part")]


def test_the_file_is_staged_and_fsynced_before_the_commit_and_placed_after_it(app, login_as, users, uploads):
    seen = []

    def at_commit(session):
        seen.append((len(_part_files(uploads)), len(_stored_files(uploads))))

    client, case_id = login_as("staff"), _case_id(app)
    event.listen(Session, "before_commit", at_commit)
    try:
        assert _upload(client, case_id, "surat.pdf", PDF).status_code == 302
    finally:
        event.remove(Session, "before_commit", at_commit)
    assert (1, 1) in seen  # at the commit: only the staged file
    [stored] = _stored_files(uploads)
    assert not stored.endswith(".part") and open(stored, "rb").read() == PDF


def test_a_commit_that_fails_after_staging_leaves_no_file(app, login_as, users, uploads):
    staged = []

    def refuse(session):
        staged.append(len(_part_files(uploads)))
        raise IntegrityError("INSERT INTO document", {}, Exception("forced failure"))

    client, case_id = login_as("staff"), _case_id(app)
    event.listen(Session, "before_commit", refuse)
    try:
        response = _upload(client, case_id, "surat.pdf", PDF)
        assert response.status_code == 200 and "forced failure" not in response.get_data(as_text=True)
    except IntegrityError:
        pass  # if the view re-raises it, what matters is still what is left behind
    finally:
        event.remove(Session, "before_commit", refuse)
    assert staged == [1]  # the commit failed with the file staged
    assert _documents(app) == 0
    assert _stored_files(uploads) == []


def test_the_api_stores_on_commit_and_discards_on_rollback(app, uploads):
    with app.app_context():
        discarded = files.accept("a.pdf", PDF, 10 * MIB)
        assert len(_part_files(uploads)) == 1 and not os.path.exists(files.path_for(discarded.sha256))
        db.session.rollback()
        assert _stored_files(uploads) == []

        kept = files.accept("b.pdf", io.BytesIO(PDF), 10 * MIB, session=db.session)
        db.session.commit()
        assert _stored_files(uploads) == [files.path_for(kept.sha256)]

        files.accept("c.png", PNG, 10 * MIB)
        db.session.remove()  # the request ended without a commit
    assert [os.path.basename(path) for path in _stored_files(uploads)] == [kept.sha256]


# -- a full disk -----------------------------------------------------------------------------------------
@pytest.fixture()
def small_disk(app, tmp_path):
    """A 256 KiB tmpfs as the upload folder."""
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(folder)
    try:
        yield folder
    finally:
        app.config["UPLOAD_FOLDER"] = previous
        subprocess.run(["umount", str(folder)], check=True)


def _noise_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_upload_that_does_not_fit_on_the_disk_is_refused_whole(app, login_as, users, small_disk):
    picture = _noise_png(400, 400)  # about 480 KB that do not compress
    assert len(picture) > 256 * 1024
    response = _upload(login_as("staff"), _case_id(app), "foto.png", picture)
    assert response.status_code == 200
    assert "There is not enough space to store the file; nothing was saved." in flashes(response)
    assert "Errno" not in response.get_data(as_text=True)
    assert _documents(app) == 0
    assert _stored_files(small_disk) == []  # no .part file either

    small = _upload(login_as("staff"), _case_id(app), "surat.pdf", PDF)  # the disk still takes what fits
    assert small.status_code == 302 and _documents(app) == 1


def _fill(folder, leave: int) -> None:
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def _planned_meeting(app) -> int:
    day = local_today() + timedelta(days=5)
    while not is_working_day(day):
        day += timedelta(days=1)
    at = datetime.combine(day, datetime.min.time().replace(hour=9), CITY_TIME_ZONE).astimezone(timezone.utc)
    with app.app_context():
        meeting = Meeting(case=make_case(current_step=7), scheduled_at=at, place="Ruang Rapat Sekretariat Daerah",
                          agenda="Pembahasan draf KSB", status="planned",
                          attendees=[Attendee(name="Sri Wahyuni", position="Kasubbag",
                                              organisation="Bagian Pemerintahan", present=True)])
        db.session.add(meeting)
        db.session.commit()
        return meeting.id


def test_a_letter_that_does_not_fit_on_the_disk_is_not_issued(app, login_as, users, small_disk):
    meeting_id = _planned_meeting(app)
    client = login_as("staff")
    assert client.get(f"/admin/meeting/letter/?id={meeting_id}&kind=invitation").status_code == 200
    _fill(small_disk, leave=2048)
    response = client.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": "invitation",
                                                           "confirm": "new_number", "seen": ""},
                           follow_redirects=True)
    assert "There is not enough space to store the file; nothing was saved." in flashes(response)
    assert _documents(app) == 0
    assert [os.path.basename(path) for path in _stored_files(small_disk)] == ["filler"]

    os.remove(small_disk / "filler")  # space again: the same confirmation now issues number 1
    response = client.post("/admin/meeting/letter/", data={"id": meeting_id, "kind": "invitation",
                                                           "confirm": "new_number", "seen": ""},
                           follow_redirects=True)
    assert "filed as version 1" in flashes(response)
    with app.app_context():
        document = db.session.execute(select(Document)).scalar_one()
        assert document.letter_number.startswith("005/001/")
        assert os.path.exists(files.path_for(document.file_sha256))
