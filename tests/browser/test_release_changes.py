"""Changing a saved release in real Chromium: Edit window (preview what moves, save),
Add centres, and Windows to Decide after a key time changed while a window was open."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import KeyTime
from app.services.releases.planning import plan_release, save_release
from app.services.releases.windows import WindowRule
from tests.releases.conftest import SERIES, centres, paper  # noqa: F401  (fixtures used below)

pytestmark = pytest.mark.usefixtures("paper", "centres")

# 1 June 05:00 UTC: Kolkata's window (09:00 IST = 03:30 UTC) is open, the others not yet.
KOLKATA_OPEN = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)


@pytest.fixture
def release(db, paper, centres, clock):  # noqa: F811
    clock.set(KOLKATA_OPEN)
    made = save_release(
        plan_release(SERIES, [paper.id], "entered", WindowRule()), title="June", actor_id=None
    )
    db.session.commit()
    return made


def test_edit_window_shows_what_moves_then_saves(page, sign_in, make_user, release, axe_check):
    sign_in(make_user("admin").email)
    page.goto(f"/releases/{release.id}")
    page.get_by_role("button", name="Edit window").click()
    expect(page.get_by_label("Days before")).to_have_value("3")
    page.get_by_label("Days before").fill("2")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("move 2 windows not yet open, of 2 centres")).to_be_visible()
    expect(page.get_by_role("cell", name="02 Jun 2026 09:00 BST")).to_be_visible()
    axe_check("Edit window with its preview")
    page.get_by_role("button", name="Save window").click()
    expect(
        page.get_by_text("Window saved: 2 windows moved. 1 window open now left as they were.")
    ).to_be_visible()


def test_add_centres_then_decide_an_open_window(
    page, sign_in, make_user, make_centre, db, release, clock, axe_check
):
    sign_in(make_user("admin").email)
    make_centre(number="IN002", country="IN", timezone="Asia/Kolkata", zone=4)
    page.goto(f"/releases/{release.id}")
    page.get_by_role("button", name="Add centres").click()
    page.get_by_label("Centre Numbers").fill("IN002, GB001")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Already in this release, nothing to add: GB001.")).to_be_visible()
    axe_check("Add centres with its preview")
    page.get_by_role("button", name="Add centres").click()
    expect(page.get_by_text("1 centre added: 1 authorisation.")).to_be_visible()

    from app.services.timetable import followups

    db.session.rollback()  # a fresh snapshot: the server has written since
    for row in db.session.scalars(select(KeyTime)):
        row.am = "10:00"
    followups.key_times_changed(SERIES, ["GB", "IN", "US"])
    db.session.commit()
    page.reload()
    expect(page.get_by_text("2 centres of this release have windows waiting")).to_be_visible()
    page.get_by_role("link", name="Windows to Decide").first.click()
    expect(page.get_by_role("cell", name="IN001 Test Centre")).to_be_visible()
    axe_check("Windows to Decide")
    page.get_by_role("button", name="Move the window of centre IN001").click()
    expect(page.get_by_text("1 centre: 1 window moved to the new window.")).to_be_visible()
    page.get_by_role("button", name="Keep the window of centre IN002").click()
    expect(page.get_by_text("No window is waiting for a decision.")).to_be_visible()
