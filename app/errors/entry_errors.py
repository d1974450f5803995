"""Errors → Entry Errors: rows of entries files that were not entered, and why.

Open errors are listed, filtered by series, kind and centre, 50 a page; an admin
may dismiss one with a reason. A switch lists the dismissed and resolved ones.
"""

import re

from flask import abort, render_template, request, url_for
from flask_login import current_user
from wtforms import TextAreaField

from app.errors import bp
from app.extensions import db
from app.models import EntryError
from app.models.timetable import ENTRY_ERROR_KINDS
from app.services.errors import DomainError
from app.services.resources.naming import series_label
from app.services.timetable.entries import (
    ErrorFilters,
    centre_ids_of,
    dismiss_entry_error,
    entry_error_series,
    search_entry_errors,
)
from app.services.transactions import changes
from app.web.access import allow
from app.web.forms import PortalForm
from app.web.htmx import (
    confirmation_page,
    fragment_or_redirect,
    is_htmx_fragment_request,
    render_page_or_fragment,
)
from app.web.paging import page_number

SERIES = re.compile(r"[0-9]{4}-[0-9]{2}")
CENTRE_MAX = 10
RESULTS = "entry-error-results"
LIST_ARGS = ("series", "kind", "centre", "upload", "show", "page")


class DismissForm(PortalForm):
    reason = TextAreaField("Reason for dismissing")


def _filters() -> ErrorFilters:
    args = request.args
    series = args.get("series", "")
    kind = args.get("kind", "")
    try:
        upload = int(args.get("upload", ""))
    except ValueError:
        upload = None
    return ErrorFilters(
        series=series if SERIES.fullmatch(series) else "",
        kind=kind if kind in ENTRY_ERROR_KINDS else "",
        centre=args.get("centre", "").strip()[:CENTRE_MAX],
        upload=upload if upload is not None and 0 < upload < 2**31 else None,
        closed=args.get("show") == "closed",
    )


def _series_options() -> list[tuple[str, str]]:
    return [(s, series_label(s)) for s in entry_error_series() if SERIES.fullmatch(s)]


def _list_context(filters: ErrorFilters) -> dict:
    return {
        "filters": filters,
        "results": search_entry_errors(filters, page_number(request.args.get("page"))),
        "series_options": _series_options(),
        "kind_options": list(ENTRY_ERROR_KINDS.items()),
        "list_args": _list_args(),
    }


def _list_args() -> dict[str, str]:
    """The list's filters and page, as the address gives them: the dismiss form posts
    with them, so that it can come back to the same list."""
    return {k: v for k, v in request.args.items() if k in LIST_ARGS}


@bp.route("/entries")
@allow("admin")
def entries():
    return render_page_or_fragment(
        "errors_section/entries.html",
        "errors_section/_entry_errors.html",
        RESULTS,
        **_list_context(_filters()),
    )


@bp.route("/entries/<int:error_id>/dismiss", methods=["POST"])
@allow("admin")
def dismiss_entry(error_id: int):
    error = db.session.get(EntryError, error_id) or abort(404)
    form = DismissForm()
    reason = " ".join((form.reason.data or "").split())
    back = url_for("errors.entries", **_list_args())
    if not form.validate_on_submit():
        problem = " ".join(form.reason.errors) or "The form had expired: please try again."
    elif not reason:
        problem = "Give the reason for dismissing this error."
    elif request.form.get("confirmed") != "yes":
        return confirmation_page(
            title="Dismiss this Entry Error?",
            message=(
                "It leaves the list of open errors, with your reason kept beside it. "
                "The row is not entered."
            ),
            items=[_describe(error), f"Reason: {reason}"],
            action=url_for("errors.dismiss_entry", error_id=error.id, **_list_args()),
            button="Dismiss error",
            cancel=back,
            hidden=[("reason", reason)],
        )
    else:
        try:
            with changes():
                dismiss_entry_error(error, reason, current_user.id)
        except DomainError as refused:
            problem = str(refused)
        else:
            return fragment_or_redirect(
                "errors_section/_entry_error_row.html",
                back,
                f"Dismissed: {_describe(error)}.",
                **_row_context(error),
            )
    return _refused(error, problem, reason)


def _row_context(error: EntryError, **context) -> dict:
    return {
        "error": error,
        "centre_ids": centre_ids_of([error]),
        "filters": _filters(),
        "list_args": _list_args(),
        **context,
    }


def _refused(error: EntryError, problem: str, reason: str):
    """The dismiss form again with its problem: in its row for htmx, else on the list."""
    context = {"dismissing": error.id, "problem": problem, "typed_reason": reason}
    if is_htmx_fragment_request():
        return render_template(
            "errors_section/_entry_error_row.html", **_row_context(error, **context)
        ), 422
    return render_template(
        "errors_section/entries.html", **_list_context(_filters()), **context
    ), 422


def _describe(error: EntryError) -> str:
    where = f"row {error.row}" if error.row is not None else "not in the file"
    what = f"{error.syllabus}/{error.component}" if error.syllabus or error.component else ""
    parts = [error.kind_name, error.centre_number, what, series_label(error.series), where]
    return ", ".join(part for part in parts if part)
