"""The Event Logs page: filters, keyset pages, CSV export."""

from flask import request, url_for

from app.reports import bp
from app.services.reports import event_logs
from app.services.reports.event_logs import KINDS, EventFilters, EventRow
from app.web.access import allow
from app.web.exports import recorded_export
from app.web.htmx import render_page_or_fragment

REGION = "event-logs"

# Where a subject's own page is: (endpoint, its id argument), by subject type.
_SUBJECT_PAGES = {
    "Centre": ("admin.centre", "centre_id"),
    "Release": ("releases.release", "release_id"),
    "Resource": ("resources.resource", "resource_id"),
    "ImportRun": ("admin.import_report", "run_id"),
    "EntryUpload": ("key_times.entries_report", "upload_id"),
}


def subject_url(row: EventRow) -> str | None:
    """The page of the event's subject, where it has one and still exists."""
    if row.subject_type == "User":
        if row.user_email is None:
            return None  # deleted since
        if row.user_centre_id is not None:
            return url_for("admin.centre_users", centre_id=row.user_centre_id)
        return url_for("admin.users")
    page = _SUBJECT_PAGES.get(row.subject_type or "")
    if page is None or row.subject_id is None:
        return None
    if row.subject_type in ("Centre", "Release", "Resource") and not row.subject_exists:
        return None
    endpoint, argument = page
    return url_for(endpoint, **{argument: row.subject_id})


@bp.route("/events")
@allow("admin")
def events():
    filters, shown, errors = event_logs.read_filters(request.args)
    if request.args.get("format") == "csv" and not errors:
        return _export(filters)
    page = None
    missing = None
    if not errors:
        page = event_logs.events_page(
            filters,
            before=event_logs.page_id(request.args.get("before")),
            after=event_logs.page_id(request.args.get("after")),
        )
        if not page.rows and filters.subject:
            missing = event_logs.subject_missing_reason(filters)
    response = render_page_or_fragment(
        "reports/events.html",
        "reports/_events_region.html",
        REGION,
        filters=filters,
        shown=shown,
        filter_errors=errors,
        results=page,
        missing=missing,
        list_args=filters.as_args(),
        kinds=KINDS,
        verification=event_logs.last_verification(),
        subject_url=subject_url,
    )
    return response, 422 if errors else 200


def _export(filters: EventFilters):
    """Every matching event as CSV, read in batches; then the export is recorded."""
    return recorded_export(
        "csv",
        "event-logs",
        "Event Logs",
        event_logs.EXPORT_HEADER,
        (event_logs.export_line(row) for row in event_logs.export_rows(filters)),
        report="Event Logs",
        details={"filters": filters.as_args()},
    )
