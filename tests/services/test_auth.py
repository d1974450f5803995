"""The lockout arithmetic, without a request."""

from datetime import timedelta

import pytest

from app.services.accounts.sign_in import lockout_wait


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, None), (4, None), (5, 1), (6, 2), (7, 4), (8, 8), (9, 15), (50, 15), (10_000, 15)],
)
def test_lockout_wait(failures, wait):
    expected = None if wait is None else timedelta(minutes=wait)
    assert lockout_wait(failures) == expected
