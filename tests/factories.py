"""Factories that write real rows; each takes keyword overrides."""
from datetime import date, timedelta
from functools import lru_cache

from werkzeug.security import generate_password_hash

from models import Case, Party, PartyKind, User, db
from seed.reference import get_or_create_party

PASSWORD = "rahasia-uji-123"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Hash once per test run: scrypt costs ~50 ms each time.
    return generate_password_hash(PASSWORD)


def make_user(role: str, **overrides) -> User:
    """Test accounts read the English UI so assertions name the message ids; the Indonesian
    UI has its own tests (test_i18n.py)."""
    fields = {"username": role, "full_name": f"Pengguna {role}", "role": role, "active": True, "language": "en",
              "password_hash": _password_hash(), **overrides}
    user = User(**fields)
    db.session.add(user)
    db.session.flush()
    return user


def make_party(kind: str = "company", name: str = "PT Mitra Sejahtera", **details) -> Party:
    party = get_or_create_party(db.session, PartyKind(kind), name, **details)
    db.session.flush()
    return party


def make_case(**overrides) -> Case:
    received = overrides.pop("received_date", date(2026, 11, 2))
    if "subject" not in overrides and "subject_id" not in overrides:
        overrides["subject"] = make_party("region", "Pemerintah Kabupaten Probolinggo")
    if "opd" not in overrides and "opd_id" not in overrides:
        overrides["opd"] = make_party("opd", "Dinas Lingkungan Hidup")
    fields = {
        "agreement_type": "KSB", "title": "KSB Pengelolaan sampah regional",
        "object": "Pemanfaatan TPA regional", "proposal_number": "660/123/425.108/2026",
        "proposal_date": received - timedelta(days=3), "received_date": received, **overrides,
    }
    case = Case(**fields)
    db.session.add(case)
    db.session.flush()
    return case


def make_document(case: Case, kind: str, title: str = "Dokumen", **overrides):
    """A document of `kind` on `case` with a small real PDF stored, as an upload would leave it."""
    from admin_app import files
    from models import Document
    from seed.sample_files import sample_pdf

    stored = files.accept(f"{kind}.pdf", sample_pdf(title, kind, str(case.id)), 10 * 1024 * 1024)
    fields = {"case": case, "kind": kind, "revision": 1, "title": title, "file_name": stored.name,
              "file_size": stored.size, "file_type": stored.type, "file_sha256": stored.sha256, **overrides}
    document = Document(**fields)
    db.session.add(document)
    db.session.flush()
    return document
