"""E-mail Templates in real Chromium: live preview, Preview, Send me a test (htmx)."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.models import OutboxMessage


def test_live_preview_and_test_email(page, sign_in, make_user, axe_check, db):
    admin = make_user("admin")
    sign_in(admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    page.get_by_role("navigation", name="Main menu").get_by_text("Admin", exact=True).click()
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


GUTTER = """() => {
    const text = document.querySelector('#body');
    const gutter = document.querySelector('.line-gutter');
    const numbers = [...gutter.children].filter(n => n.textContent);
    const style = getComputedStyle(text);
    const contentTop = text.getBoundingClientRect().top + parseFloat(style.borderTopWidth)
        + parseFloat(style.paddingTop);
    return {
        numbers: numbers.map(n => n.textContent),
        heights: numbers.map(n => n.getBoundingClientRect().height),
        marked: numbers.filter(n => n.classList.contains('has-problem')).map(n => n.textContent),
        firstOffset: numbers[0].getBoundingClientRect().top - contentTop + text.scrollTop,
        linesHeight: numbers.reduce((sum, n) => sum + n.getBoundingClientRect().height, 0),
        textHeight: text.scrollHeight - parseFloat(style.paddingTop)
            - parseFloat(style.paddingBottom),
        lineHeight: parseFloat(style.lineHeight),
        scrolled: [text.scrollTop, gutter.scrollTop],
        hidden: gutter.getAttribute('aria-hidden'),
    };
}"""


def test_line_numbers_beside_the_text_stay_aligned_and_mark_the_problems(
    page, sign_in, make_user, axe_check
):
    sign_in(make_user("admin").email)
    page.goto("/admin/email-templates/activation")
    body = page.get_by_label("Text of the email")
    gutter = page.locator(".line-gutter")
    expect(gutter).to_be_visible()
    lines = [f"Line {n}: {{{{ email }}}}" for n in range(1, 61)]
    lines[2] = "Your link: {{ link"  # line 3: not closed
    lines[6] = "A long line that wraps. " * 12  # line 7: three lines or more once wrapped
    lines[39] = "{{ nope }}"  # line 40: not a placeholder
    body.fill("\n".join(lines))
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Text of the email, line 3: a placeholder is not closed")
    expect(preview).to_contain_text("Text of the email, line 40: “{{ nope }}” is not a placeholder")
    expect(preview.locator(".problem-line").first).to_have_text("3Your link: {{ link")

    shown = page.evaluate(GUTTER)
    assert shown["numbers"] == [str(n) for n in range(1, 61)]
    assert shown["hidden"] == "true"  # the numbers are for the eye; the problems say the line
    assert shown["marked"] == ["3", "40"]
    # The first number is level with the first line, each as tall as its line once
    # wrapped: all of them as tall as the text.
    assert abs(shown["firstOffset"]) < 1
    assert shown["heights"][6] >= 2 * shown["lineHeight"]
    assert shown["heights"][0] == shown["lineHeight"]
    assert abs(shown["linesHeight"] - shown["textHeight"]) < 2

    body.evaluate("text => { text.scrollTop = 400; text.dispatchEvent(new Event('scroll')); }")
    scrolled = page.evaluate(GUTTER)["scrolled"]
    assert scrolled[0] > 0 and scrolled[0] == scrolled[1]

    # A problem's link selects its line in the text.
    preview.get_by_role("link", name="Text of the email, line 40").click()
    expect(body).to_be_focused()
    selected = body.evaluate("t => t.value.slice(t.selectionStart, t.selectionEnd)")
    assert selected == "{{ nope }}"
    axe_check("edit page with line numbers")
