"""Due dates: received date + the product's limit, in calendar or working days."""
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy.orm import Session

from models.setting import Settings, load_settings

CITY_TIME_ZONE = ZoneInfo("Asia/Jakarta")  # Probolinggo keeps WIB


def local_today() -> date:
    """Today in Probolinggo: what 'overdue' and 'days left' count from."""
    return datetime.now(CITY_TIME_ZONE).date()


@lru_cache(maxsize=32)
def _non_working_days(year: int) -> frozenset[date]:
    """Indonesian public holidays and cuti bersama (the `holidays` government category)."""
    calendar = holidays.country_holidays("ID", years=year, categories=("public", "government"))
    return frozenset(calendar)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _non_working_days(day.year)


def add_days(start: date, days: int, working_days: bool) -> date:
    """`days` after `start`: calendar days, or working days skipping weekends and holidays."""
    if not working_days:
        return start + timedelta(days=days)
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


def limit_days(settings: Settings, agreement_type: str) -> int:
    return settings.sla_days_pks if str(agreement_type) == "PKS" else settings.sla_days_ksb


def due_date_under(settings: Settings, case) -> date:
    """Due date of `case` under `settings`, pushed by its days on hold."""
    limit = limit_days(settings, case.agreement_type) + (case.days_on_hold or 0)
    return add_days(case.received_date, limit, settings.sla_working_days)


def due_date_for(session: Session, case) -> date:
    """Due date of `case` under the current settings, pushed by its days on hold."""
    return due_date_under(load_settings(session), case)


def elapsed_days(session: Session, start: date, end: date) -> int:
    """Days from `start` to `end` in the SLA's unit: calendar days, or working days after `start`."""
    if end <= start:
        return 0
    if not load_settings(session).sla_working_days:
        return (end - start).days
    return sum(1 for offset in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=offset)))
