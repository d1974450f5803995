from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length

from app.services.accounts.password_policy import MAX_PASSWORD_LENGTH
from app.web.forms import PortalForm

# Longer than any real address; a password's limit only stops a megabyte being hashed.
USERNAME_MAX = 254
PASSWORD_MAX = MAX_PASSWORD_LENGTH


class SignInForm(PortalForm):
    username = StringField(
        "Username",
        validators=[
            InputRequired("Enter your username (your email address)."),
            Length(max=USERNAME_MAX, message=f"A username has at most {USERNAME_MAX} characters."),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Enter your password."),
            Length(max=PASSWORD_MAX, message=f"A password has at most {PASSWORD_MAX} characters."),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField("Sign in")


def password_fields(label: str = "New password"):
    """A password and its confirmation, kept exactly as typed (no stripping)."""
    password = PasswordField(
        label,
        validators=[
            InputRequired("Choose a password."),
            Length(max=PASSWORD_MAX, message=f"A password has at most {PASSWORD_MAX} characters."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[
            InputRequired("Type the password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class ActivationRequestForm(PortalForm):
    """The "New user" panel of the sign-in page."""

    email = StringField(
        "Email address",
        validators=[Length(max=USERNAME_MAX)],
        render_kw={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"},
    )
    submit = SubmitField("Activate Account")


class ResetRequestForm(PortalForm):
    """The "Existing user" panel of the sign-in page."""

    username = StringField(
        "Username",
        validators=[Length(max=USERNAME_MAX)],
        render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"},
    )
    submit = SubmitField("Reset Password")


class ActivateForm(PortalForm):
    pin = StringField(
        "PIN",
        validators=[Length(max=32, message="A PIN has 8 letters and digits.")],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    password, confirm = password_fields("Choose a password")
    submit = SubmitField("Activate Account")


class NewPasswordForm(PortalForm):
    password, confirm = password_fields()
    submit = SubmitField("Change password")
