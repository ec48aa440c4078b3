"""My work (Tugas saya): each role lands where its work is, over HTTP, on the real database."""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from models import Case, Disposition, Meeting, db
from models.sla import local_today
from tests.factories import make_case, make_user
from tests.helpers import count_queries, move

SCREENS = Path(__file__).resolve().parent.parent / "test-output" / "screens"


def _section(shown: str, section_id: str) -> str:
    """The HTML of one <section id=...> of the page ('' when it has none)."""
    start = shown.find(f'id="{section_id}"')
    if start < 0:
        return ""
    return shown[start:shown.index("</section>", start)]


def _rows(shown: str, section_id: str, kind: str = "case") -> list[int]:
    return [int(n) for n in re.findall(rf'data-{kind}="(\d+)"', _section(shown, section_id))]


def _badge(shown: str) -> int | None:
    match = re.search(r'id="nav-work-count">(\d+)<', shown)
    return int(match.group(1)) if match else None


@pytest.fixture()
def world(app, users):
    """Cases at staff steps: mine, unassigned, another officer's; and ones at supervisors' steps."""
    today = local_today()
    with app.app_context():
        other = make_user("staff", username="sari", full_name="Sari Dewi")
        made = {
            # Mine, due later than the unassigned one: mine still comes first.
            "mine": make_case(current_step=1, assigned_to_id=users["staff"], received_date=today - timedelta(days=2),
                              proposal_number="P/1"),
            "unassigned": make_case(current_step=2, received_date=today - timedelta(days=15), proposal_number="P/2"),
            "others": make_case(current_step=1, assigned_to_id=other.id, received_date=today, proposal_number="P/3"),
            # A Kasubbag step and a Kabag step, on cases whose officer is the staff member.
            "at_kasubbag": make_case(current_step=4, assigned_to_id=users["staff"], received_date=today,
                                     proposal_number="P/4"),
            "at_kabag": make_case(current_step=5, assigned_to_id=users["staff"], received_date=today,
                                  proposal_number="P/5"),
            "held": make_case(current_step=1, assigned_to_id=users["staff"], status="on_hold", held_since=today,
                              received_date=today, proposal_number="P/6"),
            "closed": make_case(current_step=17, assigned_to_id=users["staff"], status="done",
                                closed_at=datetime.now(timezone.utc), received_date=today, proposal_number="P/7"),
        }
        db.session.commit()
        return {key: case.id for key, case in made.items()} | {"other_staff": other.id}


def test_staff_lands_on_my_work_with_their_cases_first_then_the_unassigned(app, login_as, world):
    shown = login_as("staff").get("/admin/").get_data(as_text=True)
    assert "<h1" in shown and "My work" in shown
    assert _rows(shown, "work-cases") == [world["mine"], world["unassigned"]]
    # One click to where the work is done: the case shown at its workflow panel.
    assert f'href="/admin/case/details/?id={world["mine"]}#workflow"' in _section(shown, "work-cases")
    assert "You" in _section(shown, "work-cases") and "Unassigned" in _section(shown, "work-cases")
    assert _badge(shown) == 2
    assert re.search(r'id="my-work-total">2<', shown)
    # Registering a request is one click from here.
    assert 'id="register-case" href="/admin/case/new/"' in shown


def test_supervisors_see_the_cases_at_their_steps_whoever_is_the_officer(app, login_as, world):
    kasubbag = login_as("kasubbag").get("/admin/").get_data(as_text=True)
    assert _rows(kasubbag, "work-cases") == [world["at_kasubbag"]]
    kabag = login_as("kabag").get("/admin/").get_data(as_text=True)
    assert _rows(kabag, "work-cases") == [world["at_kabag"]]
    assert _badge(kabag) == 1


def test_a_disposition_to_me_appears_and_disappears_once_done(app, login_as, users, world):
    with app.app_context():
        personal = Disposition(case_id=world["mine"], step=1, author_id=users["kabag"], to_user_id=users["staff"],
                               instruction="follow_up", note="Segera telaah", due_date=local_today() + timedelta(days=3))
        to_role = Disposition(case_id=world["unassigned"], step=2, author_id=users["kabag"], to_role="staff",
                              instruction="study")
        elsewhere = Disposition(case_id=world["others"], step=1, author_id=users["kabag"],
                                to_user_id=world["other_staff"], instruction="study")
        db.session.add_all([personal, to_role, elsewhere])
        db.session.commit()
        ids = personal.id, to_role.id
    client = login_as("staff")
    shown = client.get("/admin/").get_data(as_text=True)
    assert _rows(shown, "work-dispositions", "disposition") == list(ids)  # dated first, undated after
    assert "Segera telaah" in shown and "3 days left" in _section(shown, "work-dispositions")
    assert _badge(shown) == 4
    response = client.post("/admin/disposition/action/", data={"action": "mark_done", "rowid": str(ids[0])},
                           follow_redirects=True)
    assert "1 disposition marked done." in response.get_data(as_text=True)
    shown = client.get("/admin/").get_data(as_text=True)
    assert _rows(shown, "work-dispositions", "disposition") == [ids[1]]
    assert _badge(shown) == 3


def test_a_case_sent_back_to_me_shows_as_returned_with_the_reason(app, login_as, users, world):
    with app.app_context():
        case_id = make_case(current_step=3, assigned_to_id=users["staff"], proposal_number="R/1").id
        db.session.commit()
    move(login_as("kasubbag"), case_id, "return", note="Rencana belum memuat anggaran", to_step=2)
    shown = login_as("staff").get("/admin/").get_data(as_text=True)
    returned = _section(shown, "work-returned")
    assert _rows(shown, "work-returned") == [case_id]
    assert "Rencana belum memuat anggaran" in returned and "Pengguna kasubbag" in returned
    assert "2. Compose the agreement plan" in returned
    assert case_id not in _rows(shown, "work-cases")  # listed once
    assert _badge(shown) == 3
    # Once the staff member completes the step again it is no longer "returned".
    with app.app_context():
        from tests.factories import make_document
        make_document(db.session.get(Case, case_id), "plan")
        db.session.commit()
    move(login_as("staff"), case_id, "advance")
    shown = login_as("staff").get("/admin/").get_data(as_text=True)
    assert _rows(shown, "work-returned") == [] and case_id in _rows(shown, "work-cases")


def test_meetings_to_hold_this_week_and_to_write_up(app, login_as, users, world):
    now = datetime.now(timezone.utc)
    with app.app_context():
        soon = Meeting(case_id=world["mine"], scheduled_at=now + timedelta(days=2), place="Aula Bagian")
        later = Meeting(case_id=world["mine"], scheduled_at=now + timedelta(days=20), place="Ruang Rapat")
        past = Meeting(case_id=world["at_kasubbag"], scheduled_at=now - timedelta(days=1), place="Ruang Rapat",
                       status="held")
        written = Meeting(case_id=world["at_kasubbag"], scheduled_at=now - timedelta(days=3), place="Aula",
                          status="held", minutes="Disepakati")
        others = Meeting(case_id=world["others"], scheduled_at=now + timedelta(days=1), place="Aula")
        db.session.add_all([soon, later, past, written, others])
        db.session.commit()
        ids = {"soon": soon.id, "past": past.id, "others": others.id}
    staff = login_as("staff").get("/admin/").get_data(as_text=True)
    assert _rows(staff, "work-meetings", "meeting") == [ids["past"], ids["soon"]]
    assert "Write the minutes" in staff and "To hold" in staff
    # The Kasubbag holds the meetings: every case's, unless another Kasubbag has the case.
    kasubbag = login_as("kasubbag").get("/admin/").get_data(as_text=True)
    assert _rows(kasubbag, "work-meetings", "meeting") == [ids["past"], ids["others"], ids["soon"]]


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_viewer_and_admin_get_no_my_work_and_no_link_to_a_refused_page(app, login_as, world, role):
    client = login_as(role)
    response = client.get("/admin/")
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert 'id="nav-work"' not in shown and "My work" not in shown and 'id="work-cases"' not in shown
    if role == "viewer":
        assert re.search(r'id="overdue-count">\d+<', shown)  # the section's figures
    else:
        assert 'id="shortcut-user"' in shown and 'id="shortcut-setting"' in shown and 'id="shortcut-auditlog"' in shown
    for href in set(re.findall(r'href="(/admin/[^"#]*)', shown)):
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


@pytest.mark.parametrize("role", ["staff", "kasubbag", "kabag"])
def test_no_link_of_my_work_is_refused(app, login_as, world, role):
    client = login_as(role)
    shown = client.get("/admin/").get_data(as_text=True)
    for href in set(re.findall(r'href="(/admin/[^"#]*)', shown)):
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_the_badge_is_on_every_page_and_the_same_count(app, login_as, world):
    client = login_as("staff")
    for path in ("/admin/case/", f"/admin/case/details/?id={world['mine']}", "/admin/meeting/"):
        assert _badge(client.get(path).get_data(as_text=True)) == 2, path


def test_my_work_does_not_load_every_case(app, login_as, users, world):
    """The shown's queries do not grow with the number of cases: counts and LIMITed lists."""
    def queries(role):
        client = login_as(role)
        client.get("/admin/")  # warm: the session's user, settings
        with app.app_context(), count_queries() as seen:
            assert client.get("/admin/").status_code == 200
        return seen[0]

    before = {role: queries(role) for role in ("staff", "kasubbag", "kabag")}
    with app.app_context():
        for n in range(30):
            make_case(current_step=1 + n % 17, assigned_to_id=users["staff"] if n % 2 else None,
                      proposal_number=f"B/{n}")
        db.session.commit()
    after = {role: queries(role) for role in ("staff", "kasubbag", "kabag")}
    assert after == before
    assert max(after.values()) <= 15, after


def test_the_supervisor_reassigns_from_an_officers_load(app, login_as, users, world):
    client = login_as("kasubbag")
    shown = client.get("/admin/").get_data(as_text=True)
    load = _section(shown, "officer-load")
    row = load[load.index(f'data-officer="{users["staff"]}"'):]
    row = row[:row.index("</tr>")]
    reassign = re.search(r'href="([^"]*reassign[^"]*)"', row).group(1).replace("&amp;", "&")
    form = client.get(reassign).get_data(as_text=True)
    ticked = sorted(int(n) for n in re.findall(r'type="checkbox" name="id" value="(\d+)"[^>]*checked', form))
    # The officer's open cases (on hold included), not the closed one.
    assert ticked == sorted(world[k] for k in ("mine", "at_kasubbag", "at_kabag", "held"))
    response = client.post("/admin/case/reassign/", data={"id": [str(world["mine"])], "url": "/admin/",
                                                         "assignee": str(world["other_staff"])})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    with app.app_context():
        assert db.session.get(Case, world["mine"]).assigned_to_id == world["other_staff"]
        assert db.session.get(Case, world["held"]).assigned_to_id == users["staff"]
    assert login_as("staff").get(reassign).status_code == 403


# -- screenshots of each role's landing shown, kept as test output ---------------------------------

@pytest.fixture()
def screenshots():
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


@pytest.mark.parametrize("role", ["staff", "kasubbag", "kabag", "viewer", "admin"])
def test_each_roles_landing_page_in_chromium(app, users, world, page, live_server, screenshots, role):
    from models import User
    from tests.factories import PASSWORD
    with app.app_context():
        for user in db.session.query(User):
            user.language = "id"
        db.session.add(Disposition(case_id=world["mine"], step=1, author_id=users["kabag"],
                                   to_user_id=users["staff"], instruction="follow_up"))
        db.session.commit()
    page.goto(live_server + "/login")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.locator('form.card button[type="submit"]').click()
    page.wait_for_url(live_server + "/admin/")
    if role in ("staff", "kasubbag", "kabag"):
        assert page.locator("h1").first.inner_text().startswith("Tugas saya")
        assert page.locator("#nav-work-count").inner_text() == page.locator("#my-work-total").inner_text()
    else:
        assert page.locator("#nav-work").count() == 0
    page.screenshot(path=str(screenshots / f"landing-{role}.png"), full_page=True)


from tests.test_browser import browser, live_server, page  # noqa: E402,F401,F811  (the Chromium fixtures)


def test_the_badge_is_kept_for_a_minute_and_counted_again_by_my_work_and_own_writes(app, login_as, users, monkeypatch):
    """Counting a user's work on every page would cost a scan of the backlog per page: the session
    keeps the count for WORK_BADGE_SECONDS; My work and the user's own writes count it at once."""
    staff = login_as("staff")
    with app.app_context():
        make_case(title="Kerja sama pertama")  # unassigned at step 1: waits for the staff
        db.session.commit()
    assert _badge(staff.get("/admin/").get_data(as_text=True)) == 1
    with app.app_context():
        make_case(title="Kerja sama kedua", proposal_number="X/2")  # registered by someone else meanwhile
        db.session.commit()
    assert _badge(staff.get("/admin/case/").get_data(as_text=True)) == 1  # kept: not counted again
    assert _badge(staff.get("/admin/").get_data(as_text=True)) == 2  # My work counts what waits now
    with app.app_context():
        make_case(title="Kerja sama ketiga", proposal_number="X/3")
        db.session.commit()
    monkeypatch.setitem(app.config, "WORK_BADGE_SECONDS", 0)  # from now on a count is kept no time at all
    staff.post("/admin/case/", data={})  # any write of the user's own (here a refused one)
    assert _badge(staff.get("/admin/case/").get_data(as_text=True)) == 3
    with app.app_context():
        make_case(title="Kerja sama keempat", proposal_number="X/4")
        db.session.commit()
    assert _badge(staff.get("/admin/case/").get_data(as_text=True)) == 4


def test_dispositions_to_me_and_to_my_role_read_soonest_due_first_undated_last(app, login_as, users, world):
    """Read as two index ranges (to the person, to the role) and merged: one order over both."""
    today = local_today()
    with app.app_context():
        made = [Disposition(case_id=world["mine"], step=1, author_id=users["kabag"], instruction="study", **who)
                for who in ({"to_role": "staff", "due_date": today + timedelta(days=4)},
                            {"to_user_id": users["staff"]},
                            {"to_user_id": users["staff"], "due_date": today + timedelta(days=6)},
                            {"to_role": "staff"},
                            {"to_role": "staff", "due_date": today + timedelta(days=1)},
                            {"to_user_id": users["staff"], "due_date": today + timedelta(days=2)})]
        db.session.add_all(made)
        db.session.commit()
        ids = [d.id for d in made]
    shown = login_as("staff").get("/admin/").get_data(as_text=True)
    assert _rows(shown, "work-dispositions", "disposition") == [ids[4], ids[5], ids[0], ids[2], ids[1], ids[3]]
