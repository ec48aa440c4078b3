"""Letters as DOCX: the meeting invitation, the Nota Dinas of a meeting's results and the lembar disposisi.

Each letter fills one template of letter_templates/: ordinary Word files, the source of the
letters' layout and fixed wording, which staff edit in Word or LibreOffice (keep every tag whole).
docxtpl fills their Jinja tags: `{{ nama }}` prints a value, `{%p for ... %}` / `{%p endfor %}`
on a paragraph of their own repeat the paragraphs between them.

Tags of every template: nomor, tanggal_surat, nomor_registrasi, jenis (KSB|PKS), jenis_panjang
(Kesepakatan Bersama), judul (the case title), topik (the title without a leading KSB/PKS), objek,
mitra (counterparty), opd, nomor_usulan, tanggal_usulan, tanggal_terima. undangan.docx and
nota_dinas.docx add hari, tanggal_rapat, pukul (HH.MM, WIB), tempat, acara, nama_penanda_tangan,
jabatan_penanda_tangan; nota_dinas.docx also hadir (nama, jabatan, instansi) and hasil_rapat (lines).
lembar_disposisi.docx adds sifat, tahap, kepada, batas_waktu, instruksi (kotak, label), catatan,
tanggal_disposisi, pengirim, jabatan_pengirim.

Letters are written in Indonesian whatever the user's language, and are made inside a request or
app context: dates come from Babel ("Selasa", "24 November 2026"), times are local (WIB, "09.00"),
and the words (instructions, role titles, agreement names, step titles) from the gettext catalogue
under force_locale("id"), the same strings the panel shows (admin_app/labels.py). The last section
issues a letter: when it may be generated, its official number (taken only on confirmation, kept
when a changed meeting's letter is regenerated), the stored file; and files the step-4 disposition
sheet printed from a case.
"""
from __future__ import annotations

import functools
import io
import re
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

from babel.dates import format_date
from docxtpl import DocxTemplate
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from jinja2 import Environment, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app import files
from admin_app.labels import agreement_name, label, role_title, step_title
from models.base import N_, Refusal, as_utc, utcnow
from models.counter import next_number, peek_number
from models.disposition import Disposition, Instruction
from models.document import Document, DocumentKind, next_revision
from models.meeting import MeetingStatus
from models.procedure import DISPOSITION_SHEET, STEPS
from models.procedure import step as workflow_step
from models.sla import CITY_TIME_ZONE
from models.user import User
from models.workflow import meeting_is_held, require_open_case, rework_since

TEMPLATE_DIR = Path(__file__).resolve().parent / "letter_templates"
LETTER_LOCALE = "id"

CHECKED, UNCHECKED = "\u2611", "\u2610"  # ☑ ☐
BLANK = "." * 36  # a line to write on by hand

# The step that forwards the draft with a disposition sheet (4), and the one whose disposition is
# written on that sheet (5): read from the procedure, not numbered here.
SHEET_STEP = next(s for s in STEPS if DISPOSITION_SHEET in s.requires)
DISPOSING_STEP = workflow_step(SHEET_STEP.number + 1)

URGENT, ORDINARY = _l("Urgent"), _l("Ordinary")  # the sheet's "Sifat"
NO_MINUTES = _l("The minutes of the meeting have not been written yet.")
ON_BEHALF = _l("On behalf of the City Secretary")

# Characters XML 1.0 cannot hold (pasted control characters would make the file unreadable).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def in_indonesian(function):
    """Runs `function` with the catalogue's Indonesian, whatever the user's language."""
    @functools.wraps(function)
    def indonesian(*args, **kwargs):
        with force_locale(LETTER_LOCALE):
            return function(*args, **kwargs)
    return indonesian


# ---------------------------------------------------------------- dates and text

def indonesian_date(value: date | datetime) -> str:
    """`24 November 2026`; a datetime is first put in the city's time (WIB)."""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return format_date(value, "d MMMM y", locale=LETTER_LOCALE)


def indonesian_day(value: date | datetime) -> str:
    """`Selasa` for 24 November 2026."""
    if isinstance(value, datetime):
        value = local_time(value).date()
    return format_date(value, "EEEE", locale=LETTER_LOCALE)


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
        "jenis_panjang": agreement_name(kind),
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
    agenda = _text(meeting.agenda).rstrip(".").rstrip() or gettext(
        "Discussion of the draft %(agreement)s on %(topic)s",
        agreement=agreement_name(case.agreement_type), topic=_topic(case))
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

@in_indonesian
def invitation_docx(case, meeting, number: str, signer_name: str, signer_title: str, today: date) -> bytes:
    """Surat undangan rapat pembahasan KSB/PKS to the OPD, the counterparty and the TKKSD.

    `signer_title` may hold line breaks (`a.n. SEKRETARIS DAERAH\\nAsisten Pemerintahan`).
    """
    context = {**_case_context(case), **_meeting_context(case, meeting),
               "nomor": _text(number), "tanggal_surat": indonesian_date(today),
               "nama_penanda_tangan": _text(signer_name), "jabatan_penanda_tangan": _text(signer_title)}
    return _render("undangan.docx", context)


@in_indonesian
def memo_docx(case, meeting, number: str, signer_name: str, signer_title: str, today: date) -> bytes:
    """Nota Dinas from the Kasubbag Kerja Sama to the Kabag Pemerintahan on a held meeting:
    when and where, who was present (numbered, with position and organisation), the minutes."""
    present = [{"nama": _text(a.name), "jabatan": _text(a.position), "instansi": _text(a.organisation)}
               for a in meeting.attendees if a.present]
    context = {**_case_context(case), **_meeting_context(case, meeting),
               "nomor": _text(number), "tanggal_surat": indonesian_date(today),
               "hadir": present, "hasil_rapat": _lines(meeting.minutes) or [str(NO_MINUTES)],
               "nama_penanda_tangan": _text(signer_name), "jabatan_penanda_tangan": _text(signer_title)}
    return _render("nota_dinas.docx", context)


# -- the lembar disposisi: of one disposition, or printed from the case at step 4 -------------------------
def _step_text(number) -> str:
    try:
        workflow_step(number)
    except KeyError:
        return _text(number)
    return step_title(number)


@in_indonesian
def sheet_context(case, disposition: Disposition | None, today: date) -> dict:
    """The words of a lembar disposisi, for lembar_disposisi.docx and admin/disposition_sheet.html alike.

    The header comes from the case. The disposition part comes from `disposition` (dated the day it
    was written, WIB; `today` stands in for one not yet saved); without one it is left blank for the
    Kabag to write on by hand, under the title of the role that disposes at step 5.
    """
    chosen = disposition.instruction if disposition is not None else None
    context = {**_case_context(case), "instruksi": [
        {"kotak": CHECKED if member.value == chosen else UNCHECKED, "label": label(Instruction, member),
         "dipilih": member.value == chosen} for member in Instruction]}
    if disposition is None:
        return {**context, "sifat": "", "tahap": _step_text(case.current_step), "kepada": "",
                "batas_waktu": "", "catatan": "", "tanggal_disposisi": BLANK, "pengirim": BLANK,
                "jabatan_pengirim": role_title(DISPOSING_STEP.role)}
    addressee = " / ".join(part for part in (
        _text(disposition.to_user.full_name) if disposition.to_user else "",
        role_title(disposition.to_role) if disposition.to_role else "",
    ) if part)
    author = disposition.author
    return {
        **context,
        "sifat": str(URGENT if disposition.due_date else ORDINARY),
        "tahap": _step_text(disposition.step),
        "kepada": addressee,
        "batas_waktu": indonesian_date(disposition.due_date) if disposition.due_date else "—",
        "catatan": _text(disposition.note),
        "tanggal_disposisi": indonesian_date(disposition.created_at or today),
        "pengirim": _text(author.full_name) if author else "",
        # The template prints it in capitals (the run's "all caps"), as a signature block does.
        "jabatan_pengirim": role_title(author.role) if author else "",
    }


def disposition_sheet_docx(disposition, today: date) -> bytes:
    """The lembar disposisi of one disposition as a Word file (admin/disposition_sheet.html on paper)."""
    return _render("lembar_disposisi.docx", sheet_context(disposition.case, disposition, today))


def sheet_disposition(session: Session, case) -> Disposition | None:
    """The disposition written on the case's step-4 sheet: the latest one written at step 5 since the
    case last went back to step 5 or earlier (an older one answered an earlier sheet)."""
    since = rework_since(session, case, DISPOSING_STEP.number)
    query = select(Disposition).where(Disposition.case_id == case.id, Disposition.step == DISPOSING_STEP.number)
    if since is not None:
        query = query.where(Disposition.created_at > since)
    return session.execute(query.order_by(Disposition.created_at.desc(), Disposition.id.desc())
                           .limit(1)).scalars().first()


def case_sheet_docx(session: Session, case, today: date) -> bytes:
    """The case's step-4 lembar disposisi as a Word file: blank below the header until step 5's
    disposition is written, then with it."""
    return _render("lembar_disposisi.docx", sheet_context(case, sheet_disposition(session, case), today))


def sheet_file_name(case) -> str:
    return f"lembar-disposisi-{case.registration_number.replace('/', '-')}.docx"


@in_indonesian
def file_disposition_sheet(session: Session, case, actor, today: date, max_bytes: int) -> Document:
    """File the case's step-4 sheet (as case_sheet_docx makes it now) as the case's next version of
    the disposition-sheet document: the evidence step 4 asks for. Not committed; the file is stored
    when the session commits. Raises a Refusal for a closed case or a file that cannot be stored."""
    require_open_case(case)
    stored = files.accept(sheet_file_name(case), case_sheet_docx(session, case, today), max_bytes, session=session)
    kind = DocumentKind.DISPOSITION_SHEET
    document = Document(case=case, kind=kind, revision=next_revision(session, case.id, kind),
                        title=f"{label(DocumentKind, kind)} {_topic(case)}", letter_date=today,
                        created_by_id=actor.id, file_name=stored.name, file_size=stored.size,
                        file_type=stored.type, file_sha256=stored.sha256)
    session.add(document)
    return document


# -- issuing a letter: checked, confirmed, numbered, stored, filed as the case's next document version --
LETTERS = {
    # kind: (render, signing role, signed on behalf of the City Secretary, file stem, title)
    DocumentKind.INVITATION: (invitation_docx, "kabag", True, "undangan", _l("Invitation to the discussion meeting")),
    DocumentKind.MEMO: (memo_docx, "kasubbag", False, "nota-dinas", _l("Nota Dinas of the meeting's results")),
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
    render, signing_role, on_behalf, _, _ = LETTERS[kind]
    signer = session.execute(select(User).where(User.role == signing_role, User.active.is_(True))
                             .order_by(User.id)).scalars().first() or actor
    with force_locale(LETTER_LOCALE):
        title = role_title(signing_role)
        if on_behalf:
            title = f"{ON_BEHALF}\n{title}"
    return render(meeting.case, meeting, number, signer.full_name, title, letter_date)


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
    with force_locale(LETTER_LOCALE):
        title = str(title)
    # Staged now, stored when the session commits; a full disk refuses here, before anything is saved.
    stored = files.accept(f"{stem}-{case.registration_number.replace('/', '-')}.docx", data, max_bytes,
                          session=session)
    document = Document(case=case, meeting=meeting, kind=kind, revision=next_revision(session, case.id, kind),
                        title=f"{title} {_topic(case)}", letter_number=number, letter_date=letter_date,
                        created_by_id=actor.id, file_name=stored.name, file_size=stored.size,
                        file_type=stored.type, file_sha256=stored.sha256)
    session.add(document)
    return document
