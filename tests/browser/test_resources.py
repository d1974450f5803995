"""Admin - TP in real Chromium: upload three files named the board's way, confirm,
replace one, download it and check its SHA-256."""

import hashlib

from playwright.sync_api import expect

from tests.resources import files


def test_upload_confirm_replace_and_download(page, sign_in, make_user, tmp_path, axe_check):
    sign_in(make_user("tp").email)
    names = ["0580_s26_qp_22.pdf", "0580_s26_in_22.pdf", "0510_s26_pm_01.pdf"]
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_bytes(files.pdf(name))
        paths.append(path)

    page.get_by_role("navigation", name="Main menu").get_by_text("Admin - TP").click()
    page.get_by_role("link", name="Upload Resources - TP").click()
    expect(page.get_by_role("heading", name="Upload resources")).to_be_visible()
    axe_check("Upload Resources - TP")
    page.get_by_label("Files").set_input_files(paths)
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", name="Check the upload")).to_be_visible()
    axe_check("the confirmation table")
    # Filled in from the names: series, syllabus, component, kind and title.
    expect(page.locator('input[name="rows-0-syllabus"]')).to_have_value("0580")
    expect(page.locator('select[name="rows-1-kind"]')).to_have_value("insert")
    expect(page.locator('input[name="rows-2-component"]')).to_have_value("01")
    expect(page.locator('select[name="rows-2-series"]')).to_have_value("2026-06")
    page.locator('input[name="rows-2-title"]').fill("English pre-release material")
    page.get_by_role("button", name="Save 3 resources").click()

    expect(page.get_by_text("Saved 3 resources.")).to_be_visible()
    expect(page.get_by_text("3 resources.", exact=True)).to_be_visible()
    axe_check("Manage Resources - TP")
    # Active search narrows the list without a page load.
    page.get_by_label("Search titles and file names").fill("pre-release")
    expect(page.get_by_text("1 resource matching.")).to_be_visible()
    page.get_by_role("link", name="English pre-release material").click()

    expect(page.get_by_role("heading", name="English pre-release material")).to_be_visible()
    axe_check("a resource's page")
    replacement = tmp_path / "0510_s26_pm_01_corrected.pdf"
    replacement.write_bytes(files.pdf("corrected pre-release material"))
    page.get_by_label("New file").set_input_files(replacement)
    page.get_by_role("button", name="Replace file").click()
    expect(
        page.get_by_text("Version 2 (0510_s26_pm_01_corrected.pdf) is now the current file.")
    ).to_be_visible()
    expected = hashlib.sha256(replacement.read_bytes()).hexdigest()
    expect(page.locator("code.hash")).to_have_text(expected)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == "0510_s26_pm_01_corrected.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == expected
    page.reload()
    expect(page.get_by_role("table").filter(has_text="Latest")).to_have_count(0)
    expect(
        page.locator("section", has=page.get_by_role("heading", name="Latest downloads"))
    ).to_contain_text("Sent")
