"""Settings the section changes without a release: SLA limits, calendar, reminders."""
from dataclasses import dataclass, fields

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Timestamped, Versioned, db


@dataclass(frozen=True)
class Settings:
    """Typed view of the `setting` table; a missing row means the default below."""

    sla_days_ksb: int = 21          # Standar Pelayanan: KSB at most 3 weeks
    sla_days_pks: int = 30          # PKS at most 1 month
    sla_working_days: bool = False  # the standard counts calendar days
    due_soon_days: int = 7
    complaint_response_days: int = 14
    upload_max_mb: int = 20
    form_text_max_kb: int = 512     # the text fields of one form together (files count against upload_max_mb)
    expiring_within_days: int = 90
    # Letter numbers: {seq} the yearly sequence, {year}, {case} the registration number.
    letter_number_invitation: str = "005/{seq}/425.014/{year}"
    letter_number_memo: str = "000.1.2/{seq}/425.014/{year}"


SETTING_DEFAULTS = Settings()


class Setting(Timestamped, Versioned, db.Model):
    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.key


def parse_setting(key: str, text: str):
    """The typed value of setting `key`; KeyError for an unknown key, ValueError for bad text."""
    if key not in {field.name for field in fields(Settings)}:
        raise KeyError(key)
    kind = type(getattr(SETTING_DEFAULTS, key))
    if kind is str:
        text = text.strip()
        if "{seq}" not in text or len(text) > 100:
            raise ValueError(text)
        try:
            text.format(seq=1, year=2026, case="KS/2026/0001")
        except (KeyError, IndexError, ValueError):
            raise ValueError(text) from None  # a field other than {seq}, {year}, {case}
        return text
    text = text.strip().lower()
    if kind is bool:
        if text in {"1", "true", "yes", "ya"}:
            return True
        if text in {"0", "false", "no", "tidak"}:
            return False
        raise ValueError(text)
    value = int(text)
    if not 0 <= value <= 3650:
        raise ValueError(text)
    return value


def load_settings(session: Session) -> Settings:
    """Current settings; a stored value that does not parse keeps the default."""
    stored = dict(session.execute(select(Setting.key, Setting.value)).all())
    values = {}
    for field in fields(Settings):
        if field.name in stored:
            try:
                values[field.name] = parse_setting(field.name, stored[field.name])
            except ValueError:
                pass
    return Settings(**values)
