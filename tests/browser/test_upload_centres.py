"""The centres upload in real Chromium: upload, report, act on issues, download the PINs."""

import io

import openpyxl
import pytest
from playwright.sync_api import expect

from app.models import Centre, User
from tests.imports.files import openpyxl_file, row


@pytest.fixture(autouse=True)
def temporary_instance_folder(app, monkeypatch, tmp_path):
    """Uploads waiting for Confirm are kept under the instance folder: a temporary one."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


def test_upload_report_issue_actions_and_pins(
    page, sign_in, make_user, make_centre, db, tmp_path, axe_check
):
    hillside = make_centre(number="GB101", name="Old Hillside")
    make_user("centre", centre=hillside, email="extra@hillside.example")
    missing = make_centre(number="GB555", name="Missing School")
    missing_id = missing.id
    sign_in(make_user("admin").email)

    file = tmp_path / "board-centres.xlsx"
    file.write_bytes(
        openpyxl_file(
            [
                row(),
                row(
                    number="IN301",
                    name="Delhi Public School",
                    country="IN",
                    timezone="",
                    zone=4,
                    email="exams@dps.example",
                ),
            ]
        )
    )
    page.goto("/admin/centres")
    page.get_by_role("link", name="Upload a centres file").click()
    page.get_by_label("Centres file (.xlsx)").set_input_files(file)
    page.get_by_role("button", name="Upload").click()

    # A rename: the upload is shown first, and applied on Confirm.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the upload before it is applied"
    )
    renamed = page.get_by_role("region", name="Centres that will be renamed (1)")
    expect(renamed.get_by_role("row").nth(1)).to_have_text("GB101Old HillsideHillside Academy")
    axe_check("the upload's preview")
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Success")
    expect(page.get_by_role("status").first).to_contain_text(
        "Created 1 centre(s) and 2 user(s) (0 replaced)."
    )
    expect(page.get_by_text("GB101: “Old Hillside” is now “Hillside Academy”")).to_be_attached()
    axe_check("the upload report")

    missing_section = page.locator("#missing-centres")
    missing_section.get_by_role("button", name="Select all").click()
    expect(missing_section.get_by_role("checkbox").first).to_be_checked()
    missing_section.get_by_role("button", name="Select none").click()
    expect(missing_section.get_by_role("checkbox").first).not_to_be_checked()
    missing_section.get_by_label("GB555 - Missing School").check()
    page.once("dialog", lambda dialog: dialog.accept())
    missing_section.get_by_role("button", name="Delete Missing Centres").click()
    expect(missing_section.get_by_role("status")).to_contain_text("Deleted 1 centre(s).")
    expect(missing_section.get_by_label("GB555 - Missing School")).to_have_count(0)
    expect(missing_section.get_by_role("button", name="Select all")).to_have_count(0)

    extra_section = page.locator("#extra-users")
    extra_section.get_by_label("Delete extra@hillside.example").check()
    page.once("dialog", lambda dialog: dialog.accept())
    extra_section.get_by_role("button", name="Delete Extra Users").click()
    expect(extra_section.get_by_role("status")).to_contain_text("Deleted 1 user(s).")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="download new user pins").click()
    pins = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    emails = [r[2].value for r in pins.iter_rows(min_row=2)]
    assert sorted(emails) == ["exams@dps.example", "officer@hillside.example"]

    db.session.rollback()
    assert db.session.get(Centre, missing_id).deleted_at is not None
    assert db.session.query(User).filter_by(email="extra@hillside.example").count() == 0


def test_a_bad_file_shows_every_problem(page, sign_in, make_user, tmp_path, axe_check):
    sign_in(make_user("admin").email)
    file = tmp_path / "bad.xlsx"
    file.write_bytes(openpyxl_file([row(zone=9), row(number="GB102", email="nope")]))
    page.goto("/admin/centres/upload")
    page.get_by_label("Centres file (.xlsx)").set_input_files(file)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Upload failed")).to_be_visible()
    problems = page.get_by_role("table").first
    expect(problems.get_by_role("row")).to_have_count(3)
    expect(problems).to_contain_text("The zone must be a whole number from 1 to 6")
    axe_check("a failed upload")


def test_cancel_leaves_the_site_as_it_was(page, sign_in, make_user, make_centre, db, tmp_path):
    hillside = make_centre(number="GB101", name="Hillside Academy")
    make_user("centre", centre=hillside, email="waiting@hillside.example", activated=False)
    sign_in(make_user("admin").email)
    file = tmp_path / "centres.xlsx"
    new_in_tokyo = row(number="GB102", timezone="Asia/Tokyo", email="new@hillside.example")
    file.write_bytes(openpyxl_file([row(), new_in_tokyo]))
    page.goto("/admin/centres/upload")
    page.get_by_label("Centres file (.xlsx)").set_input_files(file)
    page.get_by_role("button", name="Upload").click()

    removed = page.get_by_role("region", name="Users who will be removed (1)")
    expect(removed).to_contain_text("waiting@hillside.example")
    warnings = page.get_by_role("region", name="Time zones not of the centre's country (1)")
    expect(warnings).to_contain_text("Asia/Tokyo")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload centres from excel file")
    expect(page.get_by_text("Upload cancelled: nothing was changed.")).to_be_visible()
    db.session.rollback()
    assert db.session.query(User).filter_by(email="waiting@hillside.example").count() == 1
