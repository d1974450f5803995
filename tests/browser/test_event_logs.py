"""Reports → Event Logs in real Chromium: filter with htmx (the address follows), page
older and newer, refuse a bad date beside its field; the same without JavaScript; no
sideways scrolling; axe finds nothing serious."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import Event


@pytest.fixture
def events(db):
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    db.session.add_all(
        Event(
            at=start + timedelta(minutes=n),
            action="login.failed" if n % 3 == 0 else "centre.updated",
            actor_email="a.rather.long.address.for.a.phone@example.com",
            ip="203.0.113.7" if n % 3 == 0 else "198.51.100.20",
            details={
                "number": "GB101",
                "changes": {"name": ["Riverside College of the Arts", "Riverside College"]},
            },
        )
        for n in range(130)
    )
    db.session.commit()


def event_rows(page):
    return page.locator("#event-results tbody tr")


def test_filter_and_page_with_htmx(page, sign_in, make_user, events, axe_check):
    sign_in(make_user("admin").email)
    page.goto("/reports/events")
    expect(page.get_by_role("heading", name="Event Logs", level=1)).to_be_visible()
    expect(event_rows(page)).to_have_count(50)
    axe_check("Event Logs")

    page.get_by_label("Kind of action").select_option("sign-ins")
    page.get_by_role("button", name="Filter").click()
    expect(event_rows(page)).to_have_count(45)  # 44 refused, and this admin's sign-in
    expect(page).to_have_url(re.compile(r"kind=sign-ins"))
    expect(page.get_by_role("cell", name="Sign-in refused").first).to_be_visible()

    page.get_by_label("Kind of action").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(event_rows(page)).to_have_count(50)
    page.get_by_role("link", name="Older").click()
    expect(event_rows(page)).to_have_count(50)
    expect(page).to_have_url(re.compile(r"before=\d+"))
    page.get_by_role("link", name="Older").click()
    expect(event_rows(page)).to_have_count(31)  # 130 and the sign-in
    page.get_by_role("link", name="Newer").click()
    expect(event_rows(page)).to_have_count(50)
    expect(page).to_have_url(re.compile(r"after=\d+"))

    page.get_by_label("From", exact=True).fill("2026-06-05")
    page.get_by_label("To", exact=True).fill("2026-06-01")
    page.get_by_role("button", name="Filter").click()
    error = page.locator("#filter-to-error")
    expect(error).to_have_text("The “to” date must be the same as or after the “from” date.")
    expect(page.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")
    axe_check("Event Logs with a refused filter")


def test_without_javascript(no_js_page, make_user, events):
    from tests.browser.conftest import sign_in_on

    page = no_js_page
    sign_in_on(page, make_user("admin").email)
    page.goto("/reports/events")
    page.get_by_label("IP address").fill("203.0.113.7")
    page.get_by_role("button", name="Filter").click()
    expect(event_rows(page)).to_have_count(44)
    page.get_by_label("IP address").fill("not an address")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#filter-ip-error")).to_have_text(
        "Enter an IP address, e.g. 203.0.113.7 or 2001:db8::1."
    )
    page.get_by_label("IP address").fill("")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Older").click()
    expect(event_rows(page)).to_have_count(50)


@pytest.mark.parametrize("width", (1280, 375))
def test_no_sideways_scrolling(page, sign_in, make_user, events, width):
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(make_user("admin").email)
    for path in ("/reports/events", "/"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        sideways = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not sideways, f"{path} scrolls sideways at {width} px"


def test_the_home_passes_axe(page, sign_in, make_user, events, axe_check):
    sign_in(make_user("admin").email)
    page.goto("/")
    expect(page.get_by_role("heading", name="Windows opening in the next 7 days")).to_be_visible()
    axe_check("the admin's Home")
