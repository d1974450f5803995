"""New and existing users in real Chromium: activating an account with the PIN an
admin reads off the centre page, and resetting a forgotten password, each by the
link the portal emails (to a real SMTP server) once its answer has gone."""

import re
import time

import pytest
from playwright.sync_api import expect

from app.auth.accounts import ACTIVATION_SENT, RESET_SENT
from app.auth.routes import SIGN_IN_FAILED
from tests.browser.conftest import sign_in_form, sign_in_on
from tests.conftest import PASSWORD

NEW_PASSWORD = "violet harbour lantern 42"
ACTIVATED = (
    "Your account is active and you are signed in. From now on, sign in with your "
    "email address and the password you chose."
)
PASSWORD_CHANGED = (
    "Your password has been changed and you are signed in. "
    "Any other sessions of yours have been signed out."
)


@pytest.fixture
def live_server(mail_live_server):
    """Every tab here is on the app that sends its email to `smtp_server`."""
    return mail_live_server


def emailed_link(smtp_server, address: str, seconds: float = 5) -> str:
    """The path of the link in the one email to `address`, waiting for it: the
    portal sends it after its answer has gone to the browser."""
    deadline = time.monotonic() + seconds
    while not smtp_server.to(address):
        assert time.monotonic() < deadline, f"no email to {address} within {seconds}s"
        time.sleep(0.05)
    [message] = smtp_server.to(address)
    return smtp_server.link_path(message)


def mark_page(page):
    """Tag the loaded document, to tell later whether the browser loaded a new one."""
    page.evaluate("window.sameDocument = true")


def still_same_document(page) -> bool:
    return page.evaluate("window.sameDocument === true")


def pin_read_by_admin(admin_tab, admin, centre, email: str) -> str:
    """An admin adds `email` to the centre's users and reads off its new PIN."""
    sign_in_on(admin_tab, admin.email)
    expect(admin_tab.get_by_role("heading", level=1)).to_have_text("Home")
    admin_tab.goto(f"/admin/centres/{centre.id}")
    users = admin_tab.locator("#centre-users")
    users.get_by_label("Email address").fill(email)
    users.get_by_role("button", name="Add", exact=True).click()
    row = users.get_by_role("row").filter(has_text=email)
    pin = row.locator(".pin")
    expect(pin).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{8}$"))
    return pin.inner_text()


def ask_for_activation_email(page, email: str) -> None:
    page.goto("/login")
    mark_page(page)
    panel = page.get_by_role("article", name="New user")
    panel.get_by_label("Email address").fill(email)
    panel.get_by_role("button", name="Activate Account").click()
    answer = page.get_by_role("article", name="New user").get_by_role("status")
    expect(answer).to_have_text(ACTIVATION_SENT)
    expect(
        page.get_by_role("article", name="New user").get_by_label("Email address")
    ).to_have_value("")
    assert still_same_document(page)  # htmx swapped the panel in place


def sign_out(page) -> None:
    page.get_by_role("navigation", name="Main menu").get_by_role("button", name="Sign out").click()
    expect(page.locator(".flashes").get_by_role("status")).to_have_text("You have signed out.")


def expect_signed_in_at_home(page, email: str, heading: str, flash: str) -> None:
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("status")).to_have_text(flash)
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu).to_contain_text(f"Signed in as {email}")


def test_a_centre_user_activates_with_the_pin_the_admin_reads_off(
    page, fresh_page, sign_in, smtp_server, make_user, make_centre, axe_check
):
    centre = make_centre(number="SG401", name="Marina Bay International School")
    admin = make_user("admin")
    pin = pin_read_by_admin(fresh_page(), admin, centre, "officer@example.com")

    # The centre user, in a browser of their own, never signed in.
    ask_for_activation_email(page, "Officer@Example.com")
    axe_check("the sign-in page with the New user answer")
    path = emailed_link(smtp_server, "officer@example.com")
    assert re.fullmatch(r"/activate/\S+", path)

    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Activate your account")
    expect(page.get_by_text("Username: officer@example.com")).to_be_visible()
    axe_check("the activation page")
    page.get_by_label("PIN").fill(pin)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Activate Account").click()
    expect_signed_in_at_home(
        page, "officer@example.com", "SG401 – Marina Bay International School", ACTIVATED
    )

    sign_out(page)
    sign_in("officer@example.com", NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "SG401 – Marina Bay International School"
    )


def test_a_wrong_pin_is_told_by_the_pin_field_and_the_right_one_then_works(
    page, fresh_page, smtp_server, make_user, make_centre, axe_check
):
    centre = make_centre(number="SG401", name="Marina Bay International School")
    pin = pin_read_by_admin(fresh_page(), make_user("admin"), centre, "officer@example.com")
    wrong = "22222222" if pin != "22222222" else "33333333"

    ask_for_activation_email(page, "officer@example.com")
    page.goto(emailed_link(smtp_server, "officer@example.com"))
    page.get_by_label("PIN").fill(wrong)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Activate Account").click()

    pin_field = page.get_by_label("PIN")
    expect(pin_field).to_have_attribute("aria-invalid", "true")
    # The help stays with the field, and the error joins it.
    expect(pin_field).to_have_accessible_description(
        "Enter the PIN that Example Exam Board gave your centre. "
        "That PIN is not right. You can try 4 more times before the PIN stops working."
    )
    axe_check("the activation page with a wrong PIN")

    pin_field.fill(pin)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Activate Account").click()
    expect_signed_in_at_home(
        page, "officer@example.com", "SG401 – Marina Bay International School", ACTIVATED
    )


def test_staff_activate_without_a_pin(page, smtp_server, make_user):
    make_user("tp", email="trainer@example.com", activated=False)
    ask_for_activation_email(page, "trainer@example.com")
    page.goto(emailed_link(smtp_server, "trainer@example.com"))
    expect(page.get_by_label("PIN")).to_have_count(0)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Activate Account").click()
    expect_signed_in_at_home(page, "trainer@example.com", "Home", ACTIVATED)


def test_a_user_resets_a_forgotten_password(page, sign_in, smtp_server, make_user, axe_check):
    make_user("tp", email="trainer@example.com")
    page.goto("/login")
    mark_page(page)
    panel = page.get_by_role("article", name="Existing user")
    panel.get_by_label("Username").fill("trainer@example.com")
    panel.get_by_role("button", name="Reset Password").click()
    panel = page.get_by_role("article", name="Existing user")
    expect(panel.get_by_role("status")).to_have_text(RESET_SENT)
    expect(panel.get_by_label("Username")).to_have_value("")
    assert still_same_document(page)
    axe_check("the sign-in page with the Existing user answer")

    path = emailed_link(smtp_server, "trainer@example.com")
    assert re.fullmatch(r"/reset/\S+", path)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    axe_check("the new password page")
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect_signed_in_at_home(page, "trainer@example.com", "Home", PASSWORD_CHANGED)

    sign_out(page)
    sign_in("trainer@example.com", PASSWORD)
    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)
    form = sign_in_form(page)
    form.get_by_label("Password").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("navigation", name="Main menu")).to_contain_text(
        "Signed in as trainer@example.com"
    )
