"""htmx request helpers."""

from flask import request


def is_htmx_fragment_request() -> bool:
    """True when htmx asked for part of a page, not a whole page.

    Boosted navigations and history-restore requests replace the whole page,
    so they get the whole page.
    """
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
