"""DOCX letters: invitation, Nota Dinas, lembar disposisi, and the templates they are filled from."""
import io
import re
import subprocess
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from admin_app.letters import (
    disposition_sheet_docx,
    indonesian_date,
    indonesian_day,
    invitation_docx,
    local_time,
    memo_docx,
)
from models import Attendee, Disposition, Meeting, db
from tests.factories import make_case, make_party, make_user

TEMPLATES = Path(__file__).resolve().parent.parent / "admin_app" / "letter_templates"
TODAY = date(2026, 11, 20)
SIGNER = ("Drs. Budi Santoso, M.Si.", "a.n. SEKRETARIS DAERAH\nAsisten Pemerintahan dan Kesra")


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


def test_indonesian_dates_do_not_depend_on_the_locale():
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
                     f"{case.title} (KSB) — PT Air & Energi <Persero>", "5. Menerima draf dan mendisposisi",
                     "Segera", "Andi Pratama / Staf Subbagian Kerja Sama", "27 November 2026",
                     "Segera jadwalkan rapat TKKSD.\nUndang OPD.",
                     "Probolinggo, 24 November 2026",  # created 01.30 WIB on the 24th
                     "KEPALA BAGIAN PEMERINTAHAN", "Dra. Sri Wahyuni"):
        assert expected in text, expected
    assert "☑ Siapkan rapat" in text
    for other in ("Setujui", "Pelajari", "Tindak lanjuti", "Koordinasikan", "Untuk diketahui", "Arsipkan"):
        assert f"☐ {other}" in text
    assert text.count("☑") == 1
    assert_filled(text)
    assert_page_setup(data)

    # The header grid: 5 rows of 4 columns, the Perihal row spanning three.
    grid = docx.Document(io.BytesIO(data)).tables[0]
    assert [cell.text for cell in grid.rows[1].cells] == [
        "No. surat", case.proposal_number, "No. agenda", case.registration_number]
    assert grid.rows[3].cells[1].text == grid.rows[3].cells[3].text


def test_disposition_sheet_to_a_role_without_due_date(letter_case):
    disposition = letter_case["disposition"]
    disposition.to_user, disposition.to_role, disposition.due_date = None, "kasubbag", None
    disposition.instruction, disposition.note = "file", None
    text = document_text(disposition_sheet_docx(disposition, TODAY))
    assert "Kepala Subbagian Kerja Sama" in text and "Biasa" in text and "—" in text
    assert "☑ Arsipkan" in text and text.count("☑") == 1


def test_kept_templates_carry_every_placeholder_build_py_writes(tmp_path):
    """Staff may restyle the kept templates in a word processor; the fields the code fills must stay."""
    names = ("undangan.docx", "nota_dinas.docx", "lembar_disposisi.docx")
    result = subprocess.run([sys.executable, str(TEMPLATES / "build.py"), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

    def placeholders(path):
        with zipfile.ZipFile(path) as archive:
            xml = archive.read("word/document.xml").decode()
        text = re.sub(r"<[^>]+>", "", xml)
        return set(re.findall(r"{[{%].*?[}%]}", text))

    for name in names:
        built = placeholders(tmp_path / name)
        assert built, name
        assert placeholders(TEMPLATES / name) >= built, f"{name} lost a field the letters fill"
