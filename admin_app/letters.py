"""Letters as DOCX: the meeting invitation, the Nota Dinas of a meeting's results and the lembar disposisi.

The letters themselves are pure functions over model objects and plain values (no request, no
app context, no OS locale): each fills one template of letter_templates/ (Word files with
docxtpl/Jinja tags, built by letter_templates/build.py) and returns the .docx bytes. The last
section issues a letter: when it may be generated, its official number (taken only on
confirmation, kept when a changed meeting's letter is regenerated), the stored file.
Dates are written the Indonesian way, "24 November 2026"; times are local (WIB), "09.00".
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app import files
from models.base import N_, Refusal, as_utc, utcnow
from models.counter import next_number, peek_number
from models.disposition import Instruction
from models.document import Document, DocumentKind, next_revision
from models.meeting import MeetingStatus
from models.procedure import step as workflow_step
from models.sla import CITY_TIME_ZONE
from models.user import User
from models.workflow import meeting_is_held, require_open_case

TEMPLATE_DIR = Path(__file__).resolve().parent / "letter_templates"

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")  # date.weekday() order
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")

AGREEMENT_NAMES = {"KSB": "Kesepakatan Bersama", "PKS": "Perjanjian Kerja Sama"}

# The Indonesian words of the sheet, in the order of the Instruction enum (the panel's order).
INSTRUCTION_LABELS = {
    Instruction.APPROVE.value: "Setujui",
    Instruction.STUDY.value: "Pelajari",
    Instruction.FOLLOW_UP.value: "Tindak lanjuti",
    Instruction.PREPARE_MEETING.value: "Siapkan rapat",
    Instruction.COORDINATE.value: "Koordinasikan",
    Instruction.FOR_INFORMATION.value: "Untuk diketahui",
    Instruction.FILE.value: "Arsipkan",
}
CHECKED, UNCHECKED = "\u2611", "\u2610"  # ☑ ☐

# Role codes as the section writes them on paper.
ROLE_TITLES = {
    "kabag": "Kepala Bagian Pemerintahan",
    "kasubbag": "Kepala Subbagian Kerja Sama",
    "staff": "Staf Subbagian Kerja Sama",
    "admin": "Administrator TI",
    "viewer": "Pemantau",
}

NO_MINUTES = "Notulen rapat belum diisi."

# Characters XML 1.0 cannot hold (pasted control characters would make the file unreadable).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------- dates and text

def indonesian_date(value: date | datetime) -> str:
    """`24 November 2026`; a datetime is first put in the city's time (WIB)."""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def indonesian_day(value: date | datetime) -> str:
    """`Selasa` for 24 November 2026."""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return DAYS[value.weekday()]


def local_time(value: datetime) -> datetime:
    """The moment in Asia/Jakarta time; a naive value (SQLite drops the offset) is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CITY_TIME_ZONE)


def _text(value) -> str:
    """A value as letter text: None is empty, Windows line ends become `\\n`, control characters go."""
    if value is None:
        return ""
    return _NOT_XML.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n")).strip()


def _lines(value) -> list[str]:
    return [line.strip() for line in _text(value).split("\n") if line.strip()]


def _topic(case) -> str:
    """The title without a leading `KSB`/`PKS`, so "Pembahasan KSB {topic}" does not say KSB twice."""
    title = _text(case.title)
    kind = _text(case.agreement_type)
    if kind and title.upper().startswith(kind.upper() + " "):
        return title[len(kind) + 1:].strip()
    return title


def _case_context(case) -> dict:
    kind = _text(case.agreement_type)
    return {
        "nomor_registrasi": _text(case.registration_number),
        "jenis": kind,
        "jenis_panjang": AGREEMENT_NAMES.get(kind, kind),
        "judul": _text(case.title),
        "topik": _topic(case),
        "objek": _text(case.object),
        "mitra": _text(case.subject.name if case.subject else ""),
        "opd": _text(case.opd.name if case.opd else ""),
        "nomor_usulan": _text(case.proposal_number),
        "tanggal_usulan": indonesian_date(case.proposal_date) if case.proposal_date else "",
        "tanggal_terima": indonesian_date(case.received_date) if case.received_date else "",
    }


def _meeting_context(case, meeting) -> dict:
    at = local_time(meeting.scheduled_at)
    # The memo's sentence ends after the agenda: no "..KSB.." with a period of its own.
    agenda = _text(meeting.agenda).rstrip(".").rstrip() or (
        f"Pembahasan rancangan {AGREEMENT_NAMES.get(case.agreement_type, case.agreement_type)} "
        f"tentang {_topic(case)}")
    return {
        "hari": indonesian_day(at),
        "tanggal_rapat": indonesian_date(at),
        "pukul": f"{at:%H.%M}",
        "tempat": _text(meeting.place),
        "acara": agenda,
    }


def _render(template: str, context: dict) -> bytes:
    """Fills a template; a tag the context lacks is an error, not a silent blank in an official letter."""
    document = DocxTemplate(TEMPLATE_DIR / template)
    document.render(context, jinja_env=Environment(undefined=StrictUndefined), autoescape=True)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- the letters

def invitation_docx(case, meeting, number: str, signer_name: str, signer_title: str, today: date) -> bytes:
    """Surat undangan rapat pembahasan KSB/PKS to the OPD, the counterparty and the TKKSD.

    `signer_title` may hold line breaks (`a.n. SEKRETARIS DAERAH\\nAsisten Pemerintahan`).
    """
    context = {**_case_context(case), **_meeting_context(case, meeting),
               "nomor": _text(number), "tanggal_surat": indonesian_date(today),
               "nama_penanda_tangan": _text(signer_name), "jabatan_penanda_tangan": _text(signer_title)}
    return _render("undangan.docx", context)


def memo_docx(case, meeting, number: str, signer_name: str, signer_title: str, today: date) -> bytes:
    """Nota Dinas from the Kasubbag Kerja Sama to the Kabag Pemerintahan on a held meeting:
    when and where, who was present (numbered, with position and organisation), the minutes."""
    present = [{"nama": _text(a.name), "jabatan": _text(a.position), "instansi": _text(a.organisation)}
               for a in meeting.attendees if a.present]
    context = {**_case_context(case), **_meeting_context(case, meeting),
               "nomor": _text(number), "tanggal_surat": indonesian_date(today),
               "hadir": present, "hasil_rapat": _lines(meeting.minutes) or [NO_MINUTES],
               "nama_penanda_tangan": _text(signer_name), "jabatan_penanda_tangan": _text(signer_title)}
    return _render("nota_dinas.docx", context)


def disposition_sheet_docx(disposition, today: date) -> bytes:
    """The lembar disposisi of admin/disposition_sheet.html as a Word file.

    Dated with the day the disposition was written (WIB); `today` stands in for a disposition
    not yet saved.
    """
    case = disposition.case
    addressee = " / ".join(part for part in (
        _text(disposition.to_user.full_name) if disposition.to_user else "",
        ROLE_TITLES.get(disposition.to_role, _text(disposition.to_role)) if disposition.to_role else "",
    ) if part)
    author = disposition.author
    try:
        step = f"{disposition.step}. {workflow_step(disposition.step).title_id}"
    except (KeyError, TypeError):
        step = _text(disposition.step)
    context = {
        **_case_context(case),
        "sifat": "Segera" if disposition.due_date else "Biasa",
        "tahap": step,
        "kepada": addressee,
        "batas_waktu": indonesian_date(disposition.due_date) if disposition.due_date else "—",
        "instruksi": [{"kotak": CHECKED if code == disposition.instruction else UNCHECKED, "label": label}
                      for code, label in INSTRUCTION_LABELS.items()],
        "catatan": _text(disposition.note),
        "tanggal_disposisi": indonesian_date(disposition.created_at or today),
        "pengirim": _text(author.full_name) if author else "",
        "jabatan_pengirim": ROLE_TITLES.get(author.role, _text(author.role)).upper() if author else "",
    }
    return _render("lembar_disposisi.docx", context)


# -- issuing a letter: checked, confirmed, numbered, stored, filed as the case's next document version --
LETTERS = {
    # kind: (render, signing role, signer's title, file stem, title)
    DocumentKind.INVITATION: (invitation_docx, "kabag", "a.n. SEKRETARIS DAERAH\nKepala Bagian Pemerintahan",
                              "undangan", "Undangan rapat pembahasan"),
    DocumentKind.MEMO: (memo_docx, "kasubbag", "Kepala Subbagian Kerja Sama", "nota-dinas", "Nota Dinas hasil rapat"),
}


class LetterRefused(Refusal):
    """Why a letter was not generated; no number was taken and nothing was stored."""


def check_letter(meeting, kind: str, now: datetime, letter_date: date) -> None:
    """Raise a Refusal unless the `kind` letter of `meeting`, dated `letter_date`, may be generated now.

    The invitation is for a planned meeting still to come; the Nota Dinas reports a held meeting
    and is dated on or after the meeting's day (WIB); a closed case gets neither.
    """
    require_open_case(meeting.case)
    if kind == DocumentKind.INVITATION:
        if meeting.status == MeetingStatus.HELD:
            raise LetterRefused(N_("This meeting is marked held: an invitation is generated only for a "
                                   "meeting still to come."))
        if meeting.status == MeetingStatus.CANCELLED:
            raise LetterRefused(N_("This meeting is cancelled: no invitation can be generated for it."))
        if as_utc(meeting.scheduled_at) <= now:
            raise LetterRefused(N_("The time of this meeting has come: an invitation is generated only for a "
                                   "meeting still to come."))
    elif kind == DocumentKind.MEMO:
        if not meeting_is_held(meeting, now):
            raise LetterRefused(N_("The Nota Dinas is generated only from a held meeting: marked held, its time "
                                   "passed, minutes written and at least one attendee present."))
        day = local_time(meeting.scheduled_at).date()
        if letter_date < day:
            raise LetterRefused(N_("The Nota Dinas cannot be dated before the meeting it reports on (%(date)s)."),
                                date=indonesian_date(day))
    else:
        raise ValueError(f"no letter of kind {kind!r}")


def latest_letter(session: Session, meeting, kind: str) -> Document | None:
    """The last `kind` letter generated from `meeting` (its highest version), if any."""
    return session.execute(select(Document).where(Document.meeting_id == meeting.id, Document.kind == kind)
                           .order_by(Document.revision.desc()).limit(1)).scalars().first()


def _counter(kind: str, year: int) -> str:
    return f"letter:{kind}:{year}"


def _number(settings, kind: str, sequence: int, year: int, case) -> str:
    pattern = getattr(settings, f"letter_number_{kind}")
    return pattern.format(seq=f"{sequence:03d}", year=year, case=case.registration_number)


def preview_number(session: Session, meeting, kind: str, today: date, settings) -> str:
    """The number the next `kind` letter would take now; nothing is taken (someone may take it first)."""
    return _number(settings, kind, peek_number(session, _counter(kind, today.year)), today.year, meeting.case)


def _letter_bytes(session: Session, meeting, kind: str, number: str, letter_date: date, actor) -> bytes:
    render, signing_role, signer_title, _, _ = LETTERS[kind]
    signer = session.execute(select(User).where(User.role == signing_role, User.active.is_(True))
                             .order_by(User.id)).scalars().first() or actor
    return render(meeting.case, meeting, number, signer.full_name, signer_title, letter_date)


def _same_letter(one: bytes, other: bytes) -> bool:
    """Two DOCX files hold the same parts; the zip's own timestamps differ between any two saves."""
    with zipfile.ZipFile(io.BytesIO(one)) as a, zipfile.ZipFile(io.BytesIO(other)) as b:
        names = a.namelist()
        return names == b.namelist() and all(a.read(name) == b.read(name) for name in names)


def letter_changed(session: Session, document: Document, actor) -> bool:
    """Whether `document`, generated again now with its own number and date, would read differently.

    Compared by content rather than by `meeting.updated_at`: editing only the attendees writes the
    attendee rows, not the meeting's, and the letter also reads the case and the signer. A stored
    file that cannot be read counts as changed.
    """
    try:
        with open(files.path_for(document.file_sha256), "rb") as handle:
            stored = handle.read()
        return not _same_letter(stored, _letter_bytes(session, document.meeting, document.kind,
                                                      document.letter_number, document.letter_date, actor))
    except (OSError, ValueError, TypeError, zipfile.BadZipFile):
        return True


def _check_seen(previous: Document | None, seen: int | None) -> None:
    """The user confirmed what the letter page showed: no letter yet, or this latest version."""
    if (previous.id if previous is not None else None) != seen:
        if previous is None:
            raise LetterRefused(N_("The letter you confirmed no longer exists; nothing was generated."))
        raise LetterRefused(N_("Meanwhile this letter was issued as no. %(number)s (version %(version)s); "
                               "nothing new was generated."), number=previous.letter_number, version=previous.revision)


def issue_letter(session: Session, meeting, kind: str, actor, today: date, settings, max_bytes: int, *,
                 seen: int | None = None, same_number: bool = False, now: datetime | None = None) -> Document:
    """Generate the `kind` letter of `meeting` and file it as the case's next document version (not committed;
    its file is stored when the session commits, and never if it rolls back).

    `seen` is the id of the latest letter of this kind the user was shown on the confirmation page
    (None: none yet), so a second submission of one confirmation (a double click, a second tab) is
    refused instead of taking another number. Once a letter exists, another is made only if it would
    now read differently: under the same number and date (`same_number`) or, when asked, under the
    next number dated `today`. Raises a Refusal otherwise; nothing is changed and no number taken.
    """
    now = now or utcnow()
    case = meeting.case
    previous = latest_letter(session, meeting, kind)
    _check_seen(previous, seen)
    if same_number and previous is None:
        raise LetterRefused(N_("There is no earlier letter whose number could be used again."))
    letter_date = previous.letter_date if same_number else today
    check_letter(meeting, kind, now, letter_date)
    if previous is not None and not letter_changed(session, previous, actor):
        raise LetterRefused(N_("Nothing in this letter changed since no. %(number)s (version %(version)s) was "
                               "issued: download that one."), number=previous.letter_number, version=previous.revision)
    if same_number:
        number = previous.letter_number
    else:
        # Taking the number locks the counter: a concurrent confirmation of the same page waits here,
        # then sees this letter and is refused (its rollback gives the number back).
        sequence = next_number(session, _counter(kind, today.year))
        _check_seen(latest_letter(session, meeting, kind), seen)
        number = _number(settings, kind, sequence, today.year, case)
    data = _letter_bytes(session, meeting, kind, number, letter_date, actor)
    _, _, _, stem, title = LETTERS[kind]
    # Staged now, stored when the session commits; a full disk refuses here, before anything is saved.
    stored = files.accept(f"{stem}-{case.registration_number.replace('/', '-')}.docx", data, max_bytes,
                          session=session)
    document = Document(case=case, meeting=meeting, kind=kind, revision=next_revision(session, case.id, kind),
                        title=f"{title} {_topic(case)}", letter_number=number, letter_date=letter_date,
                        created_by_id=actor.id, file_name=stored.name, file_size=stored.size,
                        file_type=stored.type, file_sha256=stored.sha256)
    session.add(document)
    return document
