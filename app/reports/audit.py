"""Audit Reports: the landing page (the releases) and the report by release, with its
exports. The by-centre and by-resource reports live in audit_history.py."""

from collections.abc import Mapping

from flask import abort, current_app, request, url_for

from app.extensions import db
from app.models import Release
from app.reports import bp
from app.services import clock
from app.services.geography import countries
from app.services.reports import audit as reports
from app.services.reports.audit import (
    DOWNLOADED_CHOICES,
    WINDOW_STATUSES,
    ZONES,
    CentreAudit,
    ReleaseFilters,
)
from app.services.timetable.instants import wall_time
from app.web.access import allow
from app.web.exports import EXPORT_FORMATS, recorded_export
from app.web.formatting import local_time
from app.web.htmx import render_page_or_fragment
from app.web.paging import page_number

RELEASES = "audit-releases"
RESULTS = "audit-results"

EXPORT_HEADER = (
    "Centre Number",
    "Centre name",
    "Country",
    "Zone",
    "Time zone",
    "Window opens (local)",
    "Window opens (UTC)",
    "Window closes (local)",
    "Window closes (UTC)",
    "Window",
    "Resources authorised",
    "First download (UTC)",
    "First download (local)",
    "First download by",
    "Downloads",
    "Downloaded",
    "Downloaded a replaced version",
    "Centre deleted",
)


def _link_if_built(endpoint: str) -> str | None:
    """The address of another report, once its page exists (another branch builds it)."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


@bp.route("/audit")
@allow("admin")
def audit():
    return render_page_or_fragment(
        "reports/audit.html",
        "reports/audit_releases.html",
        RELEASES,
        listing=reports.release_list(page_number(request.args.get("page")), clock.utcnow()),
        centres_url=_link_if_built("reports.audit_centres"),
        resources_url=_link_if_built("reports.audit_resources"),
    )


def _release_or_404(release_id: int) -> Release:
    return db.session.get(Release, release_id) or abort(404)


def _filters(args: Mapping[str, str]) -> ReleaseFilters:
    """The filters from the query string; a value that is not one of the choices is
    ignored (the form then shows what was applied)."""
    country = args.get("country", "").strip().upper()
    zone = args.get("zone", "").strip()
    downloaded = args.get("downloaded", "")
    window = args.get("window", "")
    return ReleaseFilters(
        country=country if country in countries() else "",
        zone=int(zone) if zone in {str(z) for z in ZONES} else None,
        downloaded=downloaded if downloaded in DOWNLOADED_CHOICES else "",
        window=window if window in WINDOW_STATUSES else "",
        replaced=args.get("replaced") == "yes",
    )


@bp.route("/audit/releases/<int:release_id>")
@allow("admin")
def audit_release(release_id: int):
    release = _release_or_404(release_id)
    filters = _filters(request.args)
    report = reports.release_report(
        release, filters, page_number(request.args.get("page")), clock.utcnow()
    )
    names, in_release = countries(), set(report.totals.countries)
    return render_page_or_fragment(
        "reports/audit_release.html",
        "reports/audit_release_results.html",
        RESULTS,
        release=release,
        report=report,
        totals=report.totals,
        filters=filters,
        list_args=filters.args(),
        country_names=names,
        country_choices=[(code, name) for code, name in names.items() if code in in_release],
        zone_choices=[(zone, f"Zone {zone}") for zone in ZONES],
        window_statuses=WINDOW_STATUSES,
        downloaded_choices=DOWNLOADED_CHOICES,
        local=local_time,
    )


@bp.route("/audit/releases/<int:release_id>/export")
@allow("admin")
def audit_release_export(release_id: int):
    """The whole filtered report as .xlsx or CSV (`?format=`), not only the page shown,
    read in batches and written to a temporary file as it comes; the export is an Event."""
    release = _release_or_404(release_id)
    file_format = request.args.get("format", "")
    if file_format not in EXPORT_FORMATS:
        abort(404)
    filters = _filters(request.args)
    names = countries()
    return recorded_export(
        file_format,
        f"audit-{release.series}-release-{release.id}",
        "Audit report",
        EXPORT_HEADER,
        (
            _export_cells(row, names)
            for row in reports.export_rows(release, filters, clock.utcnow())
        ),
        report="audit by release",
        subject=release,
        details={"filters": filters.args()},
    )


def _export_time(moment, timezone: str | None = None) -> str:
    """A moment as an export shows it: ISO-like, sortable as text; local ones with the
    zone's abbreviation."""
    if moment is None:
        return ""
    if timezone is None:
        return f"{moment:%Y-%m-%d %H:%M}"
    return f"{wall_time(moment, timezone):%Y-%m-%d %H:%M %Z}"


def _export_cells(row: CentreAudit, names: Mapping[str, str]) -> tuple:
    if row.downloaded:
        downloaded = "Yes"
    elif row.not_downloaded:
        downloaded = "Not downloaded"
    else:
        downloaded = "Window not yet open"
    return (
        row.number,
        row.name,
        names.get(row.country, row.country),
        row.zone,
        row.timezone,
        _export_time(row.opens_at, row.timezone),
        _export_time(row.opens_at),
        _export_time(row.closes_at, row.timezone),
        _export_time(row.closes_at),
        WINDOW_STATUSES[row.window],
        row.resources,
        _export_time(row.first_download_at),
        _export_time(row.first_download_at, row.timezone),
        row.first_download_by or "",
        row.downloads,
        downloaded,
        "Yes" if row.replaced else "",
        "Yes" if row.deleted else "",
    )
