"""htmx request helpers."""

from flask import render_template, request


def is_htmx_fragment_request() -> bool:
    """True when htmx asked for part of a page, not a whole page.

    Boosted navigations and history-restore requests replace the whole page,
    so they get the whole page.
    """
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page_or_fragment(page: str, fragment: str, target: str, **context):
    """The whole page, or only `fragment` when htmx asked for the region `target`.

    One template pair serves both, so the no-JavaScript page and the htmx
    update always show the same thing.
    """
    if is_htmx_fragment_request() and request.htmx.target == target:
        return render_template(fragment, **context)
    return render_template(page, **context)
