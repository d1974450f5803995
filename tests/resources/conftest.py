import hashlib
import io
import re

import pytest

from tests.resources import files

# One row of the confirmation table (or the details form), valid as it is.
ROW = {
    "series": "2026-06",
    "syllabus": "0580",
    "component": "22",
    "kind": "question-paper",
    "title": "Paper 22",
}


def signed_in_client(app, user):
    """A test client of `app`, signed in as `user`."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
    return client


@pytest.fixture
def upload(client, csrf_token):
    """POST files to Upload Resources - TP: [(name, bytes)] → the response (not followed)."""

    def send(items, **kwargs):
        data = {"csrf_token": csrf_token(client, "/resources/upload")}
        data["files"] = [(io.BytesIO(content), name) for name, content in items]
        return client.post(
            "/resources/upload", data=data, content_type="multipart/form-data", **kwargs
        )

    return send


@pytest.fixture
def confirm(client, csrf_token):
    """POST the confirmation table: rows as dicts of the fields."""

    def send(location, rows):
        data = {"csrf_token": csrf_token(client, location)}
        for index, row in enumerate(rows):
            for name, value in row.items():
                data[f"rows-{index}-{name}"] = value
        return client.post(location, data=data)

    return send


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def token_of(location: str) -> str:
    return re.search(r"/resources/upload/([0-9a-f]{32})", location).group(1)


__all__ = ["ROW", "files", "sha256", "signed_in_client", "token_of"]
