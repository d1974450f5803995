"""Releases in real Chromium: release a paper to its entered centres (preview, save),
then cancel the release, with JavaScript (hx-confirm) and without (a confirmation page)."""

import re

import pytest
from playwright.sync_api import expect

from tests.releases.conftest import centres, paper  # noqa: F401  (fixtures used below)

pytestmark = pytest.mark.usefixtures("paper", "centres")


def release_the_paper(page) -> None:
    page.get_by_role("navigation", name="Main menu").get_by_text("Releases", exact=True).click()
    page.get_by_role("link", name="Release Resources").click()
    expect(page.get_by_role("heading", name="Release resources")).to_be_visible()
    page.get_by_label("Series").select_option("2026-06")
    page.get_by_role("button", name="Show resources").click()
    page.get_by_label("Paper 22").check()
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text("3 authorisations for 3 centres")).to_be_visible()
    expect(page.get_by_role("cell", name="01 Jun 2026 09:00 IST")).to_be_visible()


def test_release_preview_save_and_cancel(page, sign_in, make_user, axe_check):
    sign_in(make_user("admin").email)
    release_the_paper(page)
    axe_check("Release Resources with its preview")
    page.get_by_role("button", name="Save release").click()
    expect(page.get_by_text("Release saved: 3 authorisations for 3 centres.")).to_be_visible()
    axe_check("a release's page")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel release").click()
    expect(
        page.get_by_text("Release cancelled: no centre can download its resources now.")
    ).to_be_visible()
    page.goto("/releases/")
    expect(page.get_by_role("cell", name="Cancelled")).to_be_visible()
    axe_check("Manage Releases")


def test_without_javascript_cancel_asks_on_a_page(no_js_page, make_user):
    from tests.browser.conftest import sign_in_on

    page = no_js_page
    sign_in_on(page, make_user("admin").email)
    page.goto("/releases/new")
    page.get_by_label("Series").select_option("2026-06")
    page.get_by_role("button", name="Show resources").click()
    page.get_by_label("Paper 22").check()
    page.get_by_role("button", name="Preview", exact=True).click()
    page.get_by_role("button", name="Save release").click()
    expect(page.get_by_text("Release saved: 3 authorisations for 3 centres.")).to_be_visible()
    page.get_by_role("button", name="Cancel release").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Cancel release \d+\?$"))).to_be_visible()
    page.get_by_role("button", name="Cancel release").click()
    expect(
        page.get_by_text("Release cancelled: no centre can download its resources now.")
    ).to_be_visible()
