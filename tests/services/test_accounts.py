"""Email addresses: the fast check for plain addresses agrees with email_validator."""

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.accounts.addresses import AccountError, _plain_email, checked_email


@settings(max_examples=1000, deadline=None)
@given(
    st.from_regex(
        r"[a-z0-9_%+-]{1,20}(\.[a-z0-9_%+-]{1,10}){0,2}@([a-z0-9-]{1,12}\.){1,3}[a-z]{2,8}",
        fullmatch=True,
    )
)
def test_every_plain_address_the_fast_check_accepts_email_validator_accepts_unchanged(address):
    if not _plain_email(address):
        return
    result = validate_email(address, check_deliverability=False)
    assert result.normalized.lower() == address


@pytest.mark.parametrize(
    "address",
    [
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@-example.com",
        "a@example-.com",
        "a@example.test",
        "a@host.localhost",
        "a@x.invalid",
        "a@example",
        "a@example.c",
        "a@00--0.example.com",
        "a" * 65 + "@example.com",
        "a@xn--bcher-kva.example.com",
    ],
)
def test_the_fast_check_leaves_doubtful_addresses_to_email_validator(address):
    assert not _plain_email(address)


def test_errors_come_from_email_validator_in_its_words():
    with pytest.raises(AccountError, match="“a..b@example.com” is not an email address"):
        checked_email("a..b@example.com")
    with pytest.raises(EmailNotValidError):
        validate_email("a..b@example.com", check_deliverability=False)


def test_addresses_our_mail_server_cannot_take_are_refused():
    # Letters beyond ASCII before the @ need SMTPUTF8, which mail servers may refuse:
    # such a user could never receive their activation email.
    with pytest.raises(AccountError, match="Internationalized characters before the @-sign"):
        checked_email("Jürgen@Example.de")


def test_addresses_are_trimmed_and_lower_cased():
    assert (
        checked_email("  Exams.Officer@School.Example.org ") == "exams.officer@school.example.org"
    )
    assert checked_email("Juergen@Bücher.Example") == "juergen@bücher.example"
