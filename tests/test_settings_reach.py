"""What a change of the SLA settings reaches: new cases at once, open cases only when an
administrator recomputes their due dates after seeing what would change; closed cases never."""
import re
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from models import AuditLog, Case, db
from tests.factories import make_case
from tests.helpers import row_version

REACH = "applies to cases registered afterwards"
RECEIVED = date(2026, 11, 2)  # a Monday: 21 calendar days -> 23 November, 14 -> 16 November


@pytest.fixture()
def settings(runner, app):
    runner.invoke(args=["seed"])  # creates the settings rows


def _change_setting(admin, key: str, value: str) -> None:
    page = admin.get(f"/admin/setting/edit/?id={key}").get_data(as_text=True)
    response = admin.post(f"/admin/setting/edit/?id={key}", data={"value": value, "row_version": row_version(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture()
def cases(app, settings) -> dict:
    """Registered under the seeded limits (KSB 21 days, PKS 30, calendar days), one of each kind."""
    with app.app_context():
        made = {
            "open": make_case(proposal_number="R/1"),
            "on_hold": make_case(proposal_number="R/2", status="on_hold", held_since=date(2026, 11, 10),
                                 hold_reason="waiting_opd_draft"),
            "held_before": make_case(proposal_number="R/3", days_on_hold=5),
            "pks": make_case(proposal_number="R/4", agreement_type="PKS"),
            "done": make_case(proposal_number="R/5", status="done", current_step=17,
                              closed_at=datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)),
            "cancelled": make_case(proposal_number="R/6", status="cancelled", cancel_reason="withdrawn",
                                   closed_at=datetime(2026, 11, 5, 3, 0, tzinfo=timezone.utc)),
        }
        db.session.commit()
        return {name: (case.id, case.registration_number) for name, case in made.items()}


def _due_dates(app) -> dict[int, date]:
    with app.app_context():
        return dict(db.session.execute(select(Case.id, Case.due_date)).all())


def _reviewed(page: str) -> str:
    match = re.search(r'name="reviewed" value="([0-9a-f]+)"', page)
    assert match, "the recompute page carries no confirmation form"
    return match.group(1)


def test_the_settings_list_and_the_sla_forms_say_what_a_change_reaches(app, login_as, settings):
    admin = login_as("admin")
    listing = admin.get("/admin/setting/").get_data(as_text=True)
    assert REACH in listing and 'href="/admin/setting/recompute/"' in listing
    for key in ("sla_days_ksb", "sla_days_pks", "sla_working_days"):
        assert REACH in admin.get(f"/admin/setting/edit/?id={key}").get_data(as_text=True), key
    assert REACH not in admin.get("/admin/setting/edit/?id=upload_max_mb").get_data(as_text=True)
    # A supervisor reads the settings and the note, but is not offered the recomputation.
    listing = login_as("kabag").get("/admin/setting/").get_data(as_text=True)
    assert REACH in listing and "/admin/setting/recompute/" not in listing


def test_a_new_limit_reaches_new_cases_and_leaves_open_ones_until_recomputed(app, login_as, cases):
    before = _due_dates(app)
    assert before[cases["open"][0]] == date(2026, 11, 23)
    _change_setting(login_as("admin"), "sla_days_ksb", "14")
    assert _due_dates(app) == before
    with app.app_context():
        later = make_case(proposal_number="R/7")
        db.session.commit()
        assert later.due_date == date(2026, 11, 16)


def test_the_recompute_page_counts_and_lists_the_open_cases_that_would_change(app, login_as, cases):
    admin = login_as("admin")
    _change_setting(admin, "sla_days_ksb", "14")
    before = _due_dates(app)
    page = admin.get("/admin/setting/recompute/").get_data(as_text=True)
    assert "3 open cases would get a new due date." in page
    sample = page[page.index('id="recompute-sample"'):]
    for name in ("open", "on_hold", "held_before"):
        assert cases[name][1] in sample, name
    for name in ("pks", "done", "cancelled"):  # a PKS limit did not change; closed cases are never listed
        assert cases[name][1] not in sample, name
    row = re.search(rf"{re.escape(cases['held_before'][1])}</td><td>([^<]+)</td>\s*<td>([^<]+)</td>", sample)
    assert row and row.groups() == ("Nov 28, 2026", "Nov 21, 2026"), row and row.groups()  # 21+5 -> 14+5 days
    assert _due_dates(app) == before  # looking changes nothing


def test_confirming_applies_the_new_due_dates_to_open_cases_only_and_audits_them(app, login_as, users, cases):
    admin = login_as("admin")
    _change_setting(admin, "sla_days_ksb", "14")
    before = _due_dates(app)
    reviewed = _reviewed(admin.get("/admin/setting/recompute/").get_data(as_text=True))
    response = admin.post("/admin/setting/recompute/", data={"reviewed": reviewed}, follow_redirects=True)
    assert "3 open cases got a new due date." in response.get_data(as_text=True)
    after = _due_dates(app)
    assert after[cases["open"][0]] == after[cases["on_hold"][0]] == date(2026, 11, 16)
    assert after[cases["held_before"][0]] == date(2026, 11, 21)
    for name in ("pks", "done", "cancelled"):
        assert after[cases[name][0]] == before[cases[name][0]], name
    with app.app_context():
        rows = db.session.execute(select(AuditLog).where(AuditLog.table_name == "cooperation_case",
                                                         AuditLog.action == "update")).scalars().all()
        assert {row.record_id: row.changes for row in rows} == {
            str(cases["open"][0]): {"due_date": ["2026-11-23", "2026-11-16"]},
            str(cases["on_hold"][0]): {"due_date": ["2026-11-23", "2026-11-16"]},
            str(cases["held_before"][0]): {"due_date": ["2026-11-28", "2026-11-21"]},
        }
        assert {row.actor_id for row in rows} == {users["admin"]}
    # Nothing is left to change; a second confirmation of the same page changes nothing more.
    assert "already has the due date" in admin.get("/admin/setting/recompute/").get_data(as_text=True)
    again = admin.post("/admin/setting/recompute/", data={"reviewed": reviewed}, follow_redirects=True)
    assert "nothing was changed" in again.get_data(as_text=True)
    assert _due_dates(app) == after


def test_a_confirmation_of_a_list_that_no_longer_holds_changes_nothing(app, login_as, cases):
    admin = login_as("admin")
    _change_setting(admin, "sla_days_ksb", "14")
    reviewed = _reviewed(admin.get("/admin/setting/recompute/").get_data(as_text=True))
    _change_setting(admin, "sla_working_days", "yes")  # in another tab, after the list was shown
    before = _due_dates(app)
    response = admin.post("/admin/setting/recompute/", data={"reviewed": reviewed}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "changed after the list was shown: nothing was changed" in page
    assert "would get a new due date" in page  # back on the review page, with the new figures
    assert _due_dates(app) == before


@pytest.mark.parametrize("role", ["kabag", "kasubbag", "staff", "viewer"])
def test_only_the_administrator_may_see_or_apply_the_recomputation(app, login_as, cases, role):
    admin = login_as("admin")
    _change_setting(admin, "sla_days_ksb", "14")
    reviewed = _reviewed(admin.get("/admin/setting/recompute/").get_data(as_text=True))
    before = _due_dates(app)
    other = login_as(role)
    assert other.get("/admin/setting/recompute/").status_code == 403
    assert other.post("/admin/setting/recompute/", data={"reviewed": reviewed}).status_code == 403
    assert _due_dates(app) == before


def test_the_anonymous_are_sent_to_log_in(client, cases):
    response = client.post("/admin/setting/recompute/", data={"reviewed": "x"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_confirmation_needs_its_csrf_token(app, login_as, cases):
    admin = login_as("admin")
    _change_setting(admin, "sla_days_ksb", "14")
    reviewed = _reviewed(admin.get("/admin/setting/recompute/").get_data(as_text=True))
    before = _due_dates(app)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert admin.post("/admin/setting/recompute/", data={"reviewed": reviewed}).status_code == 400
        page = admin.get("/admin/setting/recompute/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = admin.post("/admin/setting/recompute/", data={"reviewed": reviewed, "csrf_token": token})
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _due_dates(app) != before
