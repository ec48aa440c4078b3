"""Dashboards per role: every figure is a link to the list of exactly the rows it counts, charts are
ordered as their titles say, numbers are written the Indonesian way. Over HTTP, on the real database."""
import html
import re
from datetime import datetime, timedelta, timezone

import pytest

from models import Disposition, StepEvent, User, db
from models.sla import local_today
from tests.factories import make_case, make_user
from tests.helpers import count_queries

ROLES = ("kabag", "kasubbag", "staff", "viewer", "admin")


def _hrefs(page: str) -> set[str]:
    return {html.unescape(h) for h in re.findall(r'href="(/admin/[^"#]*)', page)}


def _listed(client, href: str) -> set[str]:
    """The registration numbers a case list shows (one page of 100 is plenty here)."""
    separator = "&" if "?" in href else "?"
    page = client.get(f"{href}{separator}page_size=100").get_data(as_text=True)
    return set(re.findall(r">(KS/\d{4}/\d{4})</a>", page))


def _figure(page: str, element_id: str) -> tuple[int, str]:
    """(the number, the link) of a figure shown as <a href=... id=...>N</a>."""
    match = re.search(rf'<a[^>]*href="([^"]+)"[^>]*id="{element_id}"[^>]*>\s*(\d+)\s*<', page)
    assert match, element_id
    return int(match.group(2)), html.unescape(match.group(1))


@pytest.fixture()
def section(app, users):
    """Two officers with open, due-soon and overdue cases; an unassigned one; a done one."""
    today = local_today()
    with app.app_context():
        sari = make_user("staff", username="sari", full_name="Sari Dewi, S.Kom.")
        staff = users["staff"]
        made = [
            make_case(assigned_to_id=staff, received_date=today - timedelta(days=30), proposal_number="A/1"),  # overdue
            make_case(assigned_to_id=staff, received_date=today - timedelta(days=18), proposal_number="A/2"),  # due soon
            make_case(assigned_to_id=staff, received_date=today, proposal_number="A/3", agreement_type="PKS"),
            make_case(assigned_to_id=sari.id, received_date=today - timedelta(days=40), proposal_number="A/4",
                      current_step=3),  # overdue
            make_case(assigned_to_id=sari.id, received_date=today - timedelta(days=50), proposal_number="A/5",
                      status="on_hold", held_since=today - timedelta(days=5), current_step=3),  # held when late
            make_case(received_date=today - timedelta(days=25), proposal_number="A/6"),  # unassigned, overdue
            make_case(assigned_to_id=staff, received_date=today - timedelta(days=10), proposal_number="A/7",
                      status="done", closed_at=datetime.now(timezone.utc)),
        ]
        db.session.add(Disposition(case=made[0], step=1, author_id=users["kabag"], to_user_id=staff,
                                   instruction="study"))
        db.session.add(Disposition(case=made[1], step=1, author_id=users["kabag"], to_role="kasubbag",
                                   instruction="study"))
        db.session.commit()
        return {"sari": sari.id, "numbers": [case.registration_number for case in made]}


@pytest.mark.parametrize("role", ROLES)
def test_every_link_of_each_roles_dashboard_opens_for_that_role(app, login_as, section, role):
    client = login_as(role)
    pages = [client.get("/admin/")]
    if role != "admin":
        pages.append(client.get("/admin/figures/"))
    else:
        assert client.get("/admin/figures/").status_code == 403
    for response in pages:
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "flt0_0" not in page and not re.search(r"flt\d+_\d+=", page)  # named filters only
        for href in _hrefs(page):
            assert client.get(href).status_code == 200, (role, href)


def test_the_overdue_figure_lists_exactly_what_it_counts(app, login_as, section):
    client = login_as("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    count, href = _figure(page, "overdue-count")
    n = section["numbers"]
    assert count == 4 and _listed(client, href) == {n[0], n[3], n[4], n[5]}
    count, href = _figure(page, "due-soon-count")
    assert count == 1 and _listed(client, href) == {n[1]}
    ksb, ksb_href = _figure(page, "open-ksb")
    pks, pks_href = _figure(page, "open-pks")
    assert (ksb, pks) == (5, 1) and _listed(client, pks_href) == {n[2]} and len(_listed(client, ksb_href)) == 5
    count, href = _figure(page, "completed-count")
    assert count == 1 and _listed(client, href) == {n[6]}


@pytest.mark.parametrize("role", ["kabag", "kasubbag"])
def test_each_officers_figures_list_exactly_their_cases(app, login_as, users, section, role):
    client = login_as(role)
    page = client.get("/admin/").get_data(as_text=True)
    load = page[page.index('id="officer-load"'):]
    load = load[:load.index("</section>")]
    n = section["numbers"]
    expected = {
        users["staff"]: {"open": {n[0], n[1], n[2]}, "due-soon": {n[1]}, "overdue": {n[0]}},
        section["sari"]: {"open": {n[3], n[4]}, "due-soon": set(), "overdue": {n[3], n[4]}},
        None: {"open": {n[5]}, "due-soon": set(), "overdue": {n[5]}},
    }
    for officer, figures in expected.items():
        marker = f'data-officer="{officer}"' if officer else 'id="load-unassigned"'
        row = load[load.index(marker):]
        row = row[:row.index("</tr>")]
        for figure, numbers in figures.items():
            match = re.search(rf'href="([^"]+)" class="load-{figure}[^"]*">(\d+)<', row)
            assert int(match.group(2)) == len(numbers), (officer, figure)
            assert _listed(client, html.unescape(match.group(1))) == numbers, (officer, figure)
    # Officers without cases are listed too (the Kasubbag), and the viewer and admin are not.
    assert f'data-officer="{users["kasubbag"]}"' in load
    assert f'data-officer="{users["viewer"]}"' not in load and f'data-officer="{users["admin"]}"' not in load


def test_staff_see_their_own_figures(app, login_as, users, section):
    client = login_as("staff")
    page = client.get("/admin/").get_data(as_text=True)
    n = section["numbers"]
    for element, numbers in (("own-open", {n[0], n[1], n[2]}), ("own-due-soon", {n[1]}), ("own-overdue", {n[0]})):
        count, href = _figure(page, element)
        assert count == len(numbers) and _listed(client, href) == numbers, element
    assert 'id="officer-load"' not in page


def test_dispositions_per_person_link_to_their_list(app, login_as, users, section):
    client = login_as("kabag")
    page = client.get("/admin/figures/").get_data(as_text=True)
    chart = page[page.index('id="chart-dispositions"'):page.index("</figure>", page.index('id="chart-dispositions"'))]
    links = re.findall(r'<th scope="row"[^>]*>([^<]+)</th>.*?<a href="([^"]+)">(\d+)<', chart, re.S)
    assert {(name.strip(), int(count)) for name, _, count in links} == {
        ("Pengguna staff", 1), ("Head of Sub-section (Kasubbag)", 1)}
    for name, href, count in links:
        listed = client.get(html.unescape(href)).get_data(as_text=True)
        assert len(re.findall(r'name="rowid"', listed)) == int(count), name


def test_the_step_column_shows_the_title_and_the_welcome_has_one_period(app, login_as, users, section):
    with app.app_context():
        db.session.get(User, users["kabag"]).full_name = "Budi Santoso, S.Kom."
        db.session.commit()
    page = login_as("kabag").get("/admin/figures/").get_data(as_text=True)
    attention = page[page.index('id="attention"'):]
    assert "3. Receive the draft from the OPD" in attention
    assert not re.search(r"<td>\d+</td>", attention)
    landing = login_as("kabag").get("/admin/").get_data(as_text=True)
    assert "Budi Santoso, S.Kom." in landing and "S.Kom.." not in landing
    with app.app_context():
        db.session.get(User, users["admin"]).full_name = "Admin TI, S.Kom."
        db.session.commit()
    assert "S.Kom.." not in login_as("admin").get("/admin/").get_data(as_text=True)


def _step_visits(app, visits: dict[int, list[float]]):
    """Cases whose history spent the given days at each step (within the last 12 months)."""
    start = datetime.now(timezone.utc) - timedelta(days=60)
    with app.app_context():
        for index, days in enumerate(zip(*visits.values())):
            case = make_case(proposal_number=f"M/{index}", created_at=start)
            at = start
            for (step_number, _), spent in zip(visits.items(), days):
                at = at + timedelta(days=spent)
                db.session.add(StepEvent(case=case, kind="advance", from_step=step_number,
                                         to_step=step_number + 1, at=at))
            case.current_step = step_number + 1
        db.session.commit()


def test_where_cases_wait_longest_is_sorted_longest_first_in_indonesian_decimals(app, login_as, users):
    # Step 1: 1.0 and 2.6 days (mean 1.8); step 2: 3 and 5 (mean 4); step 3: 0.5 and 0.5.
    _step_visits(app, {1: [1.0, 2.6], 2: [3.0, 5.0], 3: [0.5, 0.5]})
    with app.app_context():
        db.session.get(User, users["kabag"]).language = "id"
        db.session.commit()
    page = login_as("kabag").get("/admin/figures/").get_data(as_text=True)
    chart = page[page.index('id="chart-days"'):page.index("</figure>", page.index('id="chart-days"'))]
    assert "<figcaption" in chart
    rows = re.findall(r'<th scope="row"[^>]*>(\d+)\.[^<]*</th>.*?<a href="[^"]+">([\d,]+) hari</a>', chart, re.S)
    assert rows == [("2", "4"), ("1", "1,8"), ("3", "0,5")]
    assert "1.8" not in chart


def test_the_dashboard_does_not_load_every_case(app, login_as, users, section):
    def queries():
        client = login_as("kabag")
        client.get("/admin/figures/")
        with app.app_context(), count_queries() as seen:
            assert client.get("/admin/figures/").status_code == 200
        return seen[0]

    before = queries()
    with app.app_context():
        for n in range(30):
            make_case(current_step=1 + n % 17, proposal_number=f"Q/{n}",
                      received_date=local_today() - timedelta(days=n))
        db.session.commit()
    assert queries() == before <= 20
