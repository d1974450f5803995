"""Reports → Audit Reports in real Chromium: from the landing page to a release's
report; its totals; the Not downloaded filter with htmx (the address follows); the
whole filtered result exported as .xlsx (opened with openpyxl); the release's page with
its progress chart; a centre's downloads. axe finds nothing serious on any of them."""

import io
import re
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from app.models import KeyTime, User
from app.services.resources.catalogue import record_download
from tests.home.test_centre_resources import release, store_resource, timetable
from tests.resources import files

# Mon 1 Jun 2026 10:00 UTC: the windows opened 3 days before Thursday's 09:00 key time
# in London (08:00 UTC) and Kolkata (03:30 UTC); Chicago's opens at 14:00 UTC.
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def seed(db, resource_dir, make_centre, make_user):
    timetable(db)
    db.session.add(KeyTime(series="2026-06", country="US", timezone="America/Chicago", am="09:00"))
    db.session.commit()
    paper = store_resource(db, resource_dir, files.pdf("secure paper 22"))
    london = make_centre(number="GB101", name="Cambridge Grammar")
    kolkata = make_centre(
        number="IN101", name="Howrah High", country="IN", timezone="Asia/Kolkata", zone=4
    )
    chicago = make_centre(
        number="US101", name="=cmd|' /C calc'!A0", country="US", timezone="America/Chicago", zone=1
    )
    officer = make_user("centre", centre=london, email="exams@cambridge.example")
    saved = release(db, [paper], [london, kolkata, chicago])
    db.session.rollback()
    user = db.session.get(User, officer.id)
    record_download(
        paper.files[0], user, ip="203.0.113.9", user_agent="Firefox", range_header=None,
        release_id=saved.id,
    )  # fmt: skip
    db.session.commit()
    return saved


def rows(page):
    return page.locator("#audit-results tbody tr")


def test_an_admin_finds_who_has_not_downloaded(
    page, sign_in, make_user, make_centre, db, resource_dir, clock, axe_check
):
    clock.set(NOW)
    seed(db, resource_dir, make_centre, make_user)
    sign_in(make_user("admin").email)
    page.get_by_role("navigation", name="Main menu").get_by_text("Reports", exact=True).click()
    page.get_by_role("link", name="Audit Reports").click()
    expect(page.get_by_role("heading", name="Audit Reports", level=1)).to_be_visible()
    axe_check("Audit Reports")

    page.get_by_role("link", name="June papers").click()
    expect(page.get_by_text("1 of 3 centres has downloaded.")).to_be_visible()
    expect(rows(page)).to_have_count(3)
    london = rows(page).filter(has_text="GB101")
    expect(london).to_contain_text("exams@cambridge.example")
    axe_check("an audit report by release")

    page.get_by_label("Downloaded", exact=True).select_option("no")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page)).to_have_count(1)  # Chicago's window has not opened: not "missed"
    expect(rows(page).first).to_contain_text("IN101")
    expect(page).to_have_url(re.compile(r"downloaded=no"))

    page.get_by_label("Downloaded", exact=True).select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page)).to_have_count(3)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Excel (.xlsx)").click()
    sheet = load_workbook(io.BytesIO(Path(waiting.value.path()).read_bytes())).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == ["GB101", "IN101", "US101"]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names[2] == "=cmd|' /C calc'!A0"  # kept as text, never a formula

    page.get_by_role("link", name="The release's page").click()
    chart = page.get_by_role("img", name=re.compile("downloaded", re.IGNORECASE))
    expect(chart).to_be_visible()
    axe_check("a release's page with its progress chart")

    page.goto("/reports/audit/centres?number=gb101")
    expect(page.get_by_role("heading", level=1)).to_contain_text("GB101")
    expect(page.get_by_role("cell", name="exams@cambridge.example")).to_be_visible()
    axe_check("a centre's downloads")
