"""Signing in as each role in real Chromium: the menu, signing out, accessibility."""

import re

from playwright.sync_api import expect

from app.auth.routes import SIGN_IN_FAILED
from tests.browser.conftest import sign_in_form


def test_sign_in_page_is_accessible(page, axe_check):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    axe_check("the sign-in page")


def test_failed_sign_in_is_accessible_and_keeps_the_username(page, sign_in, axe_check):
    sign_in("nobody@example.com", "wrong")
    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)
    expect(sign_in_form(page).get_by_label("Username")).to_have_value("nobody@example.com")
    axe_check("the sign-in page with an error")


def test_each_role_signs_in_sees_its_menu_and_signs_out(
    page, sign_in, make_user, make_centre, axe_check
):
    centre = make_centre(number="SG401", name="Marina Bay International School")
    for role, heading in (
        ("admin", "Home"),
        ("tp", "Home"),
        ("centre", "SG401 – Marina Bay International School"),
    ):
        user = make_user(role, **({"centre": centre} if role == "centre" else {}))
        sign_in(user.email)
        expect(page).to_have_url(re.compile(r"/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        menu = page.get_by_role("navigation", name="Main menu")
        expect(menu.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
        expect(menu).to_contain_text(f"Signed in as {user.email}")
        expect(menu.get_by_role("link", name="Manage Centres")).to_have_count(0)
        axe_check(f"Home for {role}")

        menu.get_by_role("button", name="Sign out").click()
        expect(page.locator(".flashes").get_by_role("status")).to_have_text("You have signed out.")
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/login\?next=/$"))


def test_skip_link_is_first_and_moves_focus_to_the_content(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_sign_in_returns_to_the_page_asked_for(page, sign_in, make_user):
    user = make_user("admin")
    page.goto("/?from=bookmark")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_in_form(page).get_by_label("Username").fill(user.email)
    sign_in_form(page).get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/\?from=bookmark$"))
