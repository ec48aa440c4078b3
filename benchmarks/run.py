"""Speed and memory of every page at province scale, beside the raw SQL of the same page (`make benchmark`).

A benchmark, not a test: it prints figures so that a regression shows as a number; the suite asserts
behaviour (results, query counts), never times.

1. Builds realistic data once per size and keeps it for the next run: per case 7.7 step events and
   4 documents, 73% of the cases open (5% on hold), 10% overdue, 19% done (each with its agreement),
   8% cancelled, dispositions from step 3 on, an audit trail (each case's and document's creation,
   each disposition). SQLite sizes go to BENCH_DIR; PostgreSQL sizes to a schema `bench_<size>` of
   BENCH_DATABASE_URL (or DATABASE_URL) - never the schema the panel's own tables live in.
   Rows go in by executemany batches (SQLite) or COPY (PostgreSQL), after `flask db upgrade`'s schema.
2. Measures each page through the real app (its test client, logged in as Kabag in Indonesian),
   interleaved with the raw SQL the page needs (the floor: the page's rows and a count capped at
   10,001, through the DBAPI directly; for the exports the export's columns written by the csv
   module or openpyxl's write-only workbook). For each: p50/p90 in ms, SQL statements per request,
   the peak RSS of this process during the request, and the ratio to the floor.

Each size is built and measured in a process of its own: the peak RSS is that of a worker
serving the pages, not of the data build.

Environment:
  BENCH_SIZES=10000,100000     case counts on SQLite ("" for none)
  BENCH_DATABASE_URL / DATABASE_URL   PostgreSQL to measure too (opt-in: the 1M build takes long)
  BENCH_PG_SIZES=1000000       case counts on PostgreSQL
  BENCH_REPEAT=7               repetitions of each page (and of its floor)
  BENCH_EXPORT_REPEAT=3        repetitions of each export of every row
  BENCH_PAGES=case_list,...    only these pages (names as in PAGES below)
  BENCH_DIR=instance/benchmark where the SQLite builds are kept
  BENCH_REBUILD=1              build the data again even when a build of the size exists
"""
import csv
import io
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, time as clock, timedelta, timezone
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BUILD_VERSION = "5"  # bump when the generated data changes: older builds are made again
PASSWORD = "bench-password"
PAGE_SIZE = 25
COUNT_CAP = 10_001
SEARCH_TERM = "pariwisata"
FLOOR_OPD = "Dinas Kebudayaan dan Pariwisata"


# -- where the data lives ----------------------------------------------------------------------------
def sqlite_url(size: int) -> str:
    folder = os.environ.get("BENCH_DIR") or os.path.join(ROOT, "instance", "benchmark")
    os.makedirs(folder, exist_ok=True)
    return f"sqlite:///{os.path.join(os.path.abspath(folder), f'cases-{size}.sqlite')}"


def postgres_url(base: str, size: int) -> str:
    """The database of `base`, in schema bench_<size> (public behind it for extensions such as pg_trgm)."""
    base = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", base)
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path=bench_{size},public')}"


def dbapi_connect(url: str):
    """The DBAPI connection the floors read through. Dates and times come as Python dates and times
    on both databases (psycopg does so itself; sqlite3 by the declared column types), so that a
    floor writes the same cells as the panel's export, not the text SQLite stores."""
    if url.startswith("sqlite"):
        import sqlite3
        sqlite3.register_converter("DATETIME", lambda text: datetime.fromisoformat(text.decode()))
        sqlite3.register_converter("DATE", lambda text: date.fromisoformat(text.decode()))
        return sqlite3.connect(url.removeprefix("sqlite:///"), detect_types=sqlite3.PARSE_DECLTYPES)
    import psycopg
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def make_app(url: str):
    from admin_app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    app.instance_path = tempfile.mkdtemp(prefix="kerjasama-bench-instance-")
    return app


# -- the data --------------------------------------------------------------------------------------
TOPICS = (
    ("Pengelolaan sampah regional", "Pemanfaatan TPA regional bersama"),
    ("Jaminan kesehatan bagi penduduk", "Integrasi Jamkesda ke program JKN"),
    ("Penanganan perkara perdata dan tata usaha negara", "Pendampingan hukum bidang perdata dan TUN"),
    ("Pembayaran pajak daerah secara nontunai", "Layanan pembayaran PBB dan BPHTB melalui bank"),
    ("Penerangan jalan umum", "Penyambungan dan pemeliharaan PJU"),
    ("Magang dan penelitian mahasiswa", "Program magang, KKN dan penelitian terapan"),
    ("Sertifikasi aset tanah pemerintah daerah", "Percepatan pendaftaran tanah aset daerah"),
    ("Pengembangan kawasan pelabuhan", "Penataan kawasan pelabuhan dan jalur logistik"),
    ("Donor darah dan tanggap bencana", "Layanan donor darah dan relawan kebencanaan"),
    ("Pertukaran budaya dan pariwisata", "Kerja sama kota kembar bidang budaya"),
    ("Penyediaan air minum", "Perluasan jaringan SPAM antardaerah"),
    ("Pengembangan UMKM", "Pelatihan dan pemasaran produk usaha mikro"),
    ("Transportasi antarkota", "Trayek angkutan umum lintas batas daerah"),
    ("Pendidikan vokasi", "Sekolah menengah kejuruan dan dunia usaha"),
    ("Pengendalian banjir", "Normalisasi sungai lintas kabupaten"),
    ("Layanan administrasi kependudukan", "Pemanfaatan data kependudukan"),
    ("Ketahanan pangan", "Cadangan pangan dan distribusi beras"),
    ("Pengamanan aset daerah", "Pendampingan pengamanan aset bersertifikat"),
    ("Pelatihan aparatur", "Peningkatan kompetensi ASN"),
    ("Promosi investasi", "Forum investasi dan pelayanan perizinan"),
    ("Kesehatan ibu dan anak", "Penurunan angka stunting"),
    ("Satu data daerah", "Integrasi sistem informasi pemerintahan"),
    ("Penanggulangan kemiskinan", "Sinkronisasi data bantuan sosial"),
    ("Energi terbarukan", "Panel surya pada gedung pemerintah"),
    ("Perpustakaan digital", "Layanan perpustakaan daring bersama"),
    ("Ruang terbuka hijau", "Penataan taman kota dan hutan kota"),
    ("Keamanan dan ketertiban", "Patroli bersama dan penanganan konflik sosial"),
    ("Pemadam kebakaran", "Bantuan armada pemadam antardaerah"),
    ("Penelitian kebijakan publik", "Kajian kebijakan dan evaluasi program"),
    ("Perikanan tangkap", "Sarana pendaratan ikan dan pelatihan nelayan"),
)
# 33 case titles in 1,000 mention tourism: the search's matches.
OPD_NAMES = ("Sekretariat Daerah", "Dinas Pendidikan", "Dinas Kesehatan", "Dinas Pekerjaan Umum dan Penataan Ruang",
             "Dinas Perumahan dan Kawasan Permukiman", "Dinas Sosial", "Dinas Tenaga Kerja",
             "Dinas Lingkungan Hidup", "Dinas Kependudukan dan Pencatatan Sipil", "Dinas Perhubungan",
             "Dinas Komunikasi dan Informatika", "Dinas Koperasi dan Usaha Mikro", "Dinas Penanaman Modal",
             "Dinas Kebudayaan dan Pariwisata", "Dinas Perpustakaan dan Kearsipan", "Dinas Pertanian",
             "Dinas Perdagangan", "Dinas Perindustrian", "Badan Perencanaan Pembangunan Daerah",
             "Badan Pengelolaan Keuangan dan Aset Daerah", "Badan Pendapatan Daerah", "Inspektorat Daerah",
             "Badan Kepegawaian Daerah", "Badan Penanggulangan Bencana Daerah", "Satuan Polisi Pamong Praja")
PARTNER_KINDS = (("region", "Pemerintah Kabupaten"), ("region", "Pemerintah Kota"), ("central", "Kantor Wilayah"),
                 ("company", "PT"), ("university", "Universitas"), ("community", "Yayasan"))
DOCUMENT_KINDS = ("proposal_letter", "regulation_notes", "plan", "opd_draft", "disposition_sheet", "invitation",
                  "minutes", "final_draft")
INSTRUCTIONS = ("study", "follow_up", "prepare_meeting", "coordinate", "approve")
HOLD_REASONS = ("waiting_opd_draft", "waiting_counterparty", "waiting_legal_opinion")
CANCEL_REASONS = ("withdrawn", "requirements_not_met", "rejected", "duplicate")
LAST_STEP = 17


class Loader:
    """Bulk rows into one table: executemany batches on SQLite, COPY on PostgreSQL. Columns the
    table lacks are dropped; a NOT NULL column without a default that is not given fails loudly."""

    def __init__(self, connection, dialect: str, metadata_tables):
        self.connection, self.dialect, self.tables = connection, dialect, metadata_tables
        self.counts: dict[str, int] = {}

    def _value(self, value):
        if self.dialect == "sqlite":
            if isinstance(value, datetime):  # the text SQLAlchemy writes: naive UTC with microseconds
                return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S.%f}"
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, bool):
                return int(value)
        if isinstance(value, dict):
            return json.dumps(value)
        return value

    def load(self, table: str, columns: tuple[str, ...], rows) -> None:
        present = {column.name: column for column in self.tables[table].columns}
        missing = [name for name, column in present.items() if not column.nullable and column.server_default is None
                   and name not in columns and not (column.primary_key and column.autoincrement in (True, "auto"))
                   and name not in ("version", "created_at", "updated_at")]
        if missing:
            raise SystemExit(f"benchmark data for {table} misses its required columns {missing}: update benchmarks/run.py")
        keep = [index for index, name in enumerate(columns) if name in present]
        extra = [name for name in ("version", "created_at", "updated_at") if name in present and name not in columns]
        stamp = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
        extra_values = tuple(self._value(1 if name == "version" else stamp) for name in extra)
        names = [columns[index] for index in keep] + extra
        cursor, count = self.connection.cursor(), 0
        if self.dialect == "sqlite":
            sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            batch = []
            for row in rows:
                batch.append(tuple(self._value(row[index]) for index in keep) + extra_values)
                if len(batch) == 20_000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(sql, batch)
            count += len(batch)
        else:
            with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(self._value(row[index]) for index in keep) + extra_values)
                    count += 1
        self.counts[table] = self.counts.get(table, 0) + count


def _utc(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A time of a working day in Probolinggo (WIB, UTC+7) as UTC."""
    return datetime.combine(day, clock(hour, minute)).replace(tzinfo=timezone(timedelta(hours=7))).astimezone(timezone.utc)


def build(url: str, size: int) -> None:
    """Makes the schema with the migrations, then the rows of `size` cases."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from models import db
    from models.sla import local_today

    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)
    else:
        import psycopg
        with psycopg.connect(url.split("?")[0].replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS bench_{size} CASCADE")
            c.execute(f"CREATE SCHEMA bench_{size}")
            # pg_trgm in public, where every size's search path finds it (an extension is once per
            # database: made by a size's migration, it would sit in that size's schema alone).
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            c.execute("DO $$ BEGIN IF (SELECT extnamespace::regnamespace::text FROM pg_extension "
                      "WHERE extname = 'pg_trgm') <> 'public' THEN ALTER EXTENSION pg_trgm SET SCHEMA public; "
                      "END IF; END $$")
    app = make_app(url)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        tables = db.metadata.tables
        db.engine.dispose()
    connection = dbapi_connect(url)
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    if dialect == "sqlite":
        connection.execute("PRAGMA synchronous = OFF")
    loader = Loader(connection, dialect, tables)
    rng, today = random.Random(size), local_today()
    now = datetime.now(timezone.utc)

    # People: one Kabag, two Kasubbag, a staff member per 5,000 cases (10 at least), a viewer.
    password_hash = generate_password_hash(PASSWORD)
    staff_count = max(10, size // 5000)
    people = [("admin", "Rudi Hartono, S.Kom.", "admin"), ("kabag", "Drs. Bambang Sutrisno, M.Si.", "kabag"),
              ("kasubbag", "Sri Wahyuni, S.H.", "kasubbag"), ("kasubbag2", "Nur Aini, S.Sos.", "kasubbag"),
              ("viewer", "Hendra Gunawan, S.E.", "viewer")]
    people += [(f"staff{n}" if n else "staff", f"Staf Pelaksana {n + 1}", "staff") for n in range(staff_count)]
    loader.load("app_user", ("id", "username", "full_name", "email", "role", "active", "language", "password_hash",
                             "session_generation", "version", "created_at"),
                ((n, username, name, f"{username}@example.go.id", role, True, "id", password_hash, 0, 1, now)
                 for n, (username, name, role) in enumerate(people, 1)))
    kabag, kasubbag, staff_ids = 2, 3, list(range(6, 6 + staff_count))

    # Parties: the OPDs of the regions (25 per 10,000 cases' region), a counterparty per 50 cases.
    regions = max(1, size // 10_000)
    opds = [(f"{name}" if r == 0 else f"{name} Wilayah {r + 1}") for r in range(regions) for name in OPD_NAMES]
    partners = [(kind, f"{prefix} Mitra {n + 1}") for n, (kind, prefix) in
                ((n, PARTNER_KINDS[n % len(PARTNER_KINDS)]) for n in range(max(50, size // 50)))]
    party_rows = [("opd", name) for name in opds] + partners
    loader.load("party", ("id", "kind", "name", "address", "contact_person", "phone", "email"),
                ((n, kind, name, "Jl. Panglima Sudirman No. 19", "Bagian Umum", "(0335) 421921", None)
                 for n, (kind, name) in enumerate(party_rows, 1)))
    opd_ids, partner_ids = range(1, len(opds) + 1), range(len(opds) + 1, len(party_rows) + 1)

    cases, events, documents, dispositions, agreements, audits = [], [], [], [], [], []
    event_id = document_id = disposition_id = audit_id = 0
    per_year: dict[int, int] = {}

    def flush():
        loader.load("cooperation_case", CASE_COLUMNS, cases)
        loader.load("step_event", EVENT_COLUMNS, events)
        loader.load("document", DOCUMENT_COLUMNS, documents)
        loader.load("disposition", DISPOSITION_COLUMNS, dispositions)
        loader.load("agreement", AGREEMENT_COLUMNS, agreements)
        loader.load("audit_log", AUDIT_COLUMNS, audits)
        for rows in (cases, events, documents, dispositions, agreements, audits):
            rows.clear()

    for case_id in range(1, size + 1):
        fate = rng.random()  # 10% overdue, 58% open in time, 5% on hold, 19% done, 8% cancelled
        status = "open" if fate < 0.68 else "on_hold" if fate < 0.73 else "done" if fate < 0.92 else "cancelled"
        is_pks = rng.random() < 0.35
        topic, detail = TOPICS[rng.randrange(len(TOPICS))]
        if status == "open" and fate < 0.10:
            due = today - timedelta(days=rng.randint(1, 60))
        elif status in ("open", "on_hold"):  # received at least two days ago
            due = today + timedelta(days=rng.randint(0, 28))
        else:
            due = today - timedelta(days=rng.randint(30, 1000))
        received = due - timedelta(days=45 if is_pks else 30)
        if status in ("open", "on_hold"):
            step = rng.randint(1, 9)
        elif status == "done":
            step = LAST_STEP
        else:
            step = rng.randint(1, 8)
        held_since = today - timedelta(days=rng.randint(0, 20)) if status == "on_hold" else None
        closed = _utc(min(today, received + timedelta(days=rng.randint(20, 90))), 14) if status in ("done", "cancelled") else None
        per_year[received.year] = per_year.get(received.year, 0) + 1
        number = f"KS/{received.year}/{per_year[received.year]:04d}"
        opd, partner = rng.choice(opd_ids), rng.choice(partner_ids)
        officer = rng.choice(staff_ids) if rng.random() < 0.95 else None
        created = _utc(received, 8, rng.randint(0, 59))
        cases.append((case_id, number, "PKS" if is_pks else "KSB", f"{'PKS' if is_pks else 'KSB'} {topic}", partner,
                      detail, opd, f"{case_id % 900 + 100}/{case_id}/425.{100 + case_id % 50}/{received.year}",
                      received - timedelta(days=rng.randint(1, 5)), received, due, step, status, officer, None,
                      closed, None, rng.randint(0, 9) if status == "on_hold" else 0, held_since,
                      rng.choice(HOLD_REASONS) if status == "on_hold" else None,
                      rng.choice(CANCEL_REASONS) if status == "cancelled" else None, 1, created, closed or created))
        # The history: registration, a move per step, a hold and its resumption now and then, the end.
        last = min(datetime.combine(today, clock(3)).replace(tzinfo=timezone.utc), closed or now)
        moves = [("register", None, 1)] + [("advance", n, n + 1) for n in range(1, step)]
        if status != "on_hold" and rng.random() < 0.1:  # waited for a draft once, then went on
            at_move = rng.randint(1, len(moves))
            moves[at_move:at_move] = [("hold", None, None), ("resume", None, None)]
        if status == "on_hold":
            moves.append(("hold", None, None))
        elif status == "done":
            moves.append(("complete", LAST_STEP, LAST_STEP))
        elif status == "cancelled":
            moves.append(("cancel", step, step))
        reasons = {"hold": cases[-1][19] or HOLD_REASONS[0], "cancel": cases[-1][20]}  # the case's own reasons
        span = max((last - created).total_seconds(), 3600.0) / len(moves)
        at, on_step, previous = created, 1, created
        for order, (kind, from_step, to_step) in enumerate(moves):
            at = created + timedelta(seconds=span * order + rng.random() * span * 0.5)
            if kind in ("hold", "resume"):
                from_step = to_step = on_step
            event_id += 1
            days = None if kind == "register" else round((at - previous).total_seconds() / 86400, 2)
            events.append((event_id, case_id, kind, from_step, to_step, rng.choice(staff_ids) if kind == "advance" else kasubbag,
                           at, "Dilanjutkan sesuai prosedur" if kind == "advance" else None,
                           reasons.get(kind), days,
                           None if days is None else int(days * 5 / 7)))
            on_step, previous = to_step or on_step, at
        audit_id += 1
        audits.append((audit_id, created, officer, "create", "cooperation_case", str(case_id), f"{number} {topic}"[:250],
                       {"title": [None, topic], "status": [None, "open"]}))
        for n in range(4):  # four documents: the proposal and the papers of the steps
            kind = DOCUMENT_KINDS[1 + (n * 2 + step) % (len(DOCUMENT_KINDS) - 1)] if n else "proposal_letter"
            document_id += 1
            stamp = created + timedelta(seconds=span * n)
            documents.append((document_id, case_id, kind, 1, f"{kind.replace('_', ' ').capitalize()} {number}",
                              f"{document_id}/425.{n}/{received.year}" if n % 2 == 0 else None,
                              received if n == 0 else None, None, officer, f"{kind}-{case_id}.pdf", 48_000 + n,
                              "application/pdf", f"{document_id:064x}", stamp, stamp))
            audit_id += 1
            audits.append((audit_id, stamp, officer, "create", "document", str(document_id), f"{kind} (v1)", {"kind": [None, kind]}))
        if step >= 3:  # the Kabag's disposition to the Kasubbag, and the Kasubbag's to the officer
            for n, (author, to_user, role) in enumerate(((kabag, None, "kasubbag"),
                                                         (kasubbag, officer, None if officer else "staff"))):
                if n == 1 and step < 4:
                    break
                disposition_id += 1
                stamp = created + timedelta(seconds=span * (2 + n))
                done_at = stamp + timedelta(days=1) if step > 4 or status in ("done", "cancelled") else None
                dispositions.append((disposition_id, case_id, 3, author, to_user, role, INSTRUCTIONS[case_id % len(INSTRUCTIONS)],
                                     "Segera ditindaklanjuti", stamp.date() + timedelta(days=3), done_at, stamp, stamp))
                audit_id += 1
                audits.append((audit_id, stamp, author, "create", "disposition", str(disposition_id), f"{number} / study", {}))
        if status == "done":
            signed = closed.date()
            agreements.append((case_id, case_id, f"{case_id:06d}/425.011/{signed.year}", signed, signed,
                               signed + timedelta(days=365 * (5 if is_pks else 2)), f"Pemerintah Kota dan Mitra {partner}", None, None))
        if case_id % 20_000 == 0:
            flush()
            print(f"  {case_id} cases written ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    flush()
    cursor = connection.cursor()
    for year, count in per_year.items():  # a case registered through the panel takes the next number
        cursor.execute("INSERT INTO counter (name, value) VALUES (%s, %s)" if dialect == "postgresql"
                       else "INSERT INTO counter (name, value) VALUES (?, ?)", (f"case:{year}", count))
    if dialect == "postgresql":
        for table in ("app_user", "party", "cooperation_case", "step_event", "document", "disposition", "agreement", "audit_log"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    # The dashboard's running totals of time on each step, as migration 0005 builds them from the events.
    local_day = "(at AT TIME ZONE 'Asia/Jakarta')::date" if dialect == "postgresql" else "date(at, '+7 hours')"
    cursor.execute(f"""
        INSERT INTO step_time_by_day (day, step, days, working_days, visits)
        SELECT {local_day}, from_step, sum(days_on_step), sum(working_days_on_step),
               sum(CASE WHEN kind IN ('advance', 'return', 'complete', 'cancel') THEN 1 ELSE 0 END)
        FROM step_event WHERE days_on_step IS NOT NULL AND from_step IS NOT NULL
        GROUP BY {local_day}, from_step""")
    # The tally of cases per status, step and type, as migration 0007 builds it from the cases.
    cursor.execute("INSERT INTO case_tally (status, current_step, agreement_type, cases) "
                   "SELECT status, current_step, agreement_type, count(*) FROM cooperation_case "
                   "GROUP BY status, current_step, agreement_type")
    cursor.execute("CREATE TABLE bench_meta (size INTEGER, version TEXT)")
    cursor.execute("INSERT INTO bench_meta VALUES (%s, %s)" if dialect == "postgresql" else "INSERT INTO bench_meta VALUES (?, ?)",
                   (size, BUILD_VERSION))
    connection.commit()
    if dialect == "postgresql":
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
    else:
        connection.execute("ANALYZE")
    connection.close()
    counts = loader.counts
    print(f"built {size} cases in {time.perf_counter() - started:.0f} s: "
          f"{counts['step_event'] / size:.2f} step events, {counts['document'] / size:.2f} documents, "
          f"{counts['disposition'] / size:.2f} dispositions, {counts['audit_log'] / size:.2f} audit rows per case",
          file=sys.stderr, flush=True)


CASE_COLUMNS = ("id", "registration_number", "agreement_type", "title", "subject_id", "object", "opd_id",
                "proposal_number", "proposal_date", "received_date", "due_date", "current_step", "status",
                "assigned_to_id", "previous_case_id", "closed_at", "renews_agreement_id", "days_on_hold", "held_since",
                "hold_reason", "cancel_reason", "version", "created_at", "updated_at")
EVENT_COLUMNS = ("id", "case_id", "kind", "from_step", "to_step", "actor_id", "at", "note", "reason", "days_on_step",
                 "working_days_on_step")
DOCUMENT_COLUMNS = ("id", "case_id", "kind", "revision", "title", "letter_number", "letter_date", "note", "created_by_id",
                    "file_name", "file_size", "file_type", "file_sha256", "created_at", "updated_at")
DISPOSITION_COLUMNS = ("id", "case_id", "step", "author_id", "to_user_id", "to_role", "instruction", "note", "due_date",
                       "done_at", "created_at", "updated_at")
AGREEMENT_COLUMNS = ("id", "case_id", "number", "signed_on", "valid_from", "valid_until", "parties", "follows_id", "note")
AUDIT_COLUMNS = ("id", "at", "actor_id", "action", "table_name", "record_id", "record_label", "changes")


def built(url: str, size: int) -> bool:
    """Whether a build of this size and generator version is there, schema at the migrations' head."""
    try:
        connection = dbapi_connect(url)
    except Exception:
        return False
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT size, version FROM bench_meta")
        if tuple(cursor.fetchone() or ()) != (size, BUILD_VERSION):
            return False
        cursor.execute("SELECT version_num FROM alembic_version")
        current = {row[0] for row in cursor.fetchall()}
    except Exception:
        return False
    finally:
        connection.close()
    from alembic.script import ScriptDirectory
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", os.path.join(ROOT, "migrations"))
    return current == set(ScriptDirectory.from_config(config).get_heads())


# -- the pages and their floors -----------------------------------------------------------------------
CASE_ROW = ("SELECT c.id, c.registration_number, c.agreement_type, c.title, s.name, o.name, c.current_step, c.status, "
            "c.received_date, c.due_date, u.full_name FROM cooperation_case c JOIN party s ON s.id = c.subject_id "
            "JOIN party o ON o.id = c.opd_id LEFT JOIN app_user u ON u.id = c.assigned_to_id")
OVERDUE = ("c.status IN ('open', 'on_hold') AND ((c.status = 'open' AND c.due_date < {today}) "
           "OR (c.status = 'on_hold' AND c.due_date < coalesce(c.held_since, {today})))")
DUE_SOON = "c.status = 'open' AND c.due_date >= {today} AND c.due_date <= {soon}"
SEARCH = ("(c.registration_number || ' ' || c.title || ' ' || c.object || ' ' || c.proposal_number) "
          "{like} '%" + SEARCH_TERM + "%'")
EXPORT_ROW = ("SELECT c.registration_number, c.agreement_type, c.title, s.name, c.object, o.name, c.proposal_number, "
              "c.proposal_date, c.received_date, c.due_date, c.days_on_hold, c.current_step, c.status, c.hold_reason, "
              "c.cancel_reason, u.full_name, c.closed_at, c.created_at, c.updated_at FROM cooperation_case c "
              "JOIN party s ON s.id = c.subject_id JOIN party o ON o.id = c.opd_id "
              "LEFT JOIN app_user u ON u.id = c.assigned_to_id ORDER BY c.received_date DESC, c.id")


def case_page(where: str = "", order: str = "c.received_date DESC") -> list[str]:
    """A case list page: its 25 rows and the capped count of what matches."""
    clause = f" WHERE {where}" if where else ""
    joins = " JOIN party o ON o.id = c.opd_id" if "o." in where else ""
    return [f"{CASE_ROW}{clause} ORDER BY {order} LIMIT {PAGE_SIZE}",
            f"SELECT count(*) FROM (SELECT 1 FROM cooperation_case c{joins}{clause} LIMIT {COUNT_CAP}) AS capped"]


def history_page(table: str, columns: str, joins: str) -> list[str]:
    return [f"SELECT {columns} FROM {table} x {joins} ORDER BY x.at DESC LIMIT {PAGE_SIZE}",
            f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {COUNT_CAP}) AS capped"]


def pages(dialect: str, today: date) -> list[dict]:
    """Each page: the panel's address, who asks, and the floor (SQL statements, or an export writer)."""
    day = lambda value: f"'{value.isoformat()}'"
    like = "ILIKE" if dialect == "postgresql" else "LIKE"  # SQLite's LIKE ignores ASCII case already
    opd = quote(FLOOR_OPD)
    return [
        {"name": "case_list", "label": "case list, page 1", "url": "/admin/case/", "floor": case_page()},
        {"name": "overdue", "label": "overdue filter", "url": "/admin/case/?flt0_overdue_is=1",
         "floor": case_page(OVERDUE.format(today=day(today)), "c.due_date")},
        {"name": "due_soon", "label": "due-soon filter (7 days)", "url": "/admin/case/?flt0_due_within_days_days=7",
         "floor": case_page(DUE_SOON.format(today=day(today), soon=day(today + timedelta(days=7))), "c.due_date")},
        {"name": "opd", "label": "OPD filter", "url": f"/admin/case/?flt0_proposing_opd_equals={opd}",
         "floor": case_page(f"o.name = '{FLOOR_OPD}'")},
        {"name": "search", "label": f"search '{SEARCH_TERM}'", "url": f"/admin/case/?search={SEARCH_TERM}",
         "floor": case_page(SEARCH.format(like=like))},
        {"name": "step_history", "label": "step history list", "url": "/admin/stepevent/",
         "floor": history_page("step_event", "x.id, x.at, c.registration_number, c.title, x.kind, x.from_step, x.to_step, "
                                             "u.full_name, x.note",
                               "JOIN cooperation_case c ON c.id = x.case_id LEFT JOIN app_user u ON u.id = x.actor_id")},
        {"name": "audit_log", "label": "audit log list", "url": "/admin/auditlog/",
         "floor": history_page("audit_log", "x.id, x.at, u.full_name, u.username, x.action, x.table_name, x.record_id, "
                                            "x.record_label, x.changes", "LEFT JOIN app_user u ON u.id = x.actor_id")},
        {"name": "dashboard", "label": "dashboard /admin/figures/", "url": "/admin/figures/", "floor": None},
        {"name": "my_work", "label": "My work (Kabag)", "url": "/admin/", "floor": None},
        {"name": "my_work_staff", "label": "My work (staff)", "url": "/admin/", "user": "staff", "floor": None},
        {"name": "csv", "label": "CSV export, every case", "url": "/admin/case/export/csv/", "floor": csv_floor,
         "export": True},
        {"name": "xlsx", "label": "XLSX export, every case", "url": "/admin/case/export/xlsx/", "floor": xlsx_floor,
         "export": True},
    ]


def _batches(connection, sql: str):
    cursor = connection.cursor()
    cursor.execute(sql)
    while rows := cursor.fetchmany(2000):
        yield rows


def csv_floor(connection) -> int:
    """The export's rows through the csv module, sent a batch at a time."""
    buffer, size = io.StringIO(), 0
    writer = csv.writer(buffer)
    for rows in _batches(connection, EXPORT_ROW):
        writer.writerows(rows)
        size += len(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    return size


def xlsx_floor(connection) -> int:
    """The export's rows through openpyxl's write-only workbook, saved to a temporary file."""
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Kasus")
    for rows in _batches(connection, EXPORT_ROW):
        for row in rows:  # Excel takes no time zone: PostgreSQL's three times of a case lose theirs
            sheet.append(row[:16] + tuple(value.replace(tzinfo=None) if isinstance(value, datetime) else value
                                          for value in row[16:]))
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
        return spool.tell()


def run_floor(connection, floor) -> int:
    """Runs a page's raw SQL (or writer); returns the number of statements."""
    if callable(floor):
        floor(connection)
        return 1
    cursor = connection.cursor()
    for sql in floor:
        cursor.execute(sql)
        cursor.fetchall()
    connection.rollback()
    return len(floor)


# -- measuring --------------------------------------------------------------------------------------
def reset_peak() -> bool:
    """Linux lets a process reset its peak RSS (VmHWM) by writing 5 to clear_refs."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def measure(url: str, size: int) -> list[dict]:
    from sqlalchemy import event

    from models import db
    from models.sla import local_today

    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    app = make_app(url)
    clients = {}
    for username in ("kabag", "staff"):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        clients[username] = client
    with app.app_context():
        engine = db.engine
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *args: statements.__setitem__(0, statements[0] + 1))
    connection = dbapi_connect(url)
    chosen = {name for name in os.environ.get("BENCH_PAGES", "").split(",") if name}
    repeat = int(os.environ.get("BENCH_REPEAT", "7"))
    export_repeat = int(os.environ.get("BENCH_EXPORT_REPEAT", "3"))
    results = []
    for page in pages(dialect, local_today()):
        if chosen and page["name"] not in chosen:
            continue
        client = clients[page.get("user", "kabag")]

        def request() -> tuple[float, int, float, int]:
            statements[0] = 0
            reset_peak()
            started = time.perf_counter()
            response = client.get(page["url"], buffered=False)
            size_sent = sum(len(chunk) for chunk in response.response)
            response.close()
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{page['url']} answered {response.status_code}")
            return elapsed, statements[0], peak_mb(), size_sent

        if not page.get("export"):
            request()  # templates compiled, caches as a working server has them
            if page["floor"]:
                run_floor(connection, page["floor"])
        times, floor_times, peaks, counts, floor_count = [], [], [], [], 0
        for _ in range(export_repeat if page.get("export") else repeat):
            elapsed, count, peak, _sent = request()
            times.append(elapsed)
            counts.append(count)
            peaks.append(peak)
            if page["floor"]:
                started = time.perf_counter()
                floor_count = run_floor(connection, page["floor"])
                floor_times.append(time.perf_counter() - started)
        result = {"page": page["label"], "db": f"{dialect} {size:,}", "p50": statistics.median(times) * 1000,
                  "p90": percentile(times, 0.9) * 1000, "sql": max(counts), "rss": max(peaks),
                  "floor_p50": statistics.median(floor_times) * 1000 if floor_times else None,
                  "floor_sql": floor_count or None}
        result["ratio"] = result["p50"] / result["floor_p50"] if result["floor_p50"] else None
        results.append(result)
        print(line(result), file=sys.stderr, flush=True)
    connection.close()
    return results


HEADER = (f"{'page':<28} {'database':<18} {'p50 ms':>9} {'p90 ms':>9} {'SQL':>4} {'peak RSS':>9} "
          f"{'floor p50':>10} {'floor SQL':>9} {'ratio':>6}")


def line(result: dict) -> str:
    floor = f"{result['floor_p50']:10.1f}" if result["floor_p50"] is not None else f"{'—':>10}"
    ratio = f"{result['ratio']:6.2f}" if result["ratio"] is not None else f"{'—':>6}"
    floor_sql = f"{result['floor_sql']:9d}" if result["floor_sql"] else f"{'—':>9}"
    return (f"{result['page']:<28} {result['db']:<18} {result['p50']:9.1f} {result['p90']:9.1f} {result['sql']:4d} "
            f"{result['rss']:7.0f} MB {floor} {floor_sql} {ratio}")


def targets() -> list[tuple[str, int]]:
    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(",") if n.strip()]
    found = [(sqlite_url(n), n) for n in sizes]
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if base and base.startswith("postgres"):
        pg_sizes = [int(n) for n in os.environ.get("BENCH_PG_SIZES", "1000000").split(",") if n.strip()]
        found += [(postgres_url(base, n), n) for n in pg_sizes]
    return found


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] in ("--build", "--measure"):
        url, size = sys.argv[2], int(sys.argv[3])
        if sys.argv[1] == "--build":
            build(url, size)
        else:
            print("RESULTS " + json.dumps(measure(url, size)))
        return
    everything = []
    print(HEADER, file=sys.stderr, flush=True)
    for url, size in targets():
        shown = re.sub(r"//[^@/]*@", "//…@", url)
        if os.environ.get("BENCH_REBUILD") or not built(url, size):
            print(f"building {size:,} cases in {shown}", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, __file__, "--build", url, str(size)], check=True)
        done = subprocess.run([sys.executable, __file__, "--measure", url, str(size)], check=True,
                              stdout=subprocess.PIPE, text=True)
        everything += json.loads(done.stdout.rsplit("RESULTS ", 1)[1])
    print()
    print(HEADER)
    for result in everything:
        print(line(result))
    print("\nratio = p50 of the page / p50 of its raw SQL (floor); SQL = statements per request; "
          "peak RSS = the measuring process during the request.")


if __name__ == "__main__":
    main()
