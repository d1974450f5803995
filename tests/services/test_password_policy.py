"""Password rules: length, no composition rules, and a password must be hard to guess."""

import pytest

from app.services.accounts.password_policy import (
    ESTIMATED_PREFIX,
    guessable_words,
    password_problem,
)

EMAIL = "officer@example.com"


def problem(password, min_length=12, email=EMAIL, organisation="Example Exam Board"):
    return password_problem(password, min_length=min_length, email=email, organisation=organisation)


def test_length_is_the_rule():
    assert problem("x" * 3 + "abcdefgh") == "Your password must have at least 12 characters."
    assert problem("plain words only") is None  # no digits, capitals or symbols needed
    assert problem("tidy lamp", min_length=8) is None


def test_long_passwords_are_accepted():
    assert problem("a long passphrase " * 8) is None  # 144 characters
    assert problem(("grüne äpfel " * 90)[:1024]) is None
    assert problem("y" * 1025) == "Your password can have at most 1024 characters."


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("P@ssw0rd1234", "This is similar to a commonly used password."),
        ("Password123!", "This is similar to a commonly used password."),
        ("123456789012", "This is similar to a commonly used password."),
        ("abcabcabcabc", 'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        ("1qaz2wsx3edc", "This is a very common password."),
        ("qwerty123456", "This is a very common password."),
        ("a" * 20, 'Repeats like "aaa" are easy to guess.'),
    ],
)
def test_passwords_that_are_easy_to_guess_are_refused_with_the_reason(password, why):
    message = problem(password)
    assert message.startswith("That password is too easy to guess. "), message
    assert why in message
    assert message.endswith(
        "A few unrelated words make a strong password that is easy to remember."
    )


@pytest.mark.parametrize(
    "password",
    [
        "quiet meadow under snow",
        "correct horse battery staple",
        "  violet harbour lantern 42  ",
        "Ünïcode & spaces, 128 long!",
        "tabby orbit vinegar",
    ],
)
def test_passphrases_are_accepted(password):
    assert problem(password) is None


@pytest.mark.parametrize(
    "password",
    [
        "Officer@Example.com",
        "officer@example.com2026",
        "officer.example.com",
        "OfficerExample1!",
        "example.com.officer",
    ],
)
def test_a_password_made_from_the_email_address_is_refused(password):
    assert problem(password).startswith("Your password is too like your email address")


def test_the_board_s_name_and_the_portal_s_words_count_as_known():
    message = problem("Example Exam Board 1")
    assert "made from your email address, the board's name or the portal's name" in message
    assert problem("Example Exam Board 1", organisation="Another Board") is None
    assert {"portal", "exam", "centre", "secure", "release", "officer", "example"} <= set(
        guessable_words(EMAIL, "Example Exam Board")
    )


def test_only_the_start_of_a_long_password_is_estimated_and_the_message_says_so():
    weak_start = "a" * ESTIMATED_PREFIX + " quiet meadow under snow"
    assert problem(weak_start).startswith(f"Its first {ESTIMATED_PREFIX} characters are too easy")
    assert problem("quiet meadow under snow, " + "a" * 900) is None


@pytest.mark.parametrize(
    "password",
    [
        # Every character zxcvbn's l33t matcher knows: the most substitution tables to try.
        ("4@8({[<36|!1|7+%$5092" * 60)[:1024],
        "".join(chr(33 + (n * 7919) % 94) for n in range(1024)),  # printable "random"
        ("quiet meadow under snow " * 50)[:1024],
    ],
    ids=["l33t symbols", "random", "passphrase"],
)
def test_a_1024_character_password_is_estimated_on_its_prefix_only(password, monkeypatch):
    """zxcvbn's time grows steeply with length (bench figures in password_policy.py):
    whatever is typed, it sees at most ESTIMATED_PREFIX characters."""
    from app.services.accounts import password_policy

    seen = []
    real = password_policy.zxcvbn

    def recording(text, *args, **kwargs):
        seen.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(password_policy, "zxcvbn", recording)
    problem(password)
    assert seen and max(seen) <= ESTIMATED_PREFIX
