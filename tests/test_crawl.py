"""Every screen of every role, in Indonesian, in Chromium at the office's 1366x768: no English text
the catalogue translates, no "None", no script or console error or CSP violation, no sideways
scroll; a full-page screenshot of each screen is kept in test-output/screens/<role>/<screen>.png.

The screens are those of tests/browser_support.crawl over the demo data (`flask seed --demo`):
the dashboard, every list, create form, details and edit page the role may use, the case page
and what it links to, the settings pages, the 403 and 404 pages, and the login page.
"""
import re
from functools import cache

import pytest

from tests.browser_support import (  # noqa: F401 (fixtures)
    ROLES,
    SCREEN,
    SCREENSHOTS,
    TRANSLATIONS,
    browser,
    crawl,
    demo_site,
    full_page_screenshot,
    new_context,
    open_tab,
    problems,
    sign_in,
    visit_login_page,
)

# English message ids that are also Indonesian words or names, or too short to tell apart.
SAME_IN_BOTH = {"OPD", "KSB", "PKS", "Email", "E-mail", "ID", "Admin", "Status", "Agenda", "Total", "Data",
                "Login", "Username", "Password", "Filter", "Media", "Website", "Fax", "Nota Dinas"}
# What every screen shows as text, besides the rendered text: attributes a user reads or hears.
SHOWN_TEXT = """() => {
    const shown = [document.body.innerText, document.title];
    for (const element of document.querySelectorAll("[title], [placeholder], [aria-label]")) {
        for (const name of ["title", "placeholder", "aria-label"]) {
            if (element.hasAttribute(name)) shown.push(element.getAttribute(name));
        }
    }
    // A button input shows its value; a <button>'s value is sent, never shown.
    for (const element of document.querySelectorAll("input[type=submit], input[type=button], input[type=reset]")) {
        shown.push(element.value);
    }
    for (const option of document.querySelectorAll("option")) shown.push(option.textContent);
    return shown;
}"""
# How far the page, or a list inside its scroll box (Bootstrap's .table-responsive), runs off to the right.
SIDEWAYS = """() => Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth,
    ...[...document.querySelectorAll(".table-responsive")].map(box => box.scrollWidth - box.clientWidth))"""
NONE = re.compile(r"\bNone\b")
# Internal names: a snake_case key or column (sla_working_days), a model.attribute path (case.title).
# Not an e-mail address, a web address or a file name.
INTERNAL = re.compile(r"(?<![\w@./-])(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z_]+\.(?!(?:pdf|docx?|xlsx?|odt|png|jpe?g|csv|txt|zip)\b)[a-z_]{3,})(?![\w@/-]|\.\w)")


def _catalogue(name: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    path = TRANSLATIONS / "id" / "LC_MESSAGES" / name
    with path.open("rb") as po:
        entries = {}
        for message in read_po(po):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in ids:
                if msgid:
                    entries[msgid] = strings[0] or ""
        return entries


def _pattern(msgid: str) -> str:
    """The msgid as a regular expression: a number placeholder (%(num)d) stands for a number,
    a text placeholder (%(name)s) for any text."""
    pattern = ""
    for part in re.split(r"(%(?:\([a-z_]+\))?[sdf])", msgid):
        if re.fullmatch(r"%(?:\([a-z_]+\))?[df]", part):
            pattern += r"\d[\d.,]*"
        elif re.fullmatch(r"%(?:\([a-z_]+\))?s", part):
            pattern += r".+?"
        else:
            pattern += re.escape(part)
    return pattern


@cache
def english() -> tuple[re.Pattern, re.Pattern, dict[str, str]]:
    """The English the catalogues translate (ours in messages.po, Flask-Admin's in admin.po): one
    pattern for a whole text segment equal to a msgid, one for a msgid of two words or more inside
    a segment, and msgid -> msgstr. Left out: what reads the same in Indonesian (msgid equal to its
    msgstr, or to the msgstr of another entry), the names in SAME_IN_BOTH, and ids under 4 letters."""
    catalogue = {**_catalogue("admin.po"), **_catalogue("messages.po")}
    indonesian = {text.strip().casefold() for text in catalogue.values()}
    known = {}
    for msgid, msgstr in catalogue.items():
        text = " ".join(msgid.split())
        literal = re.sub(r"%(?:\([a-z_]+\))?[sdf]", " ", text)
        if (not msgstr or msgstr.strip() == msgid.strip() or text in SAME_IN_BOTH
                or text.casefold() in indonesian or len(re.sub(r"\W", "", literal)) < 4):
            continue
        known[text] = msgstr
    whole = sorted(known, key=len, reverse=True)
    inside = [msgid for msgid in whole
              if len(re.findall(r"[A-Za-z]{2,}", re.sub(r"%(?:\([a-z_]+\))?[sdf]", " ", msgid))) >= 2]
    # Case matters: "staff" and "viewer" are demo user names, "Staff" and "Viewer" English labels.
    return (re.compile("^(?:" + "|".join(map(_pattern, whole)) + ")$"),
            re.compile(r"\b(?:" + "|".join(map(_pattern, inside)) + r")(?![\w-])"), known)


def segments(texts: list[str]) -> list[str]:
    """Lines and table cells of the shown texts, without a field's trailing colon or required star."""
    found = []
    for text in texts:
        for segment in re.split(r"[\n\t]+", text or ""):
            segment = re.sub(r"[\s:*]+$", "", " ".join(segment.split()))
            if segment:
                found.append(segment)
    return found


def english_in(texts: list[str]) -> list[str]:
    """Each shown text segment that is (or holds) a translated English msgid, with its msgstr."""
    whole, inside, known = english()
    found = []
    for segment in dict.fromkeys(segments(texts)):
        match = whole.match(segment) or inside.search(segment)
        if match:
            msgid = next((msgid for msgid in known if re.fullmatch(_pattern(msgid), match.group(0))),
                         match.group(0))
            found.append(f"English {segment!r} (catalogue: {msgid!r} -> {known.get(msgid, '?')!r})")
    return found


def check_screen(tab, role: str | None, screen) -> list[str]:
    """What is wrong with the screen shown in `tab`; its full-page screenshot is kept on the way
    (in test-output/screens/<role>/<screen>.png; role None: no screenshot)."""
    if role:
        full_page_screenshot(tab, SCREENSHOTS / role / f"{screen.name}.png")
    texts = tab.evaluate(SHOWN_TEXT)
    wrong = english_in(texts)
    for segment in dict.fromkeys(segments(texts)):
        if NONE.search(segment):
            wrong.append(f"'None' in {segment!r}")
        for name in INTERNAL.findall(segment):
            wrong.append(f"internal name {name!r} in {segment!r}")
    wrong += problems(tab)
    sideways = tab.evaluate(SIDEWAYS)
    if sideways > 0:
        wrong.append(f"scrolls sideways by {sideways}px at {SCREEN['width']}x{SCREEN['height']}")
    return wrong


def report(failures: dict[str, list[str]]) -> str:
    return "\n".join(f"\n{screen}:\n  " + "\n  ".join(lines) for screen, lines in failures.items())


def test_the_checks_catch_english_none_and_a_sideways_scroll(browser, demo_site):
    """The detectors themselves, on the login page with English planted into it."""
    context = new_context(browser, height=SCREEN["height"])
    tab = open_tab(context)
    tab.goto(demo_site + "/login")
    assert check_screen(tab, None, None) == []
    tab.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<p>Log in</p><p>Tahap 3 · Save</p><button title="Add Filter">x</button><p>Dari: None</p>'
        + '<p>Cari: No. surat, case.title</p><p>sla_working_days harus angka</p>'
        + '<p>humas@upm.ac.id, www.probolinggokota.go.id, draf_final.pdf</p>'
        + '<p class="text-nowrap">' + 'x'.repeat(400) + '</p>')""")
    tab.evaluate("() => console.error('planted')")
    wrong = check_screen(tab, None, None)
    context.close()
    joined = "\n".join(wrong)
    assert "English 'Log in'" in joined and "English 'Add Filter'" in joined, joined
    assert "'None' in 'Dari: None'" in joined and "console error: planted" in joined, joined
    assert "scrolls sideways" in joined, joined
    assert "internal name 'case.title'" in joined and "internal name 'sla_working_days'" in joined, joined
    assert "upm" not in joined and "probolinggokota" not in joined and "draf_final" not in joined, joined
    assert "Tahap 3" not in joined  # "Save" alone inside a longer Indonesian line is not flagged


def test_the_login_and_not_found_pages(browser, demo_site):
    context = new_context(browser, height=SCREEN["height"])
    tab = open_tab(context)
    failures = {}

    def check(screen):
        wrong = check_screen(tab, "anonymous", screen)
        if wrong:
            failures[f"{screen.name} ({screen.url})"] = wrong

    visit_login_page(tab, demo_site, check)
    context.close()
    assert not failures, "the crawl found:" + report(failures)


@pytest.mark.parametrize("role", ROLES)
def test_every_screen_of_the_role_speaks_indonesian_and_fits_the_screen(browser, demo_site, role):
    context = new_context(browser, height=SCREEN["height"])
    tab = open_tab(context)
    sign_in(tab, demo_site, role)
    failures, visited = {}, []

    def check(screen):
        visited.append(screen.name)
        wrong = check_screen(tab, role, screen)
        if wrong:
            failures[f"{screen.name} ({screen.url})"] = wrong

    wrong_links = crawl(tab, demo_site, role, check)
    context.close()
    print(f"\n{role}: {len(visited)} screens crawled, screenshots in {SCREENSHOTS / role}")
    assert len(visited) >= 8, visited
    assert not failures, f"the crawl as {role} found:" + report(failures)
    assert not wrong_links, "links to pages the role may not use:\n" + "\n".join(wrong_links)


@pytest.mark.parametrize("role", ["staff", "kasubbag"])
def test_the_case_list_shows_15_cases_on_a_1366x768_screen(browser, demo_site, role):
    context = new_context(browser, height=SCREEN["height"])
    tab = open_tab(context)
    sign_in(tab, demo_site, role)
    tab.goto(demo_site + "/admin/case/")
    rows = tab.locator("table.model-list tbody tr")
    assert rows.count() >= 20, "the demo data should fill more than a screen"
    on_screen = tab.evaluate("""() => [...document.querySelectorAll('table.model-list tbody tr')]
        .filter(row => row.getBoundingClientRect().bottom <= window.innerHeight).length""")
    heights = tab.evaluate("""() => [...document.querySelectorAll('table.model-list tbody tr')]
        .map(row => Math.round(row.getBoundingClientRect().height))""")
    (SCREENSHOTS / role).mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / role / "case-list-first-screen.png"))
    context.close()
    assert on_screen >= 15, f"{on_screen} cases within the first {SCREEN['height']}px; row heights {heights}"
