"""WCAG 2.1 AA on every screen of every role: axe-core (bundled by axe-playwright-python) finds no
violation of the WCAG 2.0 and 2.1 level A and AA rules.

The screens are those of tests/browser_support.crawl: the dashboard, every list, create form,
details and edit page the role may use, the case page and what it links to, the settings pages,
the 403 and 404 pages, and the login page. One browser for the module, each page opened once per role.
"""
import pytest

from tests.browser_support import (  # noqa: F401 (fixtures)
    ROLES,
    browser,
    crawl,
    demo_site,
    new_context,
    open_tab,
    sign_in,
    visit_login_page,
)

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


def violations(axe, tab) -> list[str]:
    """axe-core's WCAG 2.1 AA violations on the page shown in `tab`, one line per element."""
    results = axe.run(tab, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})
    found = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            found.append(f"{violation['id']} ({violation['impact']}) at {', '.join(map(str, node['target']))}: "
                         f"{summary[:300]}")
    return found


def report(failures: dict[str, list[str]]) -> str:
    return "\n".join(f"\n{screen}:\n  " + "\n  ".join(lines) for screen, lines in failures.items())


def test_axe_checks_and_reports_a_violation(axe, browser, demo_site):
    """The detector itself: an unlabelled input and an image without a text alternative fail."""
    context = new_context(browser)
    tab = open_tab(context)
    tab.goto(demo_site + "/login")
    tab.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend',
        '<input id="unlabelled" type="text"><img id="no-alt" src="/favicon.svg">')""")
    found = violations(axe, tab)
    context.close()
    assert any(line.startswith("label ") and "#unlabelled" in line for line in found), found
    assert any(line.startswith("image-alt ") and "#no-alt" in line for line in found), found


def test_the_login_and_not_found_pages_pass_axe(axe, browser, demo_site):
    context = new_context(browser)
    tab = open_tab(context)
    failures = {}

    def check(screen):
        found = violations(axe, tab)
        if found:
            failures[f"{screen.name} ({screen.url})"] = found

    visit_login_page(tab, demo_site, check)
    context.close()
    assert not failures, "axe-core found WCAG 2.1 AA violations:" + report(failures)


def test_the_page_language_is_in_the_served_html(browser, demo_site):
    """WCAG 3.1.1: a screen reader reads the page in its language from the HTML as served (a script
    setting it afterwards comes too late for some), on Flask-Admin screens, in the user's language."""
    import re

    def served_languages(context) -> dict[str, str]:
        pages = {url: context.request.get(demo_site + url).text() for url in ("/admin/", "/admin/party/", "/admin/user/")}
        assert not any("documentElement.lang" in html for html in pages.values())
        return {url: (re.search(r"<html lang=\"([a-z]+)\">", html) or [None, "none"])[1] for url, html in pages.items()}

    def switch_to(tab, code: str) -> None:
        tab.locator("#user-menu").click()
        with tab.expect_navigation():
            tab.locator(f'form[action$="/language/{code}"] button').click()

    context = new_context(browser)
    tab = open_tab(context)
    sign_in(tab, demo_site, "admin")
    in_indonesian = served_languages(context)
    switch_to(tab, "en")
    try:
        in_english = served_languages(context)
    finally:
        switch_to(tab, "id")  # the demo admin works in Indonesian for the other tests
        context.close()
    assert set(in_indonesian.values()) == {"id"}, in_indonesian
    assert set(in_english.values()) == {"en"}, in_english


@pytest.mark.parametrize("role", ROLES)
def test_every_screen_of_the_role_passes_axe(axe, browser, demo_site, role):
    context = new_context(browser)
    tab = open_tab(context)
    sign_in(tab, demo_site, role)
    failures, visited = {}, []

    def check(screen):
        visited.append(screen.name)
        found = violations(axe, tab)
        if found:
            failures[f"{screen.name} ({screen.url})"] = found

    wrong_links = crawl(tab, demo_site, role, check)
    context.close()
    print(f"\n{role}: {len(visited)} screens checked with axe-core: {', '.join(visited)}")
    assert len(visited) >= 8, visited
    assert not failures, f"axe-core found WCAG 2.1 AA violations as {role}:" + report(failures)
    assert not wrong_links, "links to pages the role may not use:\n" + "\n".join(wrong_links)


def _contrast(rgb_a: str, rgb_b: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""
    import re

    def luminance(rgb: str) -> float:
        channels = [int(value) / 255 for value in re.findall(r"\d+", rgb)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(rgb_a), luminance(rgb_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


FOCUSED = """() => {
    const element = document.activeElement, style = getComputedStyle(element);
    return {tag: element.tagName, id: element.id, cls: element.className, text: element.textContent.trim(),
            top: element.getBoundingClientRect().top, outline: style.outlineStyle,
            width: parseFloat(style.outlineWidth), color: style.outlineColor};
}"""


def test_the_first_tab_offers_a_skip_link_and_the_focus_ring_is_strong(browser, demo_site):
    """WCAG 2.4.1 and 2.4.7: the first Tab on a screen shows "Langsung ke isi", which jumps past the
    menu into <main>; from there every control Tab reaches wears a 3px ring of at least 3:1."""
    context = new_context(browser)
    tab = open_tab(context)
    sign_in(tab, demo_site, "kasubbag")
    tab.goto(demo_site + "/admin/case/")
    tab.keyboard.press("Tab")
    skip = tab.evaluate(FOCUSED)
    assert (skip["cls"], skip["text"]) == ("skip-link", "Langsung ke isi") and skip["top"] >= 0, skip
    tab.keyboard.press("Enter")
    assert tab.evaluate("() => document.activeElement.id") == "main-content"
    rings = []
    for _ in range(10):
        tab.keyboard.press("Tab")
        rings.append(tab.evaluate(FOCUSED))
    context.close()
    assert {ring["tag"] for ring in rings} >= {"A", "INPUT"}, rings  # tabs, filters, the search box, rows
    weak = [ring for ring in rings if ring["outline"] != "solid" or ring["width"] < 3
            or _contrast(ring["color"], "rgb(255, 255, 255)") < 3]
    assert not weak, weak
