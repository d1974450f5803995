"""Audit Reports by centre and by resource: every download of a file, and every
refused attempt, with who, when (UTC and the centre's local time) and from where;
each exported whole as .xlsx or CSV."""

from flask import abort, current_app, redirect, render_template, request, url_for

from app.extensions import db
from app.models import Centre, Resource
from app.reports import bp
from app.services.geography import countries
from app.services.reports import history
from app.services.reports.history import (
    STATUS_FILTERS,
    CentreFilters,
    ChoiceFilters,
    DownloadRow,
    ResourceFilters,
)
from app.services.resources.catalogue import series_in_use
from app.services.resources.naming import kind_label, series_label
from app.services.timetable.instants import wall_time
from app.web.access import allow
from app.web.exports import EXPORT_FORMATS, recorded_export
from app.web.htmx import render_page_or_fragment
from app.web.paging import page_number

NUMBER_MAX = 20
CENTRE_RESULTS = "centre-downloads"
RESOURCE_RESULTS = "resource-downloads"
CHOICE_RESULTS = "resource-choices"


def _audit_url() -> str | None:
    """The Audit Reports page, once it exists."""
    return url_for(".audit") if "reports.audit" in current_app.view_functions else None


def _status_filter() -> str:
    status = request.args.get("status", "")
    return status if status in STATUS_FILTERS else ""


def _export_format() -> str:
    value = request.args.get("format", "")
    return value if value in EXPORT_FORMATS else ""


def _utc_cell(row: DownloadRow) -> str:
    return f"{row.at:%Y-%m-%d %H:%M:%S}"


def _local_cell(row: DownloadRow) -> str:
    if row.centre_timezone is None:
        return ""
    return f"{wall_time(row.at, row.centre_timezone):%Y-%m-%d %H:%M:%S %Z}"


def _release_cell(row: DownloadRow) -> str:
    if row.release_id is None:
        return ""
    return row.release_title or f"Release {row.release_id}"


def _status_cell(row: DownloadRow) -> str:
    return STATUS_FILTERS.get(row.status, row.status)


# ---------------------------------------------------------------------------
# By centre


@bp.route("/audit/centres")
@allow("admin")
def audit_centres():
    """Find a centre by its number, then its report."""
    number = request.args.get("number", "").strip().upper()[:NUMBER_MAX]
    problem = ""
    if "number" in request.args:
        if not number:
            problem = "Enter a Centre Number, e.g. GB001."
        else:
            centre = history.centre_by_number(number)
            if centre is not None:
                return redirect(url_for(".audit_centre", centre_id=centre.id))
            problem = (
                f"No centre has the number “{number}”, deleted or not. Check the number "
                "(two letters and digits, e.g. GB001) and try again."
            )
    return render_template(
        "reports/history_centres.html", number=number, problem=problem, audit_url=_audit_url()
    )


def _centre_filters(options: list[history.ReleaseOption]) -> CentreFilters:
    release = request.args.get("release", "")
    return CentreFilters(
        release=release if release in {option.value for option in options} else "",
        status=_status_filter(),
    )


def _filter_args(filters, names: tuple[str, ...]) -> dict:
    """The filters set, as query arguments: only these, never the raw query string."""
    args = {}
    for name in names:
        value = getattr(filters, name)
        if value:
            args[name] = value
    return args


@bp.route("/audit/centres/<int:centre_id>")
@allow("admin")
def audit_centre(centre_id: int):
    centre = db.session.get(Centre, centre_id) or abort(404)
    options = history.centre_release_options(centre)
    filters = _centre_filters(options)
    if _export_format():
        return _export_centre(centre, filters)
    return render_page_or_fragment(
        "reports/history_centre.html",
        "reports/history_centre_results.html",
        CENTRE_RESULTS,
        centre=centre,
        country=countries().get(centre.country, centre.country),
        filters=filters,
        release_choices=[
            (
                option.value,
                f"{option.label} – {option.attempts:,} "
                f"{'attempt' if option.attempts == 1 else 'attempts'}",
            )
            for option in options
        ],
        status_options=STATUS_FILTERS,
        results=history.centre_downloads(centre, filters, page_number(request.args.get("page"))),
        list_args={"centre_id": centre.id, **_filter_args(filters, ("release", "status"))},
        audit_url=_audit_url(),
    )


WHEN_HEADER = ("When (UTC)", "When (centre's local time)")
FILE_HEADER = ("Version", "Current version", "File name", "SHA-256")
ATTEMPT_HEADER = ("User", "IP address", "Status", "Reason", "Release", "Range", "User agent")
CENTRE_HEADER = (
    *WHEN_HEADER,
    *("Series", "Syllabus", "Component", "Kind", "Title"),
    *FILE_HEADER,
    *ATTEMPT_HEADER,
)


def _when_cells(row: DownloadRow) -> tuple:
    return (_utc_cell(row), _local_cell(row))


def _file_cells(row: DownloadRow) -> tuple:
    return (row.version, row.current_version, row.file_name, row.sha256)


def _attempt_cells(row: DownloadRow) -> tuple:
    return (
        row.user_email,
        row.ip,
        _status_cell(row),
        row.reason,
        _release_cell(row),
        row.range,
        row.user_agent,
    )


def _centre_export_row(row: DownloadRow) -> tuple:
    what = (row.series, row.syllabus, row.component, kind_label(row.kind), row.title)
    return (*_when_cells(row), *what, *_file_cells(row), *_attempt_cells(row))


def _export_centre(centre: Centre, filters: CentreFilters):
    return recorded_export(
        _export_format(),
        f"downloads-{centre.number}",
        f"Downloads {centre.number}",
        CENTRE_HEADER,
        (_centre_export_row(row) for row in history.export_centre_downloads(centre, filters)),
        report="downloads by centre",
        subject=centre,
        details={
            "centre": centre.number,
            "filters": _filter_args(filters, ("release", "status")),
        },
    )


# ---------------------------------------------------------------------------
# By resource


@bp.route("/audit/resources")
@allow("admin")
def audit_resources():
    """Choose a resource: a series' resources, narrowed by syllabus, paged."""
    every_series = series_in_use()
    series = request.args.get("series", "")
    if series not in every_series:
        series = every_series[0] if every_series else ""
    typed = syllabus = request.args.get("syllabus", "").strip()[:4]
    problem = ""
    if syllabus and not syllabus.isdigit():
        problem = "A syllabus code is four digits, e.g. 0580: enter its first digits or all four."
        syllabus = ""
    filters = ChoiceFilters(series=series, syllabus=syllabus)
    return render_page_or_fragment(
        "reports/history_resources.html",
        "reports/history_resources_results.html",
        CHOICE_RESULTS,
        filters=filters,
        typed_syllabus=typed,
        problem=problem,
        series_options=[(value, series_label(value)) for value in every_series],
        results=history.resources_to_choose(filters, page_number(request.args.get("page")))
        if series
        else None,
        list_args=_filter_args(filters, ("series", "syllabus")),
        audit_url=_audit_url(),
    )


def _resource_filters(resource: Resource) -> ResourceFilters:
    raw = request.args.get("version", "")
    numbers = {file.number for file in resource.files}
    version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
    version = version if version in numbers else None
    return ResourceFilters(version=version, status=_status_filter())


@bp.route("/audit/resources/<int:resource_id>")
@allow("admin")
def audit_resource(resource_id: int):
    resource = db.session.get(Resource, resource_id) or abort(404)
    filters = _resource_filters(resource)
    if _export_format():
        return _export_resource(resource, filters)
    return render_page_or_fragment(
        "reports/history_resource.html",
        "reports/history_resource_results.html",
        RESOURCE_RESULTS,
        resource=resource,
        filters=filters,
        version_choices=[
            (
                file.number,
                f"Version {file.number}"
                f"{' (current)' if file.number == resource.current_version else ''}"
                f" – {file.original_name}",
            )
            for file in reversed(resource.files)
        ],
        status_options=STATUS_FILTERS,
        results=history.resource_downloads(
            resource, filters, page_number(request.args.get("page"))
        ),
        list_args={"resource_id": resource.id, **_filter_args(filters, ("version", "status"))},
        audit_url=_audit_url(),
    )


RESOURCE_HEADER = (
    *WHEN_HEADER,
    *FILE_HEADER,
    *("Centre Number", "Centre time zone"),
    *ATTEMPT_HEADER,
)


def _resource_export_row(row: DownloadRow) -> tuple:
    centre = (row.centre_number if row.centre_id is not None else "Staff", row.centre_timezone)
    return (*_when_cells(row), *_file_cells(row), *centre, *_attempt_cells(row))


def _export_resource(resource: Resource, filters: ResourceFilters):
    return recorded_export(
        _export_format(),
        f"downloads-{resource.series}-{resource.syllabus}-{resource.component}-{resource.id}",
        f"Downloads {resource.syllabus}-{resource.component}",
        RESOURCE_HEADER,
        (_resource_export_row(row) for row in history.export_resource_downloads(resource, filters)),
        report="downloads by resource",
        subject=resource,
        details={
            "resource": f"{resource.series} {resource.syllabus}/{resource.component} "
            f"{resource.kind}: {resource.title}",
            "filters": _filter_args(filters, ("version", "status")),
        },
    )
