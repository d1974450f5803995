"""The page frame in real Chromium: headings close under the header, no page that
scrolls sideways on a desktop or a phone, and menu dropdowns that behave."""

import pytest
from playwright.sync_api import expect

WIDTHS = (1280, 375)


def admin_pages(centre_id: int) -> list[str]:
    return [
        "/",
        "/admin/centres",
        f"/admin/centres/{centre_id}",
        f"/admin/centres/{centre_id}/users",
        f"/admin/centres/{centre_id}/delete",
        "/admin/centres/upload",
        "/admin/users",
        "/admin/email-templates",
        "/errors/other",
    ]


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def gap_above_heading(page) -> float:
    """From the header's bottom edge to the top of the page's h1, in CSS pixels."""
    return page.evaluate(
        "document.querySelector('h1').getBoundingClientRect().top"
        " - document.querySelector('.site-header').getBoundingClientRect().bottom"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(page, sign_in, make_user, make_centre, width):
    # A deleted centre: its page has the Undo Delete button and the hidden Save.
    centre = make_centre(number="GB199", name="Riverside College (closed)")
    make_user("centre", centre=centre, email="a.rather.long.address.for.a.phone@example.com")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/login")
    assert not scrolls_sideways(page), f"/login scrolls sideways at {width} px"
    sign_in(make_user("admin").email)
    page.goto(f"/admin/centres/{centre.id}/delete")
    page.get_by_role("button", name="Delete centre").click()
    expect(page.get_by_role("button", name="Undo Delete")).to_be_visible()
    for path in admin_pages(centre.id):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert not scrolls_sideways(page), f"{path} scrolls sideways at {width} px"


def test_headings_sit_close_under_the_header(page, sign_in, make_user, make_centre):
    centre = make_centre()
    page.goto("/login")
    assert gap_above_heading(page) < 60  # inside the sign-in card
    sign_in(make_user("admin").email)
    for path in ("/", "/admin/centres", "/admin/users"):
        page.goto(path)
        assert gap_above_heading(page) < 40, path  # it was ~110 px
    page.goto(f"/admin/centres/{centre.id}")  # under its "Back to Manage Centres" link
    assert gap_above_heading(page) < 100


def test_one_click_switches_dropdowns_and_escape_closes(page, sign_in, make_user):
    sign_in(make_user("admin").email)
    menu = page.get_by_role("navigation", name="Main menu")
    admin, errors = menu.get_by_text("Admin", exact=True), menu.get_by_text("Errors", exact=True)
    manage_centres = menu.get_by_role("link", name="Manage Centres")
    other_errors = menu.get_by_role("link", name="Other Errors")

    admin.click()
    expect(manage_centres).to_be_visible()
    errors.click()  # one click: Errors opens, Admin closes
    expect(other_errors).to_be_visible()
    expect(manage_centres).to_be_hidden()

    page.keyboard.press("Escape")
    expect(other_errors).to_be_hidden()
    expect(errors).to_be_focused()

    page.keyboard.press("Enter")  # the toggle has focus: open it again from the keyboard
    expect(other_errors).to_be_visible()
    other_errors.focus()
    page.keyboard.press("Escape")
    expect(other_errors).to_be_hidden()
    expect(errors).to_be_focused()

    admin.click()
    page.get_by_role("heading", level=1).click()  # a click elsewhere closes it
    expect(manage_centres).to_be_hidden()
    admin.click()
    manage_centres.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Browse and modify centres and users")
