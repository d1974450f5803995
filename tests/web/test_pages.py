"""The layout, the security headers and the friendly error pages."""

import logging
import re

from app.web.access import public


def test_layout_has_skip_link_header_and_footer(client, clock):
    page = client.get("/login").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in page
    assert '<a href="https://board.example.org/">Return to the public website</a>' in page
    assert "© Example Exam Board 2026" in page
    assert '<a href="https://board.example.org/privacy">Privacy and legal</a>' in page
    assert '<main id="main"' in page


def test_assets_are_vendored_and_pages_have_no_inline_script(client):
    page = client.get("/login").get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == [
        '<script src="/static/vendor/htmx-2.0.11.min.js" defer>',
        '<script src="/static/app.js" defer>',
    ]
    assert "style=" not in page
    htmx = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert htmx.status_code == 200
    assert b'version:"2.0.11"' in htmx.data


def test_csrf_token_is_sent_by_htmx_from_the_body(client):
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'>", page)


def test_security_headers_on_every_page(client):
    for response in (client.get("/login"), client.get("/"), client.get("/no-such-page")):
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "HX-Request" in headers["Vary"]


def test_session_cookie_is_httponly_and_samesite_lax(client, login_as, csrf_token):
    csrf_token(client)
    cookie = client.get_cookie("portal_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_session_cookie_is_secure_when_configured(make_app):
    client = make_app(SESSION_COOKIE_SECURE=True).test_client()
    response = client.get("/login", base_url="https://localhost")
    set_cookie = response.headers["Set-Cookie"]
    assert "Secure" in set_cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "<h1>Page not found</h1>" in body
    assert "Return to the public website" in body


def test_405_page_says_what_is_allowed(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "That action is not available here" in response.get_data(as_text=True)


def test_413_for_an_oversized_request(client, csrf_token):
    response = client.post(
        "/login", data={"username": "x" * (2 * 1024 * 1024), "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "That upload is too large" in body
    assert "This page accepts at most 1 MB." in body


def test_500_page_shows_a_reference_that_is_also_logged(make_app, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def broken():
        raise RuntimeError("something deep went wrong")

    app.add_url_rule("/broken", "broken", public(broken))
    with caplog.at_level(logging.ERROR, logger="app.web.errors"):
        response = app.test_client().get("/broken")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    reference = re.search(r'<strong class="reference">([0-9A-F]{8})</strong>', body).group(1)
    assert f"Unexpected error, reference {reference}" in caplog.text
    assert "something deep went wrong" in caplog.text  # the traceback is in the log...
    assert "something deep went wrong" not in body  # ...and not on the page


def test_500_page_renders_when_the_database_is_down(make_app, tmp_path):
    """The error may be the database itself, so the 500 page must not need it."""
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'portal.db'}"
    app = make_app(PROPAGATE_EXCEPTIONS=False, SQLALCHEMY_DATABASE_URI=unreachable)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "a signed-in user's token"  # loading them needs the database
    response = client.get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert re.search(r'<strong class="reference">[0-9A-F]{8}</strong>', body)
