"""htmx request helpers: one way to answer an action, one way to ask before one."""

from collections.abc import Iterable

from flask import flash, redirect, render_template, request


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


def fragment_or_redirect(
    fragment: str,
    url: str,
    message: str,
    *,
    category: str = "success",
    status: int = 200,
    **context,
):
    """The answer to an action: for htmx, `fragment` re-rendered with the outcome
    (`message` is passed as `done`, or as `problem` for an error); otherwise the
    message is flashed and the browser sent to `url` (post/redirect/get).
    """
    if is_htmx_fragment_request():
        outcome = "problem" if category == "error" else "done"
        return render_template(fragment, **{outcome: message}, **context), status
    flash(message, category)
    return redirect(url)


def confirmation_page(
    *,
    title: str,
    action: str,
    button: str,
    cancel: str,
    message: str = "",
    items: Iterable[str] = (),
    hidden: Iterable[tuple[str, object]] = (),
):
    """The page that asks before a destructive action, for browsers without
    JavaScript (with it, hx-confirm asks). Posting it sends `confirmed=yes`
    with the `hidden` (name, value) pairs, e.g. the ticked ids."""
    return render_template(
        "confirm.html",
        title=title,
        message=message,
        items=list(items),
        action=action,
        button=button,
        cancel=cancel,
        hidden=[("confirmed", "yes"), *hidden],
    )
