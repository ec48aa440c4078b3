"""Demo data: users for each role, counterparties, ~40 cases over all 17 steps."""
import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Attendee,
    Case,
    CaseStatus,
    Complaint,
    Disposition,
    Document,
    Meeting,
    MeetingStatus,
    PartyKind,
    StepEvent,
    User,
)
from models.procedure import LAST_STEP, STEPS, CancelReason, Evidence, HoldReason, Requirement, StepEventKind
from seed.reference import CITY_AGENCIES, get_or_create_party
from seed.sample_files import sample_pdf

DEMO_USERS = (
    ("admin", "Rudi Hartono, S.Kom.", "admin"),
    ("kabag", "Drs. Bambang Sutrisno, M.Si.", "kabag"),
    ("kasubbag", "Sri Wahyuni, S.H.", "kasubbag"),
    ("staff", "Agus Prasetyo, S.AP.", "staff"),
    ("staff2", "Dewi Lestari, S.H.", "staff"),
    ("viewer", "Hendra Gunawan, S.E.", "viewer"),
)

DOCUMENT_TITLES = {
    "regulation_notes": "Telaah peraturan", "plan": "Rencana kerja sama", "opd_draft": "Draf dari OPD",
    "disposition_sheet": "Lembar disposisi", "invitation": "Undangan rapat", "memo": "Nota Dinas hasil rapat",
    "final_draft": "Dokumen final", "handover_receipt": "Tanda terima penyerahan",
    "signed_agreement": "Naskah kerja sama yang ditandatangani",
}

COUNTERPARTIES = (
    (PartyKind.REGION, "Pemerintah Kabupaten Probolinggo"),
    (PartyKind.REGION, "Pemerintah Kota Pasuruan"),
    (PartyKind.REGION, "Pemerintah Kabupaten Lumajang"),
    (PartyKind.CENTRAL, "Kejaksaan Negeri Kota Probolinggo"),
    (PartyKind.CENTRAL, "BPJS Kesehatan Cabang Probolinggo"),
    (PartyKind.CENTRAL, "Kantor Pertanahan Kota Probolinggo"),
    (PartyKind.COMPANY, "PT Bank Pembangunan Daerah Jawa Timur Tbk"),
    (PartyKind.COMPANY, "PT PLN (Persero) UP3 Pasuruan"),
    (PartyKind.COMPANY, "PT Pelabuhan Indonesia (Persero) Regional 3"),
    (PartyKind.UNIVERSITY, "Universitas Panca Marga"),
    (PartyKind.UNIVERSITY, "Universitas Brawijaya"),
    (PartyKind.UNIVERSITY, "Politeknik Negeri Jember"),
    (PartyKind.COMMUNITY, "Palang Merah Indonesia Kota Probolinggo"),
    (PartyKind.FOREIGN, "Kota Xiamen, Republik Rakyat Tiongkok"),
)

OBJECTS = (
    ("Penanganan perkara perdata dan tata usaha negara", "Pendampingan hukum bidang perdata dan TUN"),
    ("Jaminan kesehatan bagi penduduk", "Integrasi Jamkesda ke program JKN"),
    ("Pengelolaan sampah regional", "Pemanfaatan TPA regional bersama"),
    ("Pembayaran pajak daerah secara nontunai", "Layanan pembayaran PBB dan BPHTB melalui bank"),
    ("Penerangan jalan umum", "Penyambungan dan pemeliharaan PJU"),
    ("Magang dan penelitian mahasiswa", "Program magang, KKN dan penelitian terapan"),
    ("Sertifikasi aset tanah pemerintah daerah", "Percepatan pendaftaran tanah aset daerah"),
    ("Pengembangan kawasan pelabuhan", "Penataan kawasan pelabuhan Tanjung Tembaga"),
    ("Donor darah dan tanggap bencana", "Layanan donor darah dan relawan kebencanaan"),
    ("Pertukaran budaya dan pariwisata", "Kerja sama kota kembar bidang budaya"),
)


def _user(session: Session, username: str, full_name: str, role: str, password: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = User(username=username, full_name=full_name, role=role, active=True,
                    email=f"{username}@probolinggokota.go.id")
        user.set_password(password)
        session.add(user)
    return user


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour)).replace(tzinfo=timezone.utc)


def load_demo(session: Session, password: str, today: date | None = None) -> dict[str, int]:
    """Load the demo set once; a second run finds every row by its natural key and adds nothing."""
    today = today or date.today()
    rng = random.Random(2026)
    users = {username: _user(session, username, name, role, password) for username, name, role in DEMO_USERS}
    opds = [get_or_create_party(session, PartyKind.OPD, name) for name in CITY_AGENCIES]
    partners = [get_or_create_party(session, kind, name, contact_person="Bagian Umum", phone="(0335) 421921")
                for kind, name in COUNTERPARTIES]
    session.flush()

    created = 0
    ksb_by_partner: dict[int, Case] = {}
    for index in range(40):
        proposal_number = f"DEMO/{index + 1:03d}/425.{100 + index}/2026"
        if session.execute(select(Case.id).where(Case.proposal_number == proposal_number)).first():
            continue
        created += 1
        partner = partners[index % len(partners)]
        opd = opds[(index * 7) % len(opds)]
        topic, detail = OBJECTS[index % len(OBJECTS)]
        # 34 open cases, two at each step; six more already completed.
        step_number = index % LAST_STEP + 1 if index < 34 else LAST_STEP
        is_pks = index % 3 == 2
        age = rng.randint(35, 50) if index % 5 == 0 or index >= 34 else rng.randint(1, 12) + step_number // 2
        received = today - timedelta(days=age)
        case = Case(
            agreement_type="PKS" if is_pks else "KSB", title=f"{'PKS' if is_pks else 'KSB'} {topic}",
            subject=partner, object=detail, opd=opd, proposal_number=proposal_number,
            proposal_date=received - timedelta(days=rng.randint(1, 5)), received_date=received,
            assigned_to=users["staff" if index % 2 else "staff2"], current_step=1,
            previous_case=ksb_by_partner.get(partner.id) if is_pks else None, created_at=_at(received, 8),
        )
        session.add(case)
        session.flush()
        if not is_pks:
            ksb_by_partner[partner.id] = case
        _walk(session, case, step_number, users, today, complete=index >= 34)
        if index in (5, 23):
            case.status, case.held_since = CaseStatus.ON_HOLD, today
            case.hold_reason = HoldReason.WAITING_OPD_DRAFT
            session.add(StepEvent(case=case, kind=StepEventKind.HOLD, from_step=case.current_step,
                                  to_step=case.current_step, actor=users["kasubbag"], at=_at(today),
                                  note="Menunggu revisi draf dari OPD", reason=HoldReason.WAITING_OPD_DRAFT))
        if index == 31:
            case.status, case.cancel_reason = CaseStatus.CANCELLED, CancelReason.WITHDRAWN
            case.closed_at = _at(today)
            session.add(StepEvent(case=case, kind=StepEventKind.CANCEL, from_step=case.current_step,
                                  to_step=case.current_step, actor=users["kabag"], at=_at(today),
                                  note="OPD menarik usulan", reason=CancelReason.WITHDRAWN))
    _complaints(session, users, today)
    session.flush()
    return {"users": len(users), "parties": len(opds) + len(partners), "new cases": created}


def _walk(session: Session, case: Case, target_step: int, users: dict[str, User], today: date,
          complete: bool) -> None:
    """Give a demo case the history and records of the steps it has passed, spread from the day
    it was received to yesterday (a history never lies in the future)."""
    span = max((today - case.received_date).days - 1, 0)
    if complete:  # finished in 16 to 28 days: some on time, some late
        span = min(span, 16 + case.id % 4 * 4)
    passed = STEPS[: target_step - 1] + ((STEPS[-1],) if complete else ())
    day = case.received_date
    case.current_step = target_step
    for index, step in enumerate(STEPS[: target_step - 1], start=1):
        day = case.received_date + timedelta(days=span * index // (len(passed) + 1))
        actor = users["kabag" if step.role.value == "kabag" else "kasubbag" if step.role.value == "kasubbag" else "staff"]
        for requirement in step.requires:
            _make_record(session, case, step.number, requirement, actor, users, day)
        session.add(StepEvent(case=case, kind=StepEventKind.ADVANCE, from_step=step.number, to_step=step.number + 1,
                              actor=actor, at=_at(day, 10 + step.number % 6)))
    if complete:
        _make_record(session, case, LAST_STEP, STEPS[-1].requires[0], users["staff"], users, day)
        case.status = CaseStatus.DONE
        case.closed_at = _at(case.received_date + timedelta(days=span), 8)
        session.add(StepEvent(case=case, kind=StepEventKind.COMPLETE, from_step=LAST_STEP, to_step=LAST_STEP,
                              actor=users["staff"], at=case.closed_at, note="Diarsipkan"))


def _make_record(session: Session, case: Case, step_number: int, requirement: Requirement, actor: User,
                 users: dict[str, User], day: date) -> None:
    """The evidence `requirement` needs, as the section would have made it on `day`: documents with a
    small real file, dispositions at the step, a meeting held that day with its minutes."""
    if requirement.evidence is Evidence.DOCUMENT:
        from admin_app import files  # the storage of uploads; seeding runs inside the app

        kind = requirement.document_kind
        title = f"{DOCUMENT_TITLES.get(kind, kind)} {case.title}"
        stored = files.accept(f"{kind}-{case.registration_number.replace('/', '-')}.pdf",
                              sample_pdf(title, case.registration_number, f"{day:%d-%m-%Y}"), 10 * 1024 * 1024,
                              session=session)
        session.add(Document(case=case, kind=kind, revision=1, title=title,
                             letter_number=f"180/{step_number:02d}/425.014/{day.year}", letter_date=day,
                             created_by=actor, created_at=_at(day, 14), file_name=stored.name,
                             file_size=stored.size, file_type=stored.type, file_sha256=stored.sha256))
    elif requirement.evidence is Evidence.DISPOSITION:
        # The newest disposition of a case still waits for its addressee.
        still_open = case.current_step < LAST_STEP and step_number == max(
            st.number for st in STEPS if any(r.evidence is Evidence.DISPOSITION for r in st.requires)
            and st.number < case.current_step)
        session.add(Disposition(case=case, step=step_number, author=users["kabag"],
                                to_user=users["kasubbag" if step_number != 14 else "staff"],
                                instruction="follow_up" if step_number != 5 else "prepare_meeting",
                                note="Segera ditindaklanjuti", due_date=day + timedelta(days=3),
                                created_at=_at(day, 9), done_at=None if still_open else _at(day + timedelta(days=1))))
    else:
        existing = session.execute(select(Meeting).where(Meeting.case_id == case.id)).scalar_one_or_none()
        meeting = existing or Meeting(case=case, scheduled_at=_at(day + timedelta(days=3), 9),
                                      place="Ruang Rapat Bagian Pemerintahan", agenda=f"Pembahasan {case.title}",
                                      status=MeetingStatus.PLANNED)
        session.add(meeting)
        if requirement.evidence is Evidence.MEETING_HELD:
            meeting.status = MeetingStatus.HELD
            meeting.scheduled_at = _at(day, 2)  # 09.00 WIB on the day of step 8, never in the future
            meeting.minutes = "Para pihak menyepakati pokok-pokok kerja sama dengan catatan perbaikan redaksional."
            meeting.attendees = [
                Attendee(name="Sri Wahyuni, S.H.", position="Kasubbag Kerja Sama", organisation="Bagian Pemerintahan", present=True),
                Attendee(name="Perwakilan OPD", position="Kepala Bidang", organisation=case.opd.name, present=True),
                Attendee(name="Perwakilan Mitra", position="Manajer", organisation=case.subject.name, present=False),
            ]
        session.flush()


def _complaints(session: Session, users: dict[str, User], today: date) -> None:
    samples = (
        ("letter", "Kepala Dinas Perikanan", "Surat No. 523/112/425.110", "Draf PKS belum diterima kembali setelah rapat.", "answered"),
        ("phone", "Bapak Sugeng", "0812-3456-7890", "Menanyakan status kesepakatan bersama dengan universitas.", "closed"),
        ("email", "humas@upm.ac.id", "humas@upm.ac.id", "Mohon jadwal penandatanganan KSB dipercepat.", "in_progress"),
        ("website", "Ibu Ratna", "ratna@example.id", "Informasi persyaratan kerja sama di situs belum diperbarui.", "new"),
        ("in_person", "Perwakilan Kecamatan Kedopok", "(0335) 420000", "Salinan dokumen KSB yang diserahkan kurang satu eksemplar.", "new"),
        ("fax", "PT PLN (Persero) UP3 Pasuruan", "(0343) 421000", "Koreksi nama pejabat penandatangan pada draf PKS.", "answered"),
    )
    have = session.execute(select(func.count()).select_from(Complaint)).scalar_one()
    if have:
        return
    for offset, (channel, who, contact, description, status) in enumerate(samples):
        received = _at(today - timedelta(days=3 + offset * 6), 8 + offset)
        answered = status in ("answered", "closed")
        session.add(Complaint(received_at=received, channel=channel, complainant=who, contact=contact,
                              description=description, status=status,
                              response="Telah ditindaklanjuti dan disampaikan kepada pelapor." if answered else None,
                              responded_at=received + timedelta(days=2) if answered else None))
