"""Control characters never reach the database: refused where they come in, saying where."""

import io

import pytest

from app.services.text import control_character_in


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("plain text", None),
        ("two\nlines\r\nand\ta tab", None),
        ("nul\x00", "U+0000"),
        ("escape\x1b[31m", "U+001B"),
        ("delete\x7f", "U+007F"),
        ("c1\x85", "U+0085"),
        ("Peñalara – Zürich", None),
    ],
)
def test_control_characters_are_found_and_named(text, found):
    assert control_character_in(text) == found


def test_a_file_name_with_a_control_character_is_a_clear_400(client, csrf_token, login_as):
    login_as("admin")
    response = client.post(
        "/admin/centres/upload",
        data={
            "file": (io.BytesIO(b"PK"), "centres\x00.xlsx"),
            "csrf_token": csrf_token(client, "/"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "The file name contains an invisible control character (U+0000)" in response.get_data(
        as_text=True
    )


def test_a_password_with_a_control_character_is_refused_without_echoing_it(client, csrf_token):
    response = client.post(
        "/login",
        data={
            "username": "someone@example.com",
            "password": "secret\x00secret",
            "csrf_token": csrf_token(client),
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The password contains an invisible control character (U+0000)" in body
    assert "secret" not in body
