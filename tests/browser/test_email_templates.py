"""E-mail Templates in real Chromium: live preview, Preview, Send me a test (htmx)."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import OutboxMessage


def test_live_preview_and_test_email(page, sign_in, make_user, axe_check, db):
    admin = make_user("admin")
    sign_in(admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    page.get_by_role("navigation", name="Main menu").get_by_text("Admin").click()
    page.get_by_role("link", name="E-mail Templates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("E-mail Templates")
    axe_check("E-mail Templates")
    page.get_by_role("link", name="Edit the Activation (centre user) email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activation (centre user) email")
    axe_check("edit page")
    # Nothing below reloads the page: htmx swaps only the preview.
    page.evaluate("window.sameDocument = true")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("at centre GB123 (Riverside School)")

    body = page.get_by_label("Text of the email")
    body.fill("")
    body.press_sequentially("Dear {{ centre_name }}")
    expect(preview).to_contain_text("Dear Riverside School")
    body.press_sequentially("\n{{ nope }}")
    expect(preview).to_contain_text("line 2: “{{ nope }}” is not a placeholder")
    axe_check("preview with problems")
    body.fill("Hello {{ email }}")
    expect(preview).to_contain_text("Hello exams@example.org")
    page.get_by_role("button", name="Send me a test").click()
    expect(preview).to_contain_text(f"A test email is on its way to {admin.email}")
    expect(preview).to_contain_text(f"Hello {admin.email}")
    expect(body).to_have_value("Hello {{ email }}")
    page.get_by_role("button", name="Preview").click()
    expect(preview).to_contain_text("Hello exams@example.org")
    assert page.evaluate("window.sameDocument === true")
    db.session.rollback()
    assert db.session.scalars(select(OutboxMessage.subject)).all() == [
        "[Test] Activate your Example Exam Board secure portal account"
    ]

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_have_text("Saved the Activation (centre user) email.")
    page.get_by_role("link", name="Restore default").click()
    page.get_by_role("button", name="Restore default").click()
    expect(page.locator(".flash-success")).to_contain_text("default wording again")
