"""A centre user's Home in real Chromium: a paper whose window is open is downloaded
(its SHA-256 checked); at a centre whose window opens later, it shows when, in the
centre's local time, and offers no Download."""

import hashlib
from datetime import timedelta

from playwright.sync_api import expect

from app.services.releases.windows import WindowRule
from tests.browser.conftest import sign_in_on
from tests.home.test_centre_resources import release, store_resource, timetable
from tests.resources import files


def test_a_centre_downloads_an_open_paper_and_another_waits(
    page, fresh_page, make_centre, make_user, db, resource_dir, clock, tmp_path, axe_check
):
    london = make_centre(number="GB101", name="Cambridge Grammar")
    kolkata = make_centre(
        number="IN301", name="Kolkata Academy", country="IN", timezone="Asia/Kolkata", zone=4
    )
    timetable(db)
    content = files.pdf("secure paper 22")
    paper = store_resource(db, resource_dir, content)
    now = clock.now  # Mon 1 Jun 2026 08:00 UTC
    release(db, [paper], [london], WindowRule(opens_at=now, closes_at=now + timedelta(days=4)))
    later = now + timedelta(days=2, hours=3)
    release(db, [paper], [kolkata], WindowRule(opens_at=later, closes_at=later + timedelta(days=2)))
    first = make_user("centre", centre=london)
    second = make_user("centre", centre=kolkata)

    sign_in_on(page, first.email)
    expect(page.get_by_role("heading", name="GB101 – Cambridge Grammar")).to_be_visible()
    expect(page.get_by_text("Available now")).to_be_visible()
    expect(page.get_by_text("Fri 5 Jun 2026 09:00 BST")).to_be_visible()
    axe_check("a centre's Home")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "0580_s26_qp_22.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(content).hexdigest()

    other = fresh_page()
    sign_in_on(other, second.email)
    expect(other.get_by_role("heading", name="IN301 – Kolkata Academy")).to_be_visible()
    expect(other.get_by_text("Opens Wed 3 Jun 2026 16:30 IST (in 2 days 3 hours)")).to_be_visible()
    expect(other.get_by_role("button", name="Download")).to_have_count(0)
    expect(other.get_by_text("Available now")).to_have_count(0)
