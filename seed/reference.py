"""The city's agencies (OPD) and the settings rows, needed by every installation."""
from dataclasses import fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Party, PartyKind, Setting, Settings
from models.setting import SETTING_DEFAULTS

CITY_AGENCIES = (
    "Sekretariat Daerah Kota Probolinggo",
    "Sekretariat DPRD Kota Probolinggo",
    "Inspektorat Daerah",
    "Badan Perencanaan Pembangunan, Penelitian dan Pengembangan Daerah",
    "Badan Pengelolaan Keuangan dan Aset Daerah",
    "Badan Pendapatan Daerah",
    "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
    "Badan Kesatuan Bangsa dan Politik",
    "Badan Penanggulangan Bencana Daerah",
    "Dinas Pendidikan dan Kebudayaan",
    "Dinas Kesehatan, Pengendalian Penduduk dan Keluarga Berencana",
    "Dinas Pekerjaan Umum dan Penataan Ruang",
    "Dinas Perumahan, Kawasan Permukiman dan Pertanahan",
    "Dinas Sosial, Pemberdayaan Perempuan dan Perlindungan Anak",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Perhubungan",
    "Dinas Komunikasi dan Informatika",
    "Dinas Koperasi, Usaha Mikro dan Tenaga Kerja",
    "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    "Dinas Kepemudaan, Olahraga dan Pariwisata",
    "Dinas Perpustakaan dan Kearsipan",
    "Dinas Lingkungan Hidup",
    "Dinas Pertanian dan Ketahanan Pangan",
    "Dinas Perikanan",
    "Dinas Perdagangan dan Perindustrian",
    "Satuan Polisi Pamong Praja",
    "RSUD dr. Mohamad Saleh",
    "Kecamatan Mayangan",
    "Kecamatan Kanigaran",
    "Kecamatan Kademangan",
    "Kecamatan Kedopok",
    "Kecamatan Wonoasih",
)


def get_or_create_party(session: Session, kind: PartyKind, name: str, **details) -> Party:
    party = session.execute(select(Party).where(Party.kind == kind.value, Party.name == name)).scalar_one_or_none()
    if party is None:
        party = Party(kind=kind.value, name=name, **details)
        session.add(party)
    return party


def load_reference(session: Session) -> None:
    """OPDs of Kota Probolinggo and one row per setting (at its default)."""
    for name in CITY_AGENCIES:
        get_or_create_party(session, PartyKind.OPD, name, address="Kota Probolinggo")
    existing = set(session.execute(select(Setting.key)).scalars())
    for field in fields(Settings):
        if field.name not in existing:
            value = getattr(SETTING_DEFAULTS, field.name)
            text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
            session.add(Setting(key=field.name, value=text))
    session.flush()
