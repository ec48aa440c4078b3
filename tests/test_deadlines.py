"""Due dates, the overdue and due-soon filters, the dashboard figures."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Case, Setting, db
from models.sla import add_days, local_today
from tests.factories import make_case, make_party
from tests.helpers import row_version


def _register(client, app, agreement_type: str, received: str) -> date:
    with app.app_context():
        subject, opd = make_party("company", "PT Jaya"), make_party("opd", "Dinas Perhubungan")
        db.session.commit()
        data = {"agreement_type": agreement_type, "title": f"{agreement_type} uji", "subject": subject.id,
                "object": "Obyek uji", "opd": opd.id, "proposal_number": f"P/{received}", "proposal_date": received,
                "received_date": received, "assigned_to": "", "previous_case": ""}
    assert client.post("/admin/case/new/", data=data).status_code == 302
    with app.app_context():
        return db.session.execute(select(Case.due_date).where(Case.proposal_number == f"P/{received}")).scalar_one()


def _use_working_days(app, login_as, runner):
    runner.invoke(args=["seed"])  # creates the settings rows
    admin = login_as("admin")
    with app.app_context():
        setting = db.session.get(Setting, "sla_working_days")
    page = admin.get(f"/admin/setting/edit/?id={setting.key}").get_data(as_text=True)
    response = admin.post(f"/admin/setting/edit/?id={setting.key}", data={"value": "yes", "row_version": row_version(page)})
    assert response.status_code == 302


# Hand-computed from the 2026 government calendar (public holidays and cuti bersama).
CALENDAR_DAYS = [("KSB", "2026-03-16", "2026-04-06"), ("PKS", "2026-05-11", "2026-06-10"),
                 ("KSB", "2026-12-14", "2027-01-04")]
WORKING_DAYS = [
    # 17 Mar, then Nyepi and Idul Fitri with their cuti bersama (18-24 Mar) and Good Friday (3 Apr) skipped.
    ("KSB", "2026-03-16", "2026-04-22"),
    # Ascension (14 May) + cuti (15), Idul Adha (27) + cuti (28), Pancasila (1 Jun), Islamic New Year (16 Jun).
    ("PKS", "2026-05-11", "2026-06-30"),
    # Only weekends in between: 21 working days from Monday 2 Nov.
    ("KSB", "2026-11-02", "2026-12-01"),
]


@pytest.mark.parametrize("kind, received, due", CALENDAR_DAYS)
def test_due_date_in_calendar_days_the_standards_default(app, login_as, users, kind, received, due):
    assert _register(login_as("staff"), app, kind, received) == date.fromisoformat(due)


@pytest.mark.parametrize("kind, received, due", WORKING_DAYS)
def test_due_date_in_working_days_skips_weekends_holidays_and_cuti_bersama(app, login_as, users, runner,
                                                                          kind, received, due):
    _use_working_days(app, login_as, runner)
    assert _register(login_as("staff"), app, kind, received) == date.fromisoformat(due)


def test_a_bad_setting_value_is_refused_with_a_message(app, login_as, users, runner):
    runner.invoke(args=["seed"])
    admin = login_as("admin")
    page = admin.get("/admin/setting/edit/?id=sla_days_ksb").get_data(as_text=True)
    response = admin.post("/admin/setting/edit/?id=sla_days_ksb", data={"value": "tiga minggu",
                                                                       "row_version": row_version(page)})
    assert "“Time limit of a KSB (days)”: Enter a whole number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Setting, "sla_days_ksb").value == "21"


def test_working_day_arithmetic_matches_the_calendar_across_new_year():
    # 31 Dec 2026 (Thu) + 1 working day: 1 Jan is New Year's Day, so Friday 1 Jan is skipped -> Mon 4 Jan.
    assert add_days(date(2026, 12, 31), 1, working_days=True) == date(2027, 1, 4)


def _listed(client, query: str) -> set[str]:
    page = client.get("/admin/case/?" + query).get_data(as_text=True)
    return set(re.findall(r"KS/\d{4}/\d{4}", page))


def test_overdue_filter_lists_exactly_the_overdue_cases(app, login_as, users):
    today = local_today()
    with app.app_context():
        def case(received_days_ago, status="open", **kw):
            return make_case(received_date=today - timedelta(days=received_days_ago), status=status,
                             proposal_number=f"P/{received_days_ago}/{status}", **kw).registration_number
        overdue = case(22)                      # due yesterday
        due_today = case(21)                    # due today: not yet overdue
        case(40, status="done")                 # closed: never overdue
        held_late = case(30, status="on_hold")  # still open, past due
        soon = case(16)                         # due in 5 days
        later = case(2)                         # due in 19 days
        db.session.commit()
    client = login_as("kasubbag")
    assert _listed(client, "flt0_overdue_is=1") == {overdue, held_late}
    assert _listed(client, "flt0_due_within_days_days=7") == {due_today, soon}
    page = client.get("/admin/case/?flt0_overdue_is=1").get_data(as_text=True)
    assert page.count("overdue-mark") == 2  # overdue rows are visibly marked
    for path in ("/admin/", "/admin/figures/"):  # the supervisor's landing page and the section's figures
        dashboard = client.get(path).get_data(as_text=True)
        links = set(re.findall(r'href="(/admin/case/\?flt0_(?:overdue_is|due_within_days_days)=\d+)"', dashboard))
        assert links == {"/admin/case/?flt0_overdue_is=1", "/admin/case/?flt0_due_within_days_days=7"}  # both lists
        assert re.search(r'id="overdue-count">\s*2\s*<', dashboard)
    attention = dashboard[dashboard.index('id="attention"'):]
    assert overdue in attention and held_late in attention and soon in attention and later not in attention
    assert attention.index(overdue) > attention.index(held_late)  # most overdue first


def test_dashboard_figures(app, login_as, users):
    today = local_today()
    with app.app_context():
        make_case(current_step=3, proposal_number="D/1")
        make_case(current_step=3, proposal_number="D/2", agreement_type="PKS")
        make_case(current_step=9, proposal_number="D/3")
        done = make_case(proposal_number="D/4", received_date=today - timedelta(days=10))
        done.status, done.current_step = "done", 17
        from datetime import datetime, timezone
        done.closed_at = datetime.now(timezone.utc)
        db.session.commit()
    page = login_as("kabag").get("/admin/figures/").get_data(as_text=True)
    assert re.search(r'id="completed-count">\s*1\s*<', page)
    assert re.search(r'id="on-time">\s*100%\s*<', page)
    assert 'id="chart-steps"' in page and "<svg" in page
    steps_chart = page[page.index('id="chart-steps"'):page.index("</figure>", page.index('id="chart-steps"'))]
    # Each step by its title, its count as a link to the open cases at that step.
    assert re.search(r'>3\. Receive the draft from the OPD</th>.*?<a href="/admin/case/\?flt0_step_equals=3&amp;'
                     r'flt1_status_in_list=open,on_hold">2</a>', steps_chart, re.S)


def test_the_it_admin_gets_no_case_figures(app, login_as, users):
    page = login_as("admin").get("/admin/").get_data(as_text=True)
    assert 'id="overdue-count"' not in page


def test_the_clock_stands_still_on_hold(app, login_as, users):
    today = local_today()
    with app.app_context():
        # Received 30 days ago (due 9 days ago), but put on hold 15 days ago, 6 days before its due date.
        waiting = make_case(received_date=today - timedelta(days=30), status="on_hold",
                            held_since=today - timedelta(days=15), proposal_number="H/1").registration_number
        # Put on hold 2 days ago when it was already 7 days late.
        late = make_case(received_date=today - timedelta(days=30), status="on_hold",
                         held_since=today - timedelta(days=2), proposal_number="H/2").registration_number
        db.session.commit()
    client = login_as("kasubbag")
    assert _listed(client, "flt0_overdue_is=1") == {late}
    page = client.get("/admin/case/").get_data(as_text=True)
    row = page[page.index(waiting):page.index("</tr>", page.index(waiting))]
    assert "6 days left" in row
    row = page[page.index(late):page.index("</tr>", page.index(late))]
    assert "7 days overdue" in row
