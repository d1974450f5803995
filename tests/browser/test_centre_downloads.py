"""From release to download in real Chromium: an admin releases a paper to two chosen
centres on Release Resources, its window opening 3 days before the exam's key time in
each centre's own zone, so that London's is open now and Chicago's opens later today.
London's exams officer sees Available now and downloads it (the bytes' SHA-256 checked
against the stored file); Chicago's sees when it opens, in Chicago's local time, and no
Download button."""

import hashlib
from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import Download, KeyTime
from tests.browser.conftest import sign_in_on
from tests.home.test_centre_resources import store_resource, timetable
from tests.resources import files

# Mon 1 Jun 2026 10:00 UTC: 3 days before Thursday's 09:00 key time, London's window
# opened at 08:00 UTC (09:00 BST); Chicago's opens at 14:00 UTC (09:00 CDT).
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def release_to_chosen_centres(page, numbers: str) -> None:
    """Release Resources, as the admin does it: series, the paper, chosen centres,
    the window before the key time (the default, 3 days), Preview, Save."""
    page.get_by_role("navigation", name="Main menu").get_by_text("Releases", exact=True).click()
    page.get_by_role("link", name="Release Resources").click()
    page.get_by_label("Series").select_option("2026-06")
    page.get_by_role("button", name="Show resources").click()
    page.get_by_label("Paper 22").check()
    page.get_by_label("Chosen centres").check()
    page.get_by_label("Centre Numbers").fill(numbers)
    page.get_by_label("Before the exam's key time, in each centre's local time").check()
    expect(page.get_by_label("Days before")).to_have_value("3")
    page.get_by_label("Title (optional)").fill("Paper 22, two centres")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.get_by_text("2 authorisations for 2 centres")).to_be_visible()
    expect(page.get_by_role("cell", name="01 Jun 2026 09:00 BST")).to_be_visible()
    expect(page.get_by_role("cell", name="01 Jun 2026 09:00 CDT")).to_be_visible()
    page.get_by_role("button", name="Save release").click()
    expect(page.get_by_text("Release saved: 2 authorisations for 2 centres.")).to_be_visible()


def test_an_admin_releases_a_paper_one_centre_downloads_it_the_other_waits(
    page,
    fresh_page,
    make_centre,
    make_user,
    db,
    resource_dir,
    clock,
    tmp_path,
    axe_check,
):
    clock.set(NOW)
    timetable(db)  # 0580/22 on Thursday 4 June, AM; key times 09:00 in GB and IN
    db.session.add(KeyTime(series="2026-06", country="US", timezone="America/Chicago", am="09:00"))
    db.session.commit()
    paper = store_resource(db, resource_dir, files.pdf("secure paper 22"))
    stored = resource_dir / "files" / paper.current_file.stored_name
    london = make_centre(number="GB101", name="Cambridge Grammar")
    chicago = make_centre(
        number="US601",
        name="Lakeside High",
        country="US",
        timezone="America/Chicago",
        zone=1,
    )
    first = make_user("centre", centre=london)
    second = make_user("centre", centre=chicago)

    admin = fresh_page()
    sign_in_on(admin, make_user("admin").email)
    release_to_chosen_centres(admin, "GB101\nUS601")

    officer = page
    sign_in_on(officer, first.email)
    expect(officer.get_by_role("heading", name="GB101 – Cambridge Grammar")).to_be_visible()
    expect(officer.get_by_text("Available now")).to_be_visible()
    expect(officer.get_by_text("Fri 5 Jun 2026 10:30 BST")).to_be_visible()  # closes
    axe_check("a centre's Home")
    with officer.expect_download() as download_info:
        officer.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "0580_s26_qp_22.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    sha256 = hashlib.sha256(saved.read_bytes()).hexdigest()
    assert sha256 == hashlib.sha256(stored.read_bytes()).hexdigest() == paper.current_file.sha256
    db.session.rollback()
    sent = db.session.scalars(select(Download)).one()
    assert (sent.user_id, sent.centre_id, sent.status) == (first.id, london.id, "sent")

    waiting = fresh_page()
    sign_in_on(waiting, second.email)
    expect(waiting.get_by_role("heading", name="US601 – Lakeside High")).to_be_visible()
    expect(waiting.get_by_text("Opens Mon 1 Jun 2026 09:00 CDT (in 4 hours)")).to_be_visible()
    expect(waiting.get_by_role("button", name="Download")).to_have_count(0)
    expect(waiting.get_by_text("Available now")).to_have_count(0)
