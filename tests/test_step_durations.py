"""Each move stores how long the case spent on the step it leaves (calendar and working days), the
migration computes the same figures for histories stored before, and the dashboard reads them."""
import re
from datetime import date, datetime, timedelta, timezone

import holidays
import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from models import Case, StepEvent, db
from models.sla import CITY_TIME_ZONE, local_today
from tests.factories import make_case
from tests.helpers import count_queries, move

WIB = CITY_TIME_ZONE


def _stored(app, case_id) -> list[tuple]:
    """(kind, from step, calendar days, working days) of the case's history, in order."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            select(StepEvent.kind, StepEvent.from_step, StepEvent.days_on_step, StepEvent.working_days_on_step)
            .where(StepEvent.case_id == case_id).order_by(StepEvent.at, StepEvent.id))]


def _case_at_step(app, step_number: int, registered: datetime, **fields) -> int:
    """A case registered at `registered`, already at a step whose move needs no evidence."""
    with app.app_context():
        case_id = make_case(current_step=step_number, created_at=registered, **fields).id
        db.session.commit()
        return case_id


def _weekday_holidays(start: date, end: date) -> int:
    """Indonesian holidays falling Monday to Friday after `start` up to `end` (from the calendar
    library itself, not from the panel's code)."""
    calendar = holidays.country_holidays("ID", years=range(start.year, end.year + 1),
                                         categories=("public", "government"))
    return sum(1 for day in calendar if start < day <= end and day.weekday() < 5)


def test_a_move_on_the_case_page_stores_calendar_and_working_days_across_a_weekend(app, login_as, users):
    # Any seven days in a row hold one weekend: 5 working days, less the holidays among them.
    registered = datetime.now(timezone.utc) - timedelta(days=7)
    case_id = _case_at_step(app, 10, registered)  # step 10 (the Kasubbag sends the memo) needs no file
    response = move(login_as("kasubbag"), case_id)
    assert response.status_code == 200
    (register, advance) = _stored(app, case_id)
    assert register == ("register", None, None, None)
    kind, from_step, days, working = advance
    assert (kind, from_step) == ("advance", 10)
    assert days == pytest.approx(7.0, abs=0.01)
    came, left = registered.astimezone(WIB).date(), local_today()
    assert working == 5 - _weekday_holidays(came, left)


def test_working_days_skip_the_weekend_and_a_holiday_by_probolinggo_dates(app, users):
    # Friday 14 August 2026, 10.00 WIB, to Monday 24 August 03.00 WIB (Sunday 23 August 20.00 UTC):
    # the working days after the 14th up to the 24th are the 18th to 21st and the 24th; Monday
    # 17 August (Independence Day) and the weekends do not count. By UTC dates it would be 4.
    came = datetime(2026, 8, 14, 10, tzinfo=WIB).astimezone(timezone.utc)  # stored as UTC, as the panel does
    left = datetime(2026, 8, 23, 20, tzinfo=timezone.utc)
    with app.app_context():
        case = make_case(current_step=10, created_at=came)
        db.session.add(StepEvent(case=case, kind="advance", from_step=10, to_step=11, at=left))
        db.session.commit()
        case_id = case.id
    advance = _stored(app, case_id)[1]
    assert advance[2] == pytest.approx(9 + 17 / 24)
    assert advance[3] == 5


def test_a_hold_counts_the_time_before_it_and_not_the_time_on_hold(app, login_as, users):
    now = datetime.now(timezone.utc)
    case_id = _case_at_step(app, 10, now - timedelta(days=10), status="on_hold",
                            held_since=local_today() - timedelta(days=6), hold_reason="waiting_opd_draft")
    with app.app_context():  # put on hold six days ago, four days after it came to step 10
        db.session.add(StepEvent(case_id=case_id, kind="hold", from_step=10, to_step=10, reason="waiting_opd_draft",
                                 at=now - timedelta(days=6)))
        db.session.commit()
    kasubbag = login_as("kasubbag")
    move(kasubbag, case_id, move="resume", note="Draf revisi diterima")
    move(kasubbag, case_id)
    register, held, resumed, advanced = _stored(app, case_id)
    assert held[:2] == ("hold", 10) and held[2] == pytest.approx(4.0, abs=0.01)
    assert resumed == ("resume", 10, 0.0, 0)  # six days on hold: not time on the step
    assert advanced[:2] == ("advance", 10) and advanced[2] == pytest.approx(0.0, abs=0.01) and advanced[3] == 0
    figures = _mean_days(login_as("kabag"))
    assert figures["10"] == "4"  # 4 + 0 days at step 10, the six on hold left out


def test_a_send_back_stores_the_time_on_the_step_it_leaves(app, login_as, users):
    case_id = _case_at_step(app, 10, datetime.now(timezone.utc) - timedelta(days=3))
    move(login_as("kasubbag"), case_id, move="return", note="Nota Dinas perlu diperbaiki", to_step="9")
    register, returned = _stored(app, case_id)
    assert returned[:2] == ("return", 10) and returned[2] == pytest.approx(3.0, abs=0.01)
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 9


def _mean_days(client) -> dict[str, str]:
    """The 'where cases wait longest' chart of the figures page: {step number: days shown}."""
    page = client.get("/admin/figures/").get_data(as_text=True)
    chart = page[page.index('id="chart-days"'):page.index("</figure>", page.index('id="chart-days"'))]
    return dict(re.findall(r'<th scope="row"[^>]*>(\d+)\.[^<]*</th>.*?<a href="[^"]+">([\d.,]+) days</a>', chart, re.S))


def _history(app, stretches: list[tuple[str, int, int, float]], start: datetime) -> int:
    """A case whose events come `days` apart: (kind, from step, to step, days after the previous)."""
    with app.app_context():
        case = make_case(created_at=start, proposal_number=f"H/{start.timestamp()}")
        at = start
        for kind, from_step, to_step, days in stretches:
            at += timedelta(days=days)
            db.session.add(StepEvent(case=case, kind=kind, from_step=from_step, to_step=to_step, at=at,
                                     reason="waiting_opd_draft" if kind == "hold" else None))
        case.current_step = stretches[-1][2]
        db.session.commit()
        return case.id


def test_the_mean_days_figure_is_the_mean_stay_at_each_step_of_the_stored_figures(app, login_as, users):
    start = datetime.now(timezone.utc) - timedelta(days=40)
    # Case A stays at step 3 twice (2 days, sent back from 4, then 1 day); case B once, 6 days.
    _history(app, [("advance", 1, 2, 1.0), ("advance", 2, 3, 1.0), ("advance", 3, 4, 2.0),
                   ("return", 4, 3, 0.5), ("advance", 3, 4, 1.0)], start)
    _history(app, [("advance", 1, 2, 3.0), ("advance", 2, 3, 1.0), ("advance", 3, 4, 6.0)],
             start + timedelta(hours=1))
    with app.app_context():
        means = dict(db.session.execute(select(StepEvent.from_step, func.avg(StepEvent.days_on_step))
                                        .where(StepEvent.days_on_step.is_not(None)).group_by(StepEvent.from_step)).all())
    assert means == pytest.approx({1: 2.0, 2: 1.0, 3: 3.0, 4: 0.5})
    shown = _mean_days(login_as("kabag"))
    assert shown == {"3": "3", "1": "2", "2": "1", "4": "0.5"}
    assert list(shown) == ["3", "1", "2", "4"]  # longest first


def _totals(connection) -> dict[tuple[str, int], tuple]:
    return {(str(day), step): (days, working, visits) for day, step, days, working, visits in connection.execute(
        text("SELECT day, step, days, working_days, visits FROM step_time_by_day"))}


def _totals_from_events(connection) -> dict[tuple[str, int], tuple]:
    """The same totals added up from the events in Python: what the running totals must hold."""
    totals = {}
    for at, step, kind, days, working in connection.execute(text(
            "SELECT at, from_step, kind, days_on_step, working_days_on_step FROM step_event "
            "WHERE days_on_step IS NOT NULL")):
        at = datetime.fromisoformat(str(at)) if not isinstance(at, datetime) else at
        day = str((at if at.tzinfo else at.replace(tzinfo=timezone.utc)).astimezone(WIB).date())
        total = totals.setdefault((day, step), [0.0, 0, 0])
        total[0] += days
        total[1] += working
        total[2] += kind in ("advance", "return", "complete", "cancel")
    return {key: tuple(value) for key, value in totals.items()}


def _same_totals(found, expected) -> None:
    assert found.keys() == expected.keys()
    for key, (days, working, visits) in expected.items():
        assert found[key][0] == pytest.approx(days, abs=1e-6) and found[key][1:] == (working, visits), key


def test_moves_older_than_twelve_months_leave_the_mean(app, login_as, users):
    old = datetime.now(timezone.utc) - timedelta(days=400)
    _history(app, [("advance", 1, 2, 9.0)], old)
    _history(app, [("advance", 1, 2, 2.0)], datetime.now(timezone.utc) - timedelta(days=5))
    assert _mean_days(login_as("kabag")) == {"1": "2"}


def test_the_figures_page_reads_no_events_whatever_the_history(app, login_as, users):
    def statements():
        client = login_as("viewer")
        client.get("/admin/")
        with app.app_context(), count_queries() as seen:
            assert client.get("/admin/figures/").status_code == 200
        return seen[0]

    before = statements()
    start = datetime.now(timezone.utc) - timedelta(days=60)
    for n in range(12):
        _history(app, [("advance", step_number, step_number + 1, 0.5 + n % 3) for step_number in range(1, 9)],
                 start + timedelta(hours=n))
    assert statements() == before


# -- the backfill of migration 0005 ----------------------------------------------------------------
def _all_figures(connection) -> dict[int, tuple]:
    return {row[0]: (row[1], row[2]) for row in connection.execute(
        text("SELECT id, days_on_step, working_days_on_step FROM step_event"))}


def test_the_migration_computes_the_figures_the_moves_store(app, login_as, users):
    now = datetime.now(timezone.utc)
    came = datetime(2026, 8, 14, 10, tzinfo=WIB).astimezone(timezone.utc)
    _history(app, [("advance", 1, 2, 1.25), ("advance", 2, 3, 3.5), ("hold", 3, 3, 2.0), ("resume", 3, 3, 6.0),
                   ("advance", 3, 4, 1.0), ("return", 4, 2, 2.75), ("advance", 2, 3, 0.1)], came)
    _history(app, [("advance", 1, 2, 9 + 17 / 24), ("hold", 2, 2, 1.0), ("cancel", 2, 2, 4.0)], came)
    _history(app, [("advance", step_number, step_number + 1, 0.3 * step_number) for step_number in range(1, 17)]
             + [("complete", 17, 17, 2.0)], now - timedelta(days=80))
    case_id = _case_at_step(app, 10, now - timedelta(days=7))
    move(login_as("kasubbag"), case_id)
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            live = _all_figures(connection)
            live_totals = _totals(connection)
            _same_totals(live_totals, _totals_from_events(connection))
        assert sum(1 for days, _ in live.values() if days is not None) == 7 + 3 + 17 + 1
        downgrade(revision="0004")
        with db.engine.connect() as connection:
            columns = list(connection.execute(text("SELECT * FROM step_event LIMIT 0")).keys())
        assert "days_on_step" not in columns and "working_days_on_step" not in columns
        upgrade()
        with db.engine.connect() as connection:
            migrated = _all_figures(connection)
            _same_totals(_totals(connection), live_totals)
    assert migrated.keys() == live.keys()
    for event_id, (days, working) in live.items():
        assert migrated[event_id][1] == working, event_id
        assert (migrated[event_id][0] is None) == (days is None), event_id
        if days is not None:
            assert migrated[event_id][0] == pytest.approx(days, abs=1e-6), event_id
