"""Browser fixtures: the app served on a free loopback port, driven by real Chromium.

Chromium is found at $CHROMIUM_PATH, else Debian's `chromium` on the PATH, else
Playwright's own download (`playwright install chromium`). Under CI=true a
missing browser fails the run; elsewhere the browser tests are skipped with the
reason, and `make test` prints how to install one.
"""

import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


ASSETS = frozenset({"stylesheet", "script", "image", "font"})


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@contextmanager
def serving(app):
    """Serve `app` on a free loopback port, on a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def live_server(app):
    with serving(app) as url:
        yield url


@pytest.fixture
def mail_live_server(mail_app):
    """`mail_app` served like `live_server`: its emails go to the `smtp_server`.

    A module whose tests need the mail makes it their `live_server`, so that
    `page`, `sign_in` and `fresh_page` open it:

        @pytest.fixture
        def live_server(mail_live_server):
            return mail_live_server
    """
    with serving(mail_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
    except PlaywrightError as error:
        playwright.stop()
        first_line = error.message.splitlines()[0]
        reason = f"no Chromium to drive ({first_line}); `make test` installs one"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab that fails the test on a JS error, a CSP violation, a
    failed stylesheet, script or image, or a server error behind an htmx request.
    (Pages and htmx requests may answer 4xx on purpose, a failed sign-in or a
    form with errors say: tests check what the user then sees.)"""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    problems = watch_for_problems(page)
    yield page
    context.close()
    assert problems == [], f"the browser reported errors: {problems}"


def watch_for_problems(page) -> list[str]:
    """Collect, in the list returned (also `page.reported_problems`), the JS errors,
    CSP violations, failed assets and server errors behind htmx requests of a tab."""
    problems = []

    def on_console(message):
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response):
        kind = response.request.resource_type
        if (kind in ASSETS and response.status >= 400) or (
            kind in ("xhr", "fetch") and response.status >= 500
        ):
            problems.append(f"{response.status} for {kind} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    page.reported_problems = problems  # a test that provokes an error takes it out
    return problems


@pytest.fixture
def no_js_page(browser, live_server):
    """A tab with JavaScript turned off (plain HTML forms and links only), with the
    checks of `page`."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    problems = watch_for_problems(page)
    yield page
    context.close()
    assert problems == [], f"the browser reported errors: {problems}"


@pytest.fixture
def fresh_page(browser, live_server):
    """Open another tab in a browser context of its own (its own cookies: signed
    out), with the checks of `page`: `second = fresh_page()`."""
    opened = []

    def open_page():
        context = browser.new_context(base_url=live_server)
        page = context.new_page()
        opened.append((context, watch_for_problems(page)))
        return page

    yield open_page
    for context, _ in opened:
        context.close()
    problems = [problem for _, tab_problems in opened for problem in tab_problems]
    assert problems == [], f"the browser reported errors: {problems}"


def sign_in_form(page):
    """The sign-in form of /login (the "Existing user" panel beside it has a
    "Username" field of its own)."""
    return page.locator("form").filter(has=page.get_by_role("button", name="Sign in", exact=True))


def sign_in_on(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, in this tab."""
    page.goto("/login")
    form = sign_in_form(page)
    form.get_by_label("Username").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


@pytest.fixture
def sign_in(page):
    def sign_in(email: str, password: str = PASSWORD) -> None:
        sign_in_on(page, email, password)

    return sign_in


@pytest.fixture
def axe_check(page):
    """Run axe on the current page; fail on any serious or critical violation."""
    axe = Axe()

    def check(where: str) -> None:
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], f"accessibility problems on {where}: {bad}"

    return check
