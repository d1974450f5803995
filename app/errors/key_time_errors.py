"""Errors → Key Time Errors: what stops an entered centre's key time being worked out.

The list is kept by services/timetable/checks.py in the same transaction as every
change to its inputs; this page only reads it. "Check again" works every series
out afresh: after a tzdata upgrade, the only input that changes without an edit.
"""

from flask import flash, redirect, request, url_for

from app.errors import bp
from app.models.timetable import KEY_TIME_ERROR_KINDS
from app.services.errors import DomainError
from app.services.geography import countries
from app.services.resources.naming import series_label
from app.services.timetable import followups
from app.services.timetable.checks import key_time_error_page
from app.services.timetable.instants import TZ_DATABASE_VERSION
from app.services.timetable.key_times import dom_id
from app.web.access import allow
from app.web.htmx import render_page_or_fragment
from app.web.paging import page_number

PAGE_SIZE = 50


@bp.route("/key-times")
@allow("admin")
def key_times():
    series = request.args.get("series", "")[:7]
    kind = request.args.get("kind", "")
    kind = kind if kind in KEY_TIME_ERROR_KINDS else ""
    listed = key_time_error_page(series, kind, page_number(request.args.get("page")), PAGE_SIZE)
    # Each error links to the Key Times row it is fixed on: its key time's row, else
    # the country's (a placeholder row when the country has none).
    anchors = {
        e.id: dom_id(e.country, listed.row_zones.get(e.key_time_id, "")) for e in listed.errors
    }
    return render_page_or_fragment(
        "errors_section/key_times.html",
        "errors_section/_key_time_errors.html",
        "key-time-errors",
        errors=listed.errors,
        held=listed.held,
        anchors=anchors,
        total=listed.total,
        number=listed.number,
        pages=listed.pages,
        page_size=listed.size,
        series=series,
        kind=kind,
        kinds=KEY_TIME_ERROR_KINDS,
        all_series=listed.all_series,
        series_label=_label,
        country_name=lambda code: countries().get(code, code),
        tz_version=TZ_DATABASE_VERSION,
    )


def _label(series: str) -> str:
    try:
        return series_label(series)
    except DomainError:
        return series


@bp.route("/key-times/check", methods=["POST"])
@allow("admin")
def check_key_times():
    result = followups.check_everything()
    flash(
        f"Checked every series with the tz database {TZ_DATABASE_VERSION}: {result.found:,} "
        f"key time error(s), {result.new:,} new, {result.fixed:,} fixed since.",
        "success",
    )
    return redirect(url_for(".key_times"))
