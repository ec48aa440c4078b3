"""The panel in a real browser: Debian's Chromium, driven by Playwright, against a live server.

What only a browser shows: the login and case forms work with CSRF protection on, the select2
look-ups fetch and pick related records, every asset comes from the panel itself (it runs
offline on the city's intranet) and the screens speak Indonesian.

Needs /usr/bin/chromium (`apt-get install chromium`) and Playwright for Python
(`pip install -r requirements.txt`); without them the tests are skipped, except in CI
(CI=true), where a missing browser fails the run so that a skip never passes for a pass.
"""
import re
from datetime import date

import pytest
from sqlalchemy import select

from models import Case, StepEvent, User, db
from tests.browser_support import TRANSLATIONS, browser, new_context, serving, watch  # noqa: F401 (fixture)
from tests.browser_support import problems as _problems
from tests.factories import PASSWORD, make_party

# The case the staff member registers in the story, as typed into the form.
NEW_CASE = {
    "agreement_type": "KSB", "title": "KSB Magang mahasiswa dan penelitian terapan",
    "object": "Program magang mahasiswa di perangkat daerah", "proposal_number": "070/55/425.101/2026",
    "proposal_date": "2026-11-02", "received_date": "2026-11-03",
}


# -- fixtures (browser: one Chromium per module, from tests/browser_support.py) -------------------

@pytest.fixture()
def live_server(app):
    """The test app served over real HTTP on a free port, with CSRF protection on as in production."""
    with serving(app) as base_url:
        yield base_url


@pytest.fixture()
def page(browser, live_server):
    """A fresh browser tab (own cookies) that records every request it makes and every script error.

    The panel's Content-Security-Policy is on, as in production: a test fails at teardown on any
    CSP violation, script error or console error. Its own error pages (a deliberate 403 or 400)
    are the only console errors allowed: Chromium logs every document answered with 4xx."""
    context = new_context(browser)
    tabs = []
    context.on("page", lambda opened: watch(opened, tabs))  # second tabs are watched too
    tab = context.new_page()
    watch(tab, tabs)
    yield tab
    problems = [problem for watched in tabs for problem in _problems(watched)]
    context.close()
    assert problems == [], "the browser reported: " + "\n".join(problems)


@pytest.fixture()
def parties(app):
    """The counterparty and the OPD of the story, plus look-alikes the look-ups must not pick."""
    with app.app_context():
        made = {
            "subject": make_party("university", "Universitas Panca Marga"),
            "other_university": make_party("university", "Universitas Brawijaya"),
            "opd": make_party("opd", "Dinas Pendidikan dan Kebudayaan"),
            "other_opd": make_party("opd", "Dinas Kesehatan"),
        }
        db.session.commit()
        return {key: party.id for key, party in made.items()}


@pytest.fixture()
def staff(app, users) -> str:
    """The staff member of the stories, who works in Indonesian like every real account
    (the factories make English-speaking accounts for the message-id assertions)."""
    with app.app_context():
        db.session.get(User, users["staff"]).language = "id"
        db.session.commit()
    return "staff"


def our_catalogue() -> dict[str, str]:
    """msgid -> Indonesian msgstr of the panel's own strings (admin_app/translations/id/.../messages.po)."""
    from babel.messages.pofile import read_po

    path = TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as po:
        return {message.id: message.string for message in read_po(po) if isinstance(message.id, str) and message.id}


# -- steps of the stories --------------------------------------------------------------------------

def log_in(page, base_url: str, username: str) -> None:
    """Open the panel, get sent to the login form, log in, land on the role's first page."""
    page.goto(base_url + "/")
    assert re.search(r"/login\?next=", page.url), page.url
    assert page.locator("html").get_attribute("lang") == "id"  # a new visitor gets the Indonesian page
    token = page.locator('form.card input[name="csrf_token"]')
    assert token.count() == 1 and len(token.get_attribute("value")) > 20, "login form carries no CSRF token"
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator('form.card button[type="submit"]').click()
    page.wait_for_url(base_url + "/admin/")
    assert page.locator("#user-menu").is_visible()  # logged in, whichever page the role lands on


def open_case_list(page, base_url: str) -> None:
    """Kasus/Cases (top menu) -> Kasus/Cases (its dropdown), whatever the labels' wording."""
    case_link = page.locator('a.dropdown-item[href="/admin/case/"]')
    category = page.locator("#admin-navbar-collapse li.dropdown", has=case_link)
    category.locator(":scope > a.dropdown-toggle").click()
    category.locator(case_link).click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/admin/case/(\?.*)?$"))


def pick_in_select2(page, field_id: str, choice: str | re.Pattern, typed: str = "") -> str:
    """Open the select2 box of `field_id`, type `typed` into its search (the ajax look-ups),
    click the result `choice`; returns the label now shown."""
    page.locator(f"#s2id_{field_id} a.select2-choice").click()
    if typed:
        page.locator("#select2-drop input.select2-input").press_sequentially(typed, delay=30)
    page.locator("#select2-drop li.select2-result-selectable", has_text=choice).click()
    shown = page.locator(f"#s2id_{field_id} .select2-chosen").inner_text().strip()
    assert re.search(choice, shown) if isinstance(choice, re.Pattern) else shown == choice
    assert page.locator(f"#{field_id}").input_value() != ""
    return shown


def type_date(page, field_id: str, value: str) -> None:
    """Type a date as a user does and close the date picker that opened."""
    page.fill(f"#{field_id}", value)
    page.keyboard.press("Escape")
    page.locator("h4").first.click()  # click outside: the picker closes, the typed value stays
    assert page.locator(f"#{field_id}").input_value() == value


def open_create_form(page, base_url: str) -> None:
    """From any panel page: the case list through the menu, then its Create tab."""
    open_case_list(page, base_url)
    page.locator('.nav-tabs a.nav-link[href^="/admin/case/new/"]').click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/admin/case/new/"))
    token = page.locator('form.admin-form input[name="csrf_token"]')
    assert token.count() == 1 and len(token.get_attribute("value")) > 20, "case form carries no CSRF token"


def fill_case_form(page) -> None:
    """Fill every field of NEW_CASE the way a user does: clicking, typing, picking."""
    # Even the plain choice is a select2 box: the user clicks it and picks "KSB ...".
    pick_in_select2(page, "agreement_type", re.compile(r"^KSB\b"))
    page.fill("#title", NEW_CASE["title"])
    pick_in_select2(page, "subject", "Universitas Panca Marga", typed="Panca")
    page.fill("#object", NEW_CASE["object"])
    pick_in_select2(page, "opd", "Dinas Pendidikan dan Kebudayaan", typed="Pendidikan")
    page.fill("#proposal_number", NEW_CASE["proposal_number"])
    type_date(page, "proposal_date", NEW_CASE["proposal_date"])
    type_date(page, "received_date", NEW_CASE["received_date"])
    pick_in_select2(page, "assigned_to", "Pengguna staff", typed="staff")


def save_button(page):
    return page.locator('form.admin-form input[type="submit"].btn-primary')


def register_case(page, base_url: str) -> None:
    """The staff member's story up to the saved case, from the dashboard."""
    open_create_form(page, base_url)
    fill_case_form(page)
    save_button(page).click()
    page.wait_for_url(re.compile(re.escape(base_url) + r"/admin/case/details/\?id=\d+$"))


# -- the stories -----------------------------------------------------------------------------------

def test_staff_registers_a_case_through_the_browser(app, users, staff, parties, page, live_server, tmp_path):
    log_in(page, live_server, staff)
    register_case(page, live_server)

    # Registering lands on the new case's page, which says its number.
    assert page.locator(".alert-success").inner_text().strip().endswith("KS/2026/0001 telah didaftarkan.")
    header = page.locator("#case-header")
    number = header.locator("#case-number").inner_text().strip()
    assert re.fullmatch(r"KS/\d{4}/\d{4}", number) and number == "KS/2026/0001"
    assert NEW_CASE["title"] in header.inner_text()
    assert "Universitas Panca Marga" in header.inner_text() and "Dinas Pendidikan dan Kebudayaan" in header.inner_text()
    shot = tmp_path / "case-page.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot of the case page: {shot}")

    with app.app_context():
        case = db.session.execute(select(Case)).scalar_one()
        assert (case.registration_number, case.agreement_type, case.title, case.object, case.proposal_number) == (
            "KS/2026/0001", NEW_CASE["agreement_type"], NEW_CASE["title"], NEW_CASE["object"],
            NEW_CASE["proposal_number"])
        assert (case.proposal_date, case.received_date) == (date(2026, 11, 2), date(2026, 11, 3))
        assert (case.subject_id, case.opd_id, case.assigned_to_id, case.previous_case_id) == (
            parties["subject"], parties["opd"], users["staff"], None)
        assert (case.current_step, case.status) == (1, "open")
        event = db.session.execute(select(StepEvent).where(StepEvent.case_id == case.id)).scalar_one()
        assert (event.kind, event.actor_id) == ("register", users["staff"])


def test_the_story_works_with_csrf_on_and_loads_nothing_from_another_host(app, staff, parties, page, live_server):
    assert app.config["WTF_CSRF_ENABLED"] is True
    log_in(page, live_server, staff)
    register_case(page, live_server)
    assert page.locator(".alert-success").count() == 1

    assert page.requests, "no request recorded"
    foreign = [url for url in page.requests if not url.startswith(live_server + "/")]
    assert foreign == [], f"resources from other hosts (the intranet has no internet): {foreign}"
    assert page.failed == [], f"requests that failed: {page.failed}"
    assert page.script_errors == [], f"script errors: {page.script_errors}"


def test_a_form_posted_without_its_csrf_token_is_refused(app, staff, parties, page, live_server):
    """Proves the protection is really on in the browser tests: a tokenless save changes nothing."""
    log_in(page, live_server, staff)
    open_create_form(page, live_server)
    fill_case_form(page)
    page.locator('form.admin-form input[name="csrf_token"]').evaluate("input => input.remove()")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        save_button(page).click()
    assert posted.value.status == 400
    with app.app_context():
        assert db.session.execute(select(Case)).first() is None


def top_menu_labels(page) -> list[str]:
    menu = page.locator("#admin-navbar-collapse ul.navbar-nav.mr-auto > li > a.nav-link")
    labels = [text.strip() for text in menu.all_inner_texts()]
    assert labels and all(labels), f"empty top menu: {labels}"
    return labels


def test_the_case_list_speaks_indonesian_and_fits_the_screen(staff, page, live_server):
    log_in(page, live_server, staff)
    open_case_list(page, live_server)
    # Flask-Admin's own strings, from admin_app/translations/id/LC_MESSAGES/admin.po.
    tabs = page.locator("ul.nav-tabs")
    assert re.match(r"^Daftar\b", tabs.locator("a.nav-link.active").inner_text().strip())
    assert tabs.locator('a.nav-link[href^="/admin/case/new/"]').inner_text().strip() == "Tambah"
    assert page.locator('form[role="search"] button, form[role="search"] input[type="submit"]').first.inner_text() \
        .strip() == "Cari"
    # Usable: the navbar is expanded on one line at a desktop width and nothing scrolls sideways.
    assert page.locator("button.navbar-toggler").is_hidden()
    assert page.locator("nav.navbar").bounding_box()["height"] < 80
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("table.model-list").is_visible()


def test_the_top_menu_speaks_indonesian(staff, page, live_server):
    """Our own labels (Cases, Reference data, ...) come from messages.po, compiled to messages.mo."""
    catalogue = our_catalogue()
    if not catalogue:
        pytest.skip("no catalogue of the panel's own strings yet (admin_app/translations/id/LC_MESSAGES/messages.po)")
    log_in(page, live_server, staff)
    labels = top_menu_labels(page) + [page.locator("a.navbar-brand").inner_text().strip()]
    # A label still showing its English msgid while the catalogue says otherwise is untranslated;
    # a word that is the same in both languages (msgstr == msgid) is fine.
    untranslated = {label: catalogue[label] for label in labels if label in catalogue and catalogue[label] != label}
    compiled = (TRANSLATIONS / "id" / "LC_MESSAGES" / "messages.mo").exists()
    hints = []
    if not all(untranslated.values()):
        hints.append("fill in the empty msgstr in messages.po")
    if not compiled:
        hints.append("messages.mo is not compiled: pybabel compile -d admin_app/translations")
    assert not untranslated, (f"menu shown in English in the Indonesian UI: {untranslated} "
                              f"(label -> msgstr in messages.po); {'; '.join(hints)}")
    assert catalogue.get("Cases") in labels


# -- the procedure, the dashboard and the printed sheet ----------------------------------------------

def test_a_supervisor_advances_a_case_with_the_button_and_sees_why_a_step_is_refused(app, users, page,
                                                                                   live_server):
    from models import Disposition
    from tests.factories import make_case, make_document
    with app.app_context():
        db.session.get(User, users["kasubbag"]).language = "id"
        case = make_case(current_step=3)
        make_document(case, "opd_draft", "Draf dari OPD")
        db.session.commit()
        case_id = case.id
    log_in(page, live_server, "kasubbag")
    page.goto(f"{live_server}/admin/case/details/?id={case_id}")
    page.fill('#workflow .move-advance input[name="note"]', "Draf diterima lengkap")
    page.locator("#advance").click()
    page.wait_for_load_state()
    assert page.locator(".alert-success").count() == 1
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 4
    # Step 4 needs the disposition sheet: the button explains instead of moving.
    page.locator("#advance").click()
    page.wait_for_load_state()
    assert "lembar disposisi" in page.locator(".alert-danger").inner_text().lower()
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 4
        disposition = Disposition(case=db.session.get(Case, case_id), step=4, author_id=users["kabag"],
                                  to_user_id=users["kasubbag"], instruction="follow_up", note="Segera")
        db.session.add(disposition)
        db.session.commit()
        disposition_id = disposition.id
    # The disposition sheet prints on exactly one A4 page.
    page.goto(f"{live_server}/admin/disposition/sheet/?id={disposition_id}")
    assert page.locator("h1").inner_text() == "LEMBAR DISPOSISI"
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    assert page.locator(".toolbar").evaluate("e => getComputedStyle(e).display") == "block"
    page.emulate_media(media="print")
    assert page.locator(".toolbar").evaluate("e => getComputedStyle(e).display") == "none"


def test_a_second_tab_cannot_advance_the_case_again_and_a_supervisor_cancels_it(app, users, page, browser,
                                                                                 live_server):
    from tests.factories import make_case, make_document
    with app.app_context():
        case = make_case(current_step=2)
        for kind in ("plan", "opd_draft"):  # the next step's evidence is ready too
            make_document(case, kind)
        db.session.commit()
        case_id = case.id
    log_in(page, live_server, "kasubbag")
    second = page.context.new_page()  # the same session in a second tab
    for tab in (page, second):
        tab.goto(f"{live_server}/admin/case/details/?id={case_id}")
    page.locator("#advance").click()
    page.wait_for_load_state()
    second.locator("#advance").click()
    second.wait_for_load_state()
    assert "already moved by" in second.locator(".alert-danger").inner_text()
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 3
    # The kasubbag closes it as withdrawn: the browser asks for the category and the reason first.
    page.reload()
    page.locator("#cancel").click()
    assert page.locator(".alert").count() == 0  # the form's own required fields stopped it
    page.select_option('.move-cancel select[name="category"]', "withdrawn")
    page.fill('.move-cancel input[name="note"]', "Surat penarikan dari OPD")
    page.once("dialog", lambda dialog: dialog.dismiss())  # asked first: dismissed, nothing happens
    page.locator("#cancel").click()
    page.wait_for_timeout(300)
    with app.app_context():
        assert db.session.get(Case, case_id).status == "open"
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#cancel").click()
    assert page.locator(".alert-success").count() == 1
    assert page.locator("#cancel-reason").inner_text().endswith("Withdrawn by the OPD")
    assert page.locator("#advance").count() == 0
    with app.app_context():
        assert db.session.get(Case, case_id).status == "cancelled"


def test_the_dashboard_draws_its_charts(app, users, page, live_server):
    from tests.factories import make_case
    with app.app_context():
        db.session.get(User, users["kabag"]).language = "id"
        for number in range(3):
            make_case(current_step=2 + number, proposal_number=f"B/{number}")
        db.session.commit()
    log_in(page, live_server, "kabag")
    page.goto(f"{live_server}/admin/figures/")  # the section's figures, one link from My work
    bars = page.locator("#chart-steps rect")
    assert bars.count() == 17
    widths = [float(bars.nth(index).get_attribute("width").rstrip("%")) for index in range(17)]
    assert [index + 1 for index, width in enumerate(widths) if width > 0] == [2, 3, 4]
    assert page.locator("#chart-steps").bounding_box()["height"] > 100


# -- the agreement register -----------------------------------------------------------------------

def test_an_agreement_saved_with_an_empty_number_takes_the_next_register_number(app, staff, page, live_server):
    """The form says "leave empty for the next register number": the browser must let it be empty."""
    from models import Agreement
    from tests.factories import make_case
    with app.app_context():
        case = make_case(status="done", current_step=17)
        db.session.commit()
        case_id = case.id
    log_in(page, live_server, staff)
    page.goto(f"{live_server}/admin/agreement/new/?case={case_id}")
    number = page.locator("#number")
    assert number.input_value() == "" and number.get_attribute("required") is None
    assert page.locator("#signed_on").get_attribute("required") is not None  # the other fields stay required
    for field_id in ("signed_on", "valid_from"):
        page.fill(f"#{field_id}", "2026-11-02")
    page.fill("#valid_until", "2031-11-02")
    page.keyboard.press("Escape")
    page.fill("#parties", "Pemerintah Kota Probolinggo; Pemerintah Kabupaten Probolinggo")
    assert page.locator("form.admin-form").evaluate("form => form.checkValidity()")
    save_button(page).click()
    page.wait_for_url(re.compile(re.escape(live_server) + r"/admin/agreement/(\?.*)?$"))

    assert page.locator(".alert-success").inner_text().strip().endswith("Data berhasil ditambahkan.")
    row = page.locator("table.model-list tbody tr", has_text="Pemerintah Kota Probolinggo")
    assert row.locator("td.col-number").inner_text().strip() == "KSB/001/425.014/2026"
    with app.app_context():
        agreement = db.session.execute(select(Agreement)).scalar_one()
        assert (agreement.number, agreement.case_id) == ("KSB/001/425.014/2026", case_id)


# -- the Content-Security-Policy ------------------------------------------------------------------
# Every test above runs with the policy on and fails at teardown on any violation (the `page`
# fixture); these walk what the stories above do not touch.

def sign_in(page, base_url: str, username: str) -> None:
    """Log in from the login form, whatever the account's dashboard shows."""
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator('form.card button[type="submit"]').click()
    page.wait_for_url(base_url + "/admin/")


def test_the_policy_is_on_and_a_violation_is_caught(users, page, live_server):
    """The detector itself: a script or handler without this response's nonce is blocked and reported."""
    response = page.goto(live_server + "/login")
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    with page.expect_console_message(lambda message: message.text.startswith("CSP violation: script-src-elem")):
        ran = page.evaluate("""() => { const script = document.createElement('script');
            script.textContent = 'window.injected = true'; document.head.append(script);
            return window.injected === true; }""")
    assert ran is False
    with page.expect_console_message(lambda message: message.text.startswith("CSP violation: script-src-attr")):
        page.evaluate("""() => document.body.insertAdjacentHTML('beforeend',
            '<button id="injected" onclick="window.clicked = true">x</button>')""")
    page.locator("#injected").click()
    assert page.evaluate("window.clicked") is None
    # A nonce is good for one response only.
    page.reload()
    assert page.evaluate("document.querySelector('main') !== null")
    assert re.search(r"'nonce-([^']+)'", page.evaluate("""async () =>
        (await fetch('/login')).headers.get('content-security-policy')""")).group(1) != nonce

    assert any("CSP violation" in problem for problem in _problems(page))
    page.console_errors.clear()  # the violations were the point: the fixture's check passes


@pytest.mark.parametrize("role", ["kabag", "admin"])
def test_every_screen_of_the_role_loads_without_a_policy_violation(app, runner, page, live_server, monkeypatch,
                                                                    role):
    """Each list the role may see, its create form, the details and edit form of its first row, on the
    demo data (so the lists have rows, filters, actions and delete buttons); plus a 403 page."""
    from admin_app.permissions import CREATE, EDIT, LIST, PERMISSIONS
    from models import Role
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    sign_in(page, live_server, role)

    screens = {screen: rights[Role(role)] for screen, rights in PERMISSIONS.items()}
    visited = []
    for screen, letters in screens.items():
        if LIST not in letters:
            continue
        urls = [f"/admin/{screen}/"]
        response = page.goto(live_server + urls[0])
        assert response.status == 200, f"{urls[0]}: {response.status}"
        rows = page.locator("table.model-list")
        for kind in ("details", "edit") if EDIT in letters else ("details",):
            first = rows.locator(f'a[href*="/{screen}/{kind}/?id="]').first
            if first.count():
                urls.append(first.get_attribute("href"))
        if CREATE in letters:
            urls.append(f"/admin/{screen}/new/")
        for url in urls[1:]:
            response = page.goto(live_server + url if url.startswith("/") else url)
            assert response.status == 200, f"{url}: {response.status}"
        visited += urls
    assert len(visited) >= (25 if role == "kabag" else 10), visited

    forbidden = next(screen for screen, letters in screens.items() if LIST not in letters)
    response = page.goto(f"{live_server}/admin/{forbidden}/")
    assert response.status == 403 and page.locator("#error-message").is_visible()
    print(f"\n{role}: {len(visited)} screens without a violation")


def test_the_handlers_flask_admin_writes_inline_work_under_the_policy(app, users, page, live_server):
    """Flask-Admin's templates write onclick= handlers, which the policy blocks: the filter menu,
    "With selected", the delete button's confirmation and "Add" of inline forms still work."""
    from models import Disposition
    from tests.factories import make_case
    with app.app_context():
        open_case = make_case(current_step=2, title="KSB Terbuka", proposal_number="A/1")
        make_case(current_step=17, status="done", title="KSB Selesai", proposal_number="A/2")
        disposition = Disposition(case=open_case, step=2, author_id=users["kabag"], to_user_id=users["staff"],
                                  instruction="follow_up", note="Segera")
        db.session.add(disposition)
        db.session.commit()
        open_case_id, disposition_id = open_case.id, disposition.id
    sign_in(page, live_server, "kabag")

    # A list with filters: "Add filter" -> Status -> done -> Apply.
    page.goto(f"{live_server}/admin/case/")
    filters = page.locator(".field-filters")
    filters.locator("xpath=preceding-sibling::a").click()
    filters.locator("a.filter", has_text=re.compile(r"^Status$")).click()
    page.locator("#filter_form table.filters select.filter-val").select_option("done", force=True)  # a select2 box
    page.locator('#filter_form button[type="submit"]').first.click()
    page.wait_for_url(re.compile(r"flt\d+_"))
    assert page.locator("table.model-list tbody tr").all_inner_texts()[0].count("KSB Selesai") == 1
    assert "KSB Terbuka" not in page.locator("table.model-list").inner_text()

    # "With selected" -> Reassign opens the reassignment page for the ticked case.
    page.goto(f"{live_server}/admin/case/")
    page.locator(f'input.action-checkbox[value^="{open_case_id}:"]').check()
    actions = page.locator('.dropdown-menu:has(a[data-fa-onclick*="reassign"])')
    actions.locator("xpath=preceding-sibling::a").click()
    actions.locator('a[data-fa-onclick*="reassign"]').click()
    page.wait_for_load_state()
    assert page.locator("#reassign-form").is_visible()

    # The delete button asks first: cancelled, nothing happens; confirmed, the row is gone.
    page.goto(f"{live_server}/admin/disposition/")
    delete = page.locator(f'form.icon:has(input[name="id"][value="{disposition_id}"]) button')
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    page.wait_for_timeout(300)
    assert page.url.endswith("/admin/disposition/") and delete.count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        delete.click()
    assert page.locator(".alert-success").count() == 1
    with app.app_context():
        assert db.session.get(Disposition, disposition_id) is None

    # An edit form with inline attendees: "Add" adds one, its remove link (javascript:) removes it.
    page.goto(f"{live_server}/admin/meeting/new/?case={open_case_id}")
    inline = page.locator("form.admin-form div.inline-field").first
    added = inline.locator(":scope > .inline-field-list > .inline-field")
    before = added.count()
    inline.locator(':scope > .btn[id$="-button"]').click()
    assert added.count() == before + 1
    page.once("dialog", lambda dialog: dialog.accept())
    added.last.locator(".inline-remove-field").click()
    assert added.count() == before
    assert page.url.startswith(f"{live_server}/admin/meeting/new/")
