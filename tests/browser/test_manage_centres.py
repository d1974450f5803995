"""Manage Centres in real Chromium: active search, users on the centre page (with and
without JavaScript), inline add/delete, Undo Delete."""

import re

from playwright.sync_api import expect

from app.models import Centre, User
from tests.browser.conftest import sign_in_on


def admin_page(page, sign_in, make_user):
    sign_in(make_user("admin").email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")


def mark_page(page):
    """Tag the loaded document, to tell later whether the browser loaded a new one."""
    page.evaluate("window.sameDocument = true")


def still_same_document(page) -> bool:
    return page.evaluate("window.sameDocument === true")


def test_search_as_you_type_and_open_a_centre(page, sign_in, make_user, make_centre, axe_check):
    make_centre(
        number="IN301",
        name="Delhi Public School – Rohini",
        town="New Delhi",
        country="IN",
        timezone="Asia/Kolkata",
        zone=4,
    )
    make_centre(number="GB101", name="Hillside Academy", town="London")
    admin_page(page, sign_in, make_user)
    page.get_by_role("navigation", name="Main menu").get_by_text("Admin", exact=True).click()
    page.get_by_role("link", name="Manage Centres").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Browse and modify centres and users")
    axe_check("Manage Centres")
    mark_page(page)

    page.get_by_label("Search by centre number, name or town").press_sequentially("rohini")
    results = page.locator("#search-results")
    expect(results).to_contain_text("1 centre matching “rohini”.")
    expect(results.get_by_role("link", name="IN301")).to_be_visible()
    expect(results).not_to_contain_text("GB101")
    assert still_same_document(page)
    expect(page).to_have_url(re.compile(r"/admin/centres\?q=rohini"))

    results.get_by_role("link", name="IN301").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Details for IN301 – Delhi Public School – Rohini"
    )


def test_users_add_duplicate_and_delete(page, sign_in, make_user, make_centre, axe_check):
    centre = make_centre(number="IN301", name="Delhi Public School")
    make_user("centre", centre=centre, email="officer@example.com")
    make_user("tp", email="taken@example.com")
    admin_page(page, sign_in, make_user)

    response = page.goto(f"/admin/centres/{centre.id}")
    assert "officer@example.com" in response.text()  # in the page, not loaded after it
    users = page.locator("#centre-users")
    expect(users.get_by_role("cell", name="officer@example.com", exact=True)).to_be_visible()
    expect(page.get_by_text("Loading...")).to_have_count(0)
    axe_check("the centre details page")
    mark_page(page)

    page.get_by_label("Email address").fill("new.officer@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(users.get_by_role("status")).to_contain_text("Added new.officer@example.com.")
    new_row = users.get_by_role("row").filter(has_text="new.officer@example.com")
    expect(new_row).to_be_visible()
    expect(new_row.locator(".pin")).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{8}$"))
    expect(page.get_by_label("Email address")).to_have_value("")

    page.get_by_label("Email address").fill("TAKEN@example.com")
    page.get_by_role("button", name="Add", exact=True).click()
    error = users.locator("#email-error")
    expect(error).to_have_text("That email address is already in use by a staff account.")
    expect(error.get_by_role("link", name="a staff account")).to_have_attribute(
        "href", re.compile(r"^/admin/users#staff-\d+$")
    )
    expect(page.get_by_label("Email address")).to_have_value("TAKEN@example.com")

    page.once("dialog", lambda dialog: dialog.accept())
    users.get_by_role("button", name="Delete officer@example.com").click()
    expect(users.get_by_role("cell", name="officer@example.com", exact=True)).to_have_count(0)
    expect(new_row).to_be_visible()
    assert still_same_document(page)


def test_without_javascript_the_users_table_follows_add_new_pin_and_delete(
    no_js_page, make_user, make_centre
):
    page = no_js_page
    centre = make_centre(number="IN301", name="Delhi Public School")
    make_user("centre", centre=centre, email="officer@example.com")
    sign_in_on(page, make_user("admin").email)
    page.goto(f"/admin/centres/{centre.id}")
    users = page.get_by_role("region", name="Users for IN301")
    expect(users.get_by_role("cell", name="officer@example.com", exact=True)).to_be_visible()
    expect(page.get_by_text("Loading...")).to_have_count(0)

    users.get_by_label("Email address").fill("new.officer@example.com")
    users.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text(
        "Added new.officer@example.com. Their PIN is in the PIN column below."
    )
    expect(users.get_by_role("columnheader", name="PIN")).to_be_visible()
    row = users.get_by_role("row").filter(has_text="new.officer@example.com")
    pin = row.locator(".pin")
    expect(pin).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{8}$"))
    first_pin = pin.inner_text()

    row.get_by_role("button", name="New PIN for new.officer@example.com").click()
    expect(page.get_by_role("status").first).to_have_text(
        "new.officer@example.com has a new PIN: see the PIN column below."
    )
    expect(pin).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{8}$"))
    assert pin.inner_text() != first_pin

    users.get_by_role("button", name="Delete officer@example.com").click()
    page.get_by_role("button", name="Delete user").click()  # the confirmation page
    expect(page.get_by_role("status").first).to_have_text("User officer@example.com deleted.")
    expect(users.get_by_role("cell", name="officer@example.com", exact=True)).to_have_count(0)
    expect(row).to_be_visible()


def test_new_pin_in_place(page, sign_in, make_user, make_centre):
    centre = make_centre()
    make_user("centre", centre=centre, email="waiting@example.com", activated=False, pin="ABCD2345")
    admin_page(page, sign_in, make_user)
    page.goto(f"/admin/centres/{centre.id}")
    row = page.get_by_role("row").filter(has_text="waiting@example.com")
    expect(row.locator(".pin")).to_have_text("ABCD2345")
    row.get_by_role("button", name="New PIN for waiting@example.com").click()
    expect(row.get_by_role("status")).to_have_text("New PIN")
    expect(row.locator(".pin")).not_to_have_text("ABCD2345")


def test_delete_a_centre_then_undo_delete_and_save(page, sign_in, make_user, make_centre, db):
    centre = make_centre(number="GB101", name="Hillside Academy")
    admin_page(page, sign_in, make_user)
    page.goto(f"/admin/centres/{centre.id}")
    page.get_by_role("button", name="Delete").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Delete centre GB101 – Hillside Academy?"
    )
    page.get_by_role("button", name="Delete centre").click()

    banner = page.locator("#centre-status")
    expect(banner).to_contain_text(
        "Centre is deleted. This can be undone by clicking 'Undo Delete' and then saving."
    )
    deleted = page.get_by_text("Centre GB101 – Hillside Academy deleted.")
    expect(deleted).to_be_visible()
    mark_page(page)
    banner.get_by_role("button", name="Undo Delete").click()
    expect(banner).to_have_text("Delete Undone (pending save)")
    expect(deleted).to_have_count(0)  # only the pending banner now
    expect(page.get_by_text("Centre is deleted.")).to_have_count(0)
    assert still_same_document(page)
    db.session.rollback()
    assert db.session.get(Centre, centre.id).deleted_at is not None  # not until Save

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Centre GB101 – Hillside Academy restored."
    )
    expect(page.locator("#centre-status")).to_be_empty()
    db.session.rollback()
    assert db.session.get(Centre, centre.id).deleted_at is None


def test_create_a_centre_with_the_time_zone_from_the_country(page, sign_in, make_user):
    admin_page(page, sign_in, make_user)
    page.goto("/admin/centres")
    page.get_by_role("textbox", name="Centre number").fill("pk900")
    page.get_by_label("Name", exact=True).fill("Rāvi Grammar School")
    page.get_by_label("Country", exact=True).select_option("PK")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Asia/Karachi")
    page.get_by_label("Town", exact=True).fill("Lahore")
    page.get_by_label("Administrative zone").select_option("4")
    page.get_by_role("button", name="Create centre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Details for PK900 – Rāvi Grammar School"
    )


def test_a_failed_htmx_action_is_announced(page, sign_in, make_user, make_centre, db):
    centre = make_centre()
    user = make_user("centre", centre=centre, email="stale@example.com")
    admin_page(page, sign_in, make_user)
    page.goto(f"/admin/centres/{centre.id}")
    row = page.get_by_role("row").filter(has_text="stale@example.com")
    expect(row).to_be_visible()
    user_id = user.id
    db.session.rollback()  # a fresh snapshot: the browser's requests have written since
    db.session.delete(db.session.get(User, user_id))  # someone else deletes it meanwhile
    db.session.commit()

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete stale@example.com").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That item no longer exists: someone may have changed it. "
        "Reload the page to see it as it is now."
    )
    # htmx logs the failed request to the console: expected here, and only here.
    page.reported_problems[:] = [
        p for p in page.reported_problems if "Error Code 404 from /admin/centres/" not in p
    ]
