"""The Key Times page in real Chromium: a row edited in place (htmx, by keyboard), and
the same without JavaScript."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_on
from tests.key_times.key_time_fixtures import add_key_time

PAGE = "/key-times/?series=2026-06&on=2026-06-02"


def mark_page(page):
    """Tag the loaded document, to tell later whether the browser loaded a new one."""
    page.evaluate("window.sameDocument = true")


def still_same_document(page) -> bool:
    return page.evaluate("window.sameDocument === true")


def test_edit_a_key_time_in_place_by_keyboard(page, sign_in, make_user, make_centre, db, axe_check):
    make_centre()  # GB, on Europe/London
    add_key_time(db, "GB", am="09:00")
    sign_in(make_user("admin").email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    menu = page.get_by_role("navigation", name="Main menu")
    menu.locator("summary", has_text="Key Times").click()  # the section's dropdown
    menu.get_by_role("link", name="Key Times", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Key times")
    page.goto(PAGE)
    row = page.locator("#key-time-GB")
    am = row.get_by_role("cell").nth(2)
    expect(am).to_contain_text("09:00 local")
    expect(am.locator(".utc")).to_have_text("08:00 UTC")  # BST on 2 June
    axe_check("the Key Times page")
    mark_page(page)

    edit = row.get_by_role("button", name="Edit key times for Britain (UK)")
    edit.focus()
    page.keyboard.press("Enter")
    field = page.get_by_label("AM local time")
    expect(field).to_be_focused()  # the form opens in place, ready to type
    expect(field).to_have_value("09:00")
    axe_check("the Key Times page with a row's form open")
    page.keyboard.press("Control+A")
    page.keyboard.type("10:00")
    page.keyboard.press("Enter")

    expect(am.locator(".utc")).to_have_text("09:00 UTC")
    expect(am).to_contain_text("10:00 local")
    expect(row.get_by_role("status")).to_have_text("Key times for Britain (UK) saved.")
    assert still_same_document(page)
    # The keyboard is back on the row's Edit button.
    expect(row.get_by_role("button", name="Edit key times for Britain (UK)")).to_be_focused()

    # Open it again and Cancel: the row as it was, no page load.
    page.keyboard.press("Enter")
    expect(page.get_by_label("AM local time")).to_be_focused()
    page.get_by_label("AM local time").fill("11:00")
    page.get_by_role("button", name="Cancel").focus()
    page.keyboard.press("Enter")
    expect(am.locator(".utc")).to_have_text("09:00 UTC")
    assert still_same_document(page)

    # A time of day that is not one: the error in the row, and nothing saved.
    row.get_by_role("button", name="Edit key times for Britain (UK)").click()
    page.get_by_label("AM local time").fill("25:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    expect(page.locator("#key-time-GB-am-error")).to_have_text(
        "“25:00” is not a time of day (HH:MM, 24-hour)."
    )
    assert still_same_document(page)


def test_without_javascript_the_row_is_edited_on_its_own_page(
    no_js_page, make_user, make_centre, db
):
    page = no_js_page
    make_centre()
    add_key_time(db, "GB", am="09:00")
    sign_in_on(page, make_user("admin").email)
    page.goto(PAGE)
    page.locator("#key-time-GB").get_by_role(
        "button", name="Edit key times for Britain (UK)"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Edit key times for Britain (UK), June 2026"
    )
    page.get_by_label("AM local time").fill("10:00")
    page.get_by_label("AM published GMT").fill("09:00")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/key-times/\?series=2026-06&on=2026-06-02#key-time-GB$"))
    expect(page.get_by_role("status").first).to_have_text("Key times for Britain (UK) saved.")
    am = page.locator("#key-time-GB").get_by_role("cell").nth(2)
    expect(am.locator(".utc")).to_have_text("09:00 UTC")
    expect(am).to_contain_text("Published 09:00 GMT")


def test_add_a_zone_row_the_zones_following_the_country(page, sign_in, make_user, db):
    add_key_time(db, "GB", am="09:00")
    sign_in(make_user("admin").email)
    page.goto(PAGE)
    form = page.get_by_role("region", name="Add a row")
    zones = form.get_by_label("Time zone")
    expect(zones.locator("option", has_text="Europe/London")).to_have_count(1)  # every zone
    form.get_by_label("Country").select_option("US")
    # htmx swaps in the United States' zones only.
    expect(zones.locator("option", has_text="Europe/London")).to_have_count(0)
    form.get_by_label("Time zone").select_option("America/Chicago")
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Edit key times for United States, America/Chicago, June 2026"
    )
    expect(page.get_by_role("status").first).to_have_text(
        "Row added for United States, America/Chicago. Enter its key times below."
    )
