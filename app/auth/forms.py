from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

# Longer than any real address or passphrase, short enough that nobody makes us
# hash a megabyte.
USERNAME_MAX = 254
PASSWORD_MAX = 1024


def no_control_characters(form, field) -> None:
    """Refuse NUL and other control characters, which no email address contains
    (and PostgreSQL cannot store)."""
    if field.data and any(ord(ch) < 32 or ord(ch) == 127 for ch in field.data):
        raise ValidationError("A username cannot contain control characters.")


class SignInForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            InputRequired("Enter your username (your email address)."),
            Length(max=USERNAME_MAX, message=f"A username has at most {USERNAME_MAX} characters."),
            no_control_characters,
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
