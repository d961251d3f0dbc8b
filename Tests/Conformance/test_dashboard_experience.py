"""The dashboard's languages, themes, keyboard, phone layout, reconnecting socket and accessibility, in Debian's
Chromium. Screenshots of every page (en and ru, light and dark, desktop and phone) go to .build/dashboard-screenshots/."""
import json
import os
import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from conftest import running_gateway
from dashboard_support import (  # noqa: F401  (fixtures)
    ADMIN_KEY, DESKTOP, PHONE, SCREENSHOTS, SlowUpstream, base, chat, dash, dashboard_env, graphql, new_page, sign_in)

I18N = os.path.join(os.path.dirname(__file__), "../../Dashboard/i18n")
DARK_BACKGROUND = "rgb(20, 22, 26)"
LIGHT_BACKGROUND = "rgb(246, 247, 249)"


def test_english_and_russian_have_the_same_keys_and_no_empty_string():
    en = json.load(open(os.path.join(I18N, "en.json")))
    ru = json.load(open(os.path.join(I18N, "ru.json")))
    assert set(en) == set(ru)
    assert all(v.strip() for v in [*en.values(), *ru.values()])
    # Every placeholder of a string is in its translation.
    assert {k: sorted(re.findall(r"\{\w+\}", v)) for k, v in en.items()} == {k: sorted(re.findall(r"\{\w+\}", v)) for k, v in ru.items()}


def untranslated(page):
    """Texts on the page that are i18n keys (a missing string shows as its key)."""
    return page.evaluate(r"""() => [...document.querySelectorAll('body *')].flatMap(e => [...e.childNodes])
        .filter(n => n.nodeType === 3 && /^[a-z]+\.[a-zA-Z.]+$/.test(n.textContent.trim())).map(n => n.textContent)""")


def test_the_language_follows_the_browser_and_the_switch_is_remembered(dash, new_page):
    w = new_page(locale="ru-RU")
    page = w.page
    page.goto(base(dash) + "/usage")
    expect(page.get_by_role("heading", name="Вход")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "ru"
    page.get_by_label("API-ключ").fill(ADMIN_KEY)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("link", name="Расход")).to_have_attribute("aria-current", "page")
    for path, ready in (("/usage", "#total-cost"), ("/jobs", "#jobs-total"), ("/settings", "#tenants-table"), ("/chat", ".notice")):
        page.goto(base(dash) + path)
        expect(page.locator(ready)).to_be_visible()
        assert untranslated(page) == [], path
    expect(page.locator("main")).to_contain_text("Ключ администратора не может вести чат")
    page.get_by_label("Язык").select_option("en")
    expect(page.get_by_role("link", name="Jobs")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.reload()
    expect(page.get_by_role("link", name="Usage")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_label("Language").select_option("ru")
    expect(page.get_by_role("link", name="Настройки")).to_be_visible()


# Recorded at the first frame, before any module script ran: what the user sees first.
FIRST_FRAME = """requestAnimationFrame(() => { window.__first = {
    theme: document.documentElement.dataset.theme,
    background: getComputedStyle(document.documentElement).backgroundColor }; });"""


def test_the_theme_is_remembered_and_applied_before_the_first_paint(dash, new_page):
    w = new_page(color_scheme="light")
    page = sign_in(w, dash, dash.key, "/jobs")
    page.add_init_script(FIRST_FRAME)
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == LIGHT_BACKGROUND
    page.get_by_label("Theme").select_option("dark")
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == DARK_BACKGROUND
    for _ in range(2):
        page.reload()
        page.wait_for_function("window.__first")
        assert page.evaluate("window.__first") == {"theme": "dark", "background": DARK_BACKGROUND}
        expect(page.get_by_label("Theme")).to_have_value("dark")
    page.get_by_label("Theme").select_option("system")
    assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == LIGHT_BACKGROUND

    # "System" follows the browser: a dark system gets the dark page at the first frame too.
    dark = new_page(color_scheme="dark")
    dark.page.add_init_script(FIRST_FRAME)
    dark.page.goto(base(dash) + "/")
    dark.page.wait_for_function("window.__first")
    assert dark.page.evaluate("window.__first") == {"theme": "system", "background": DARK_BACKGROUND}


def test_the_palette_and_the_pages_work_from_the_keyboard_with_visible_focus(dash, new_page):
    page = sign_in(new_page(), dash, dash.key, "/chat")
    page.keyboard.press("Control+k")
    palette = page.get_by_role("dialog", name="Command palette")
    expect(palette).to_be_visible()
    combo = page.get_by_role("combobox", name="Command palette")
    expect(combo).to_be_focused()
    page.keyboard.type("usage")
    expect(palette.get_by_role("option").first).to_have_text("Go to: Usage")
    expect(palette.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/usage$"))
    expect(palette).to_have_count(0)

    page.keyboard.press("Control+k")
    page.keyboard.type("theme")
    page.keyboard.press("ArrowDown")
    expect(palette.get_by_role("option", name="Theme: Dark")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"

    # A job by its id, typed into the palette.
    job_id = graphql(dash, dash.key, "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
                     {"i": {"type": "TEXT", "model": "stub/echo", "input": "find me"}})["createJob"]["id"]
    page.keyboard.press("Control+k")
    page.keyboard.type(job_id)
    expect(palette.get_by_role("option", name=f"Open job {job_id}")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/jobs/{job_id}$"))
    expect(page.locator("#job-status")).to_have_text("Completed")

    # Esc closes it and gives the focus back.
    page.get_by_role("link", name="Jobs", exact=True).focus()
    page.keyboard.press("Control+k")
    expect(palette).to_be_visible()
    page.keyboard.press("Escape")
    expect(palette).to_have_count(0)
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_be_focused()

    # Tab reaches the skip link first, then the header; the focused control has a visible ring.
    page.goto(base(dash) + "/usage")
    expect(page.locator("#total-cost")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    focused = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.textContent, s.outlineStyle, s.outlineWidth]; })()")
    assert focused[0] == "AI Aggregator" and focused[1] == "solid" and focused[2] == "3px"
    # A whole chat by keyboard: the input has the focus on arrival, Enter sends.
    page.goto(base(dash) + "/chat")
    expect(page.locator("#chat-input")).to_be_focused()
    page.keyboard.type("by keyboard")
    page.keyboard.press("Enter")
    expect(page.locator(".message.assistant .cost")).to_be_visible()


def test_at_390_px_nothing_overflows_and_the_navigation_folds_into_a_menu(dash, new_page):
    page = sign_in(new_page(viewport=PHONE, is_mobile=True, has_touch=True), dash, ADMIN_KEY, "/usage")
    for path, ready in (("/usage?preset=30d", "#total-cost"), ("/jobs", "#jobs-total"), ("/settings", "#tenants-table"), ("/chat", "#chat-input")):
        page.goto(base(dash) + path)
        expect(page.locator(ready)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        nav = page.locator("nav#nav")
        expect(nav).to_be_hidden()
        menu = page.get_by_role("button", name="Menu")
        menu.click()
        expect(nav).to_be_visible()
        expect(menu).to_have_attribute("aria-expanded", "true")
        # No two header controls overlap.
        boxes = [b for b in page.locator(".topbar > *:visible, .tools > *:visible").evaluate_all(
            "els => els.filter(e => !e.classList.contains('tools')).map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5, (path, a, b)
    # Wide tables scroll inside their frame instead of widening the page.
    page.goto(base(dash) + "/settings")
    wrap = page.locator("#prices-table").locator("xpath=..")
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'auto'")


def test_a_server_restart_shows_reconnecting_then_live_and_the_page_recovers(new_page):
    upstream = SlowUpstream()
    try:
        with running_gateway(dashboard_env(upstream)) as g:
            w = new_page()
            w.allow = [r"WebSocket connection to .* failed", r"Failed to load resource"]
            page = sign_in(w, g, g.key, "/jobs")
            indicator = page.locator(".live")
            expect(indicator).to_have_text("Live")
            assert g.stop() == 0
            expect(indicator).to_have_text("Reconnecting…")
            expect(indicator).to_have_attribute("data-state", "reconnecting")
            g.start()
            expect(indicator).to_have_text("Live", timeout=20000)
            # Subscribed again: a new job shows up live, without a reload.
            chat(g, g.key, "after the restart")
            expect(page.locator(".chip")).to_have_text("1 new — show")
    finally:
        upstream.stop()


PAGES = [("signin", None, "#key"), ("chat", "/chat", "#chat-input"), ("jobs", "/jobs", "#jobs-table tbody tr"),
         ("job", "JOB", "#job-result"), ("usage", "/usage?preset=7d", "#total-cost"), ("settings", "/settings", "#tenants-table")]


def test_every_page_in_both_themes_and_languages_has_no_serious_accessibility_violation(dash, new_page):
    """axe-core (from axe-playwright-python) on every page, light and dark, English and Russian, desktop and
    phone; each is also screenshotted for review. The new_page fixture fails the test on any console error
    or CSP violation."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    markdown = "Here is **Markdown**:\n\n```python\nprint('hi')\n```\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://example.org)"
    job_id = graphql(dash, dash.key, "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
                     {"i": {"type": "TEXT", "model": "stub/echo", "input": markdown}})["createJob"]["id"]
    axe = Axe()
    found = {}
    for lang, locale in (("en", "en-US"), ("ru", "ru-RU")):
        for theme in ("light", "dark"):
            for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                w = new_page(locale=locale, color_scheme=theme, viewport=viewport)
                page = w.page
                for name, path, ready in PAGES:
                    if name == "signin":
                        page.goto(base(dash) + "/")
                    else:
                        if name == "chat":
                            sign_in(w, dash, dash.key, "/chat")
                            page.locator("#chat-input").fill("A **short** answer with `code` and a [link](https://example.org).")
                            page.keyboard.press("Enter")
                            expect(page.locator(".message.assistant .cost")).to_be_visible()
                        elif name == "usage":
                            page.evaluate("sessionStorage.clear()")
                            sign_in(w, dash, ADMIN_KEY, path)
                        else:
                            page.goto(base(dash) + (f"/jobs/{job_id}" if path == "JOB" else path))
                    expect(page.locator(ready).first).to_be_visible()
                    page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}-{lang}-{theme}-{size}.png"), full_page=True, animations="disabled", caret="hide")
                    if size == "desktop":
                        results = axe.run(page).response
                        serious = [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
                                   for v in results["violations"] if v["impact"] in ("serious", "critical")]
                        if serious:
                            found[f"{name} {lang} {theme}"] = serious
    assert found == {}
    assert len([f for f in os.listdir(SCREENSHOTS) if f.endswith(".png")]) >= len(PAGES) * 8
