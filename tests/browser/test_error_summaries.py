"""Errors where the eye is: a form that comes back with errors opens on its "There is
a problem" summary, focused and in view, with JavaScript and without; each of its
links takes focus to the field in error."""

from playwright.sync_api import expect

from tests.browser.conftest import sign_in_on


def summary(page):
    """The error summary, found as a person finds it: by its heading."""
    return page.locator(".error-summary").filter(
        has=page.get_by_role("heading", name="There is a problem")
    )


def expect_summary_where_the_eye_is(page):
    box = summary(page)
    expect(box).to_be_focused()
    expect(box).to_be_in_viewport()
    return box


def fail_to_create_a_centre(page):
    page.goto("/admin/centres")
    page.get_by_role("textbox", name="Centre number").fill("G")
    page.get_by_role("button", name="Create centre").click()


def test_a_failed_create_centre_opens_on_the_summary(page, sign_in, make_user, axe_check):
    sign_in(make_user("admin").email)
    fail_to_create_a_centre(page)

    box = expect_summary_where_the_eye_is(page)
    expect(box).to_contain_text("The centre was not created.")
    expect(box.get_by_role("link")).to_have_text(
        [
            "A centre number is 2 to 10 letters or digits, like GB123.",
            "Enter the centre name.",
            "Choose the country.",
            "Choose the administrative zone (1 to 6).",
        ]
    )
    axe_check("Manage Centres with a failed Create centre")

    box.get_by_role("link", name="Enter the centre name.").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_be_focused()
    expect(name).to_be_in_viewport()
    box.get_by_role("link", name="Choose the administrative zone (1 to 6).").click()
    expect(page.get_by_label("Administrative zone")).to_be_focused()


def test_without_javascript_the_failed_form_also_opens_on_its_summary(no_js_page, make_user):
    page = no_js_page
    sign_in_on(page, make_user("admin").email)
    fail_to_create_a_centre(page)

    expect_summary_where_the_eye_is(page)
    assert page.evaluate("window.scrollY") > 500  # the form is far down the page
    summary(page).get_by_role("link", name="Enter the centre name.").click()
    expect(page.get_by_label("Name", exact=True)).to_be_focused()

    # Put right, the centre is created, and its page opens at the top as usual.
    page.get_by_role("textbox", name="Centre number").fill("GB777")
    page.get_by_label("Name", exact=True).fill("Hillside Academy")
    page.get_by_label("Country", exact=True).select_option("GB")
    page.get_by_label("Town", exact=True).fill("London")
    page.get_by_label("Administrative zone").select_option("1")
    page.get_by_role("button", name="Create centre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Details for GB777 – Hillside Academy"
    )
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()


def test_a_failed_save_of_a_centre(page, sign_in, make_user, make_centre):
    centre = make_centre(number="GB101", name="Hillside Academy")
    sign_in(make_user("admin").email)
    page.goto(f"/admin/centres/{centre.id}")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    box = expect_summary_where_the_eye_is(page)
    expect(box).to_contain_text("Nothing was saved.")
    expect(box.get_by_role("link")).to_have_text(["Enter the centre name."])


def test_add_user_in_place_focuses_its_summary(page, sign_in, make_user, make_centre, axe_check):
    centre = make_centre(number="IN301")
    sign_in(make_user("admin").email)
    page.goto(f"/admin/centres/{centre.id}")
    page.evaluate("window.sameDocument = true")
    page.get_by_role("button", name="Add", exact=True).click()

    box = expect_summary_where_the_eye_is(page)
    expect(box).to_contain_text("The user was not added.")
    assert page.evaluate("window.sameDocument === true")  # htmx swapped it in
    axe_check("a centre's page with a failed Add user")
    box.get_by_role("link", name="Enter an email address.").click()
    expect(page.get_by_label("Email address")).to_be_focused()


def test_invite_staff_and_a_refused_role_change(page, sign_in, make_user, axe_check):
    admin = make_user("admin")
    other = make_user("tp", email="other@example.com")
    sign_in(admin.email)
    page.goto("/admin/users")
    page.get_by_role("button", name="Invite").click()
    box = expect_summary_where_the_eye_is(page)
    expect(box.get_by_role("link")).to_have_text(["Enter an email address."])
    axe_check("Users with a failed invitation")

    # A role that is not offered (as a tampered form would send) is refused.
    page.goto("/admin/users")
    page.get_by_label(f"Role for {other.email}").evaluate(
        "select => { select.options[0].value = 'centre'; select.value = 'centre'; }"
    )
    page.get_by_role("button", name=f"Change role of {other.email}").click()
    box = expect_summary_where_the_eye_is(page)
    expect(box).to_contain_text("The role was not changed.")
    axe_check("Users with a refused role change")
    box.get_by_role("link", name="Choose Admin or Admin - TP.").click()
    expect(page.get_by_label(f"Role for {other.email}")).to_be_focused()


def test_sign_in_and_its_panels(page, axe_check):
    page.goto("/login")
    page.get_by_role("button", name="Sign in", exact=True).click()
    box = expect_summary_where_the_eye_is(page)
    expect(box.get_by_role("link")).to_have_text(
        ["Enter your username (your email address).", "Enter your password."]
    )
    axe_check("the sign-in page with a summary")

    page.evaluate("window.sameDocument = true")
    panel = page.locator("#new-user")
    panel.get_by_role("button", name="Activate Account").click()
    box = panel.locator(".error-summary")
    expect(box).to_be_focused()
    expect(box).to_be_in_viewport()
    assert page.evaluate("window.sameDocument === true")
    box.get_by_role("link").click()
    expect(panel.get_by_label("Email address")).to_be_focused()

    page.locator("#existing-user").get_by_role("button", name="Reset Password").click()
    expect(page.locator("#existing-user .error-summary")).to_be_focused()
    axe_check("the sign-in page with the panels' summaries")


def test_without_javascript_a_panel_answers_where_it_is(no_js_page):
    page = no_js_page
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto("/login")
    panel = page.locator("#existing-user")
    panel.get_by_role("button", name="Reset Password").click()
    expect(panel.get_by_role("heading", name="There is a problem")).to_be_in_viewport()


def test_email_template_and_upload_summaries(page, sign_in, make_user, axe_check):
    sign_in(make_user("admin").email)
    page.goto("/admin/email-templates")
    page.get_by_role("link", name="Edit the Activation (centre user) email").click()
    page.get_by_label("Text of the email").fill("Dear {{ nope }}")
    page.get_by_role("button", name="Save").click()
    box = expect_summary_where_the_eye_is(page)
    expect(box.get_by_role("link")).to_contain_text(["{{ nope }}"])
    axe_check("an e-mail template that was not saved")
    box.get_by_role("link").first.click()
    expect(page.get_by_label("Text of the email")).to_be_focused()

    page.goto("/admin/centres/upload")
    page.get_by_role("button", name="Upload").click()
    box = expect_summary_where_the_eye_is(page)
    expect(box.get_by_role("link")).to_have_text(["Choose a file to upload."])
    axe_check("the upload page without a file")
    box.get_by_role("link").click()
    expect(page.get_by_label("Centres file (.xlsx)")).to_be_focused()
