"""Security headers sent with every response."""

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Pico draws its form icons with data: SVGs.
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


HTMX_REQUEST_HEADERS = ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request")


def add_security_headers(app: Flask):
    """Register an after_request hook that sets the headers on every response."""

    @app.after_request
    def set_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # A page or one of its fragments, chosen by these headers: caches must
        # keep them apart.
        response.vary.update(HTMX_REQUEST_HEADERS)
        if response.mimetype == "text/html":
            # Pages show who is signed in and what they may see: never cache them.
            headers.setdefault("Cache-Control", "no-store")
        return response
