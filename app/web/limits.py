"""Request size limits per view: forms are small, spreadsheets are not.

The limit must be set before anything reads the body, and CSRF protection reads
it in its own before_request hook, so this hook is registered first.
"""

from collections.abc import Callable

from flask import current_app, request


def accepts_upload(limit: Callable[[], int]) -> Callable:
    """Let this view receive a body of up to limit() bytes (the app default is small)."""

    def decorate(view: Callable) -> Callable:
        view.max_content_length = limit
        return view

    return decorate


def apply_request_size_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "max_content_length", None)
    if limit is not None:
        request.max_content_length = limit()
