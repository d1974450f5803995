"""Password rules: length, no composition rules, common passwords refused."""

from app.services.accounts.password_policy import common_passwords, password_problem


def problem(password, min_length=12, email="officer@example.com"):
    return password_problem(password, min_length=min_length, email=email)


def test_length_is_the_rule():
    assert problem("x" * 3 + "abcdefgh") == "Your password must have at least 12 characters."
    assert problem("plain words only") is None  # no digits, capitals or symbols needed
    assert problem("tiny pass", min_length=8) is None


def test_long_passwords_are_accepted():
    assert problem("a long passphrase " * 8) is None  # 144 characters
    assert problem(("grüne äpfel " * 90)[:1024]) is None
    assert problem("y" * 1025) == "Your password can have at most 1024 characters."


def test_common_passwords_are_refused_whatever_the_case():
    assert "1qaz2wsx3edc" in common_passwords()
    assert len(common_passwords()) == 30_000
    for common in ("1qaz2wsx3edc", "1QAZ2WSX3EDC", "Q1W2E3R4T5Y6", "qwerty123456"):
        assert "most commonly used" in problem(common), common
    assert "most commonly used" in problem("a" * 20)  # one character repeated


def test_the_email_address_is_not_a_password():
    assert problem("Officer@Example.com") == "Your password cannot be your email address."
